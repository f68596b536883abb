using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace GanOnnx.Tests;

/// <summary>
/// The Python peers in tests/peer: numpy_peer.py (an independent NumPy interpreter of the ONNX operators, in float64)
/// and torch_peer.py (PyTorch). Linked into each test project.
/// </summary>
internal static class PythonPeers
{
    private static readonly ConcurrentDictionary<string, string?> Found = new();

    /// <summary>A python3 that can import <paramref name="module"/>, or null: the one on PATH, then Debian's. Looked for
    /// once per module and test run (each probe starts a Python process).</summary>
    public static string? FindPython(string module) => Found.GetOrAdd(module, m =>
        new[] { "python3", "/usr/bin/python3", "/usr/local/bin/python3" }.FirstOrDefault(p => Run(p, ["-c", $"import {m}"]).Code == 0));

    /// <summary>Runs a peer script (tests/peer/<paramref name="script"/>) and returns its exit code and output.</summary>
    public static (int Code, string Output) RunPeer(string python, string script, params string[] arguments) =>
        Run(python, [Path.Combine(TestPaths.RepositoryRoot, "tests", "peer", script), .. arguments]);

    /// <summary>
    /// Writes a folder in <c>ganonnx dump</c>'s format (latents.f32, labels.i64 when given, images.f32, dump.json) from
    /// arrays a test made, so that a peer can compare its images with ONNX Runtime's.
    /// </summary>
    public static string WriteDump(float[] latents, long[]? labels, float[] images, int count, int latentDim, string provider = "cpu")
    {
        var folder = TestPaths.NewTempFolder();
        File.WriteAllBytes(Path.Combine(folder, "latents.f32"), MemoryMarshal.AsBytes(latents.AsSpan()).ToArray());
        if (labels is not null) File.WriteAllBytes(Path.Combine(folder, "labels.i64"), MemoryMarshal.AsBytes(labels.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "images.f32"), MemoryMarshal.AsBytes(images.AsSpan()).ToArray());
        File.WriteAllText(Path.Combine(folder, "dump.json"), JsonSerializer.Serialize(new Dictionary<string, object> { ["count"] = count, ["latent_dim"] = latentDim, ["provider"] = provider }));
        return folder;
    }

    private static (int Code, string Output) Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(300_000)) { process.Kill(entireProcessTree: true); return (-1, "timed out after 300 s"); }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message); // no such program
        }
    }
}
