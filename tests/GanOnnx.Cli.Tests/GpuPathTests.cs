using System.Diagnostics;
using GanOnnx.Runtime;

namespace GanOnnx.Cli.Tests;

/// <summary>
/// What the CUDA path can show without a GPU: the preflight loads a folder of CUDA libraries in dependency order and
/// reports versions and devices (checked with stand-in libraries built by the C compiler, in a child process so that
/// they never reach the test process), and the exporter writes 8-bit pixels from the graph.
/// </summary>
public class GpuPathTests
{
    /// <summary>
    /// Stand-ins for the CUDA 13 / cuDNN 9 libraries with the sonames ONNX Runtime asks for. libcublas needs libcublasLt and
    /// libcudnn needs libcudnn_graph, neither on the loader's path: they load only when their dependency was loaded first.
    /// </summary>
    private static string BuildFakeCuda()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("The stand-in CUDA libraries are built for Linux.");
        var cc = new[] { "/usr/bin/cc", "/usr/bin/gcc" }.FirstOrDefault(File.Exists);
        if (cc is null) Assert.Ignore("No C compiler to build stand-in CUDA libraries.");
        var folder = TestPaths.NewTempFolder();
        var lib = Path.Combine(folder, "cuda", "lib");
        Directory.CreateDirectory(lib);
        var sources = new Dictionary<string, string>
        {
            ["libcuda.so.1"] = """
                #include <string.h>
                #include <stddef.h>
                int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
                int cuInit(unsigned f) { return 0; }
                int cuDeviceGetCount(int* c) { *c = 1; return 0; }
                int cuDeviceGet(int* d, int i) { *d = i; return 0; }
                int cuDeviceGetName(char* n, int len, int d) { strncpy(n, "Stand-in H200", len); return 0; }
                int cuDeviceTotalMem_v2(size_t* b, int d) { *b = (size_t)141 << 30; return 0; }
                int cuDeviceGetAttribute(int* v, int a, int d) { *v = a == 75 ? 9 : 0; return 0; }
                """,
            ["libcudart.so.13"] = "int cudaRuntimeGetVersion(int* v) { *v = 13000; return 0; }",
            ["libcudnn.so.9"] = "#include <stddef.h>\nsize_t cudnnGetVersion(void) { return 91400; }",
        };
        foreach (var name in new[] { "libcublasLt.so.13", "libcublas.so.13", "libcurand.so.10", "libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
                     "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9", "libcudnn.so.9" })
        {
            var source = Path.Combine(folder, name + ".c");
            File.WriteAllText(source, (sources.GetValueOrDefault(name) ?? "") + $"\nint stand_in_{name.Replace('.', '_')}(void) {{ return 0; }}\n");
            var dependency = name switch
            {
                "libcublas.so.13" => Path.Combine(lib, "libcublasLt.so.13"),
                "libcudnn.so.9" => Path.Combine(lib, "libcudnn_graph.so.9"),
                _ => "",
            };
            Compile(cc, $"-shared -fPIC -o {Path.Combine(lib, name)} -Wl,-soname,{name} {source} {dependency}");
        }
        foreach (var (name, code) in sources.Where(s => s.Key is "libcuda.so.1" or "libcudart.so.13"))
        {
            var source = Path.Combine(folder, name + ".c");
            File.WriteAllText(source, code);
            Compile(cc, $"-shared -fPIC -o {Path.Combine(lib, name)} -Wl,-soname,{name} {source}");
        }
        return folder;
    }

    private static void Compile(string cc, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(cc, arguments) { RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"cc {arguments}: {stderr}");
    }

    private static (int Code, string Output, string Error) RunChild(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "ganonnx.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("GANONNX_CUDA_PATH");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(60_000), Is.True, "ganonnx doctor did not finish in 60 s");
        return (process.ExitCode, output.Result, error);
    }

    [Test]
    public void DoctorLoadsAFolderOfCudaLibrariesInDependencyOrderAndReportsVersionsAndGpus()
    {
        var fake = BuildFakeCuda();
        var (code, output, error) = RunChild("doctor", "--cuda-path", fake);
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("supports CUDA 13.0").And.Contain("CUDA runtime: 13.0").And.Contain("cuDNN:        9.14.0"));
        Assert.That(output, Does.Contain("GPU 0:        Stand-in H200, compute capability 9.0, 141.0 GiB"));
        foreach (var name in new[] { "libcublasLt.so.13", "libcublas.so.13", "libcudnn_graph.so.9", "libcudnn.so.9" })
            Assert.That(output, Does.Match($@"ok\s+{name.Replace(".", @"\.")}\s+{Path.Combine(fake, "cuda", "lib").Replace(".", @"\.")}"), name);
        // The CPU build has no CUDA provider: doctor says so, and --require cuda fails on it.
        Assert.That(output, Does.Contain("Cuda      no: this build's ONNX Runtime has no CUDA provider"));
        var required = RunChild("doctor", "--cuda-path", fake, "--require", "cuda");
        Assert.That(required.Code, Is.EqualTo(1));
        Assert.That(required.Error, Does.Contain("not usable here: Cuda"));
    }

    [Test]
    public void DoctorWithoutCudaNamesTheMissingLibrariesAndStillSucceedsForTheCpu()
    {
        if (!OperatingSystem.IsLinux() || File.Exists("/usr/lib/x86_64-linux-gnu/libcuda.so.1")) Assert.Ignore("Needs a Linux machine without the NVIDIA driver.");
        var empty = TestPaths.NewTempFolder();
        var (code, output, _) = RunChild("doctor", "--cuda-path", empty, "--require", "cpu");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("MISSING libcublasLt.so.13").And.Contain("MISSING libcudnn.so.9").And.Contain(empty));
        Assert.That(output, Does.Contain("Cpu       yes"));
    }

    [Test]
    public void DoctorNamesItsOwnFlagForAnUnknownProvider()
    {
        // It said "--provider is 'tpu'", a flag doctor does not have.
        var (code, output, error) = CliRunner.Run("doctor", "--require", "cpu,tpu");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: --require has 'tpu'; choose among cpu, cuda, directml, dml."));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void CudaAskedForOnTheCpuBuildExitsOneNamingThePackage()
    {
        var (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--out", TestPaths.NewTempFolder(), "--provider", "cuda", "--quiet");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("Microsoft.ML.OnnxRuntime.Gpu"));
    }

    [Test]
    public void TheCudaTuningFlagsAreTakenByGenerateDumpAndBenchAndLeaveTheCpuAlone()
    {
        // --no-tf32, --cuda-nhwc and --cudnn-heuristic set CUDA provider options only: on the CPU the images are the same.
        string[] flags = ["--no-tf32", "--cuda-nhwc", "--cudnn-heuristic"];
        var plain = TestPaths.NewTempFolder();
        var tuned = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("dump", "--model", TestPaths.ShippedModel, "--count", "4", "--out", plain).Code, Is.Zero);
        var (code, output, error) = CliRunner.Run(["dump", "--model", TestPaths.ShippedModel, "--count", "4", "--out", tuned, "--compare", plain, "--tolerance", "0", .. flags]);
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("max abs difference"));
        (code, _, error) = CliRunner.Run(["generate", "--model", TestPaths.ShippedModel, "--count", "2", "--out", TestPaths.NewTempFolder(), "--quiet", .. flags]);
        Assert.That(code, Is.Zero, error);
        (code, _, error) = CliRunner.Run(["bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1", "--duration", "0.01", "--warmup", "0", .. flags]);
        Assert.That(code, Is.Zero, error);
        (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--out", TestPaths.NewTempFolder(), "--quiet", "--tf32");
        Assert.That(code, Is.Not.Zero, "an unknown flag is refused");
    }

    [Test]
    public void GenerateWritesTheFilesTheFloatPathWouldWrite()
    {
        // 'generate' takes 8-bit pixels from the graph; the library's float path encoded by ImageEncoder must give the same files.
        var folder = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "12", "--seed", "3", "--out", folder, "--quiet").Code, Is.Zero);
        using var session = GeneratorSession.Load(TestPaths.ShippedModel);
        var floats = session.Generate(12, seed: 3);
        for (var i = 0; i < 12; i++)
            Assert.That(File.ReadAllBytes(Path.Combine(folder, $"seed3-{i:D6}.png")), Is.EqualTo(Imaging.ImageEncoder.Encode(floats, i)), $"image {i}");

        // --png-compression none writes stored PNG files of the same pixels; a bad value is refused before any work.
        var stored = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--seed", "3", "--out", stored, "--quiet", "--png-compression", "none").Code, Is.Zero);
        Assert.That(File.ReadAllBytes(Path.Combine(stored, "seed3-000001.png")), Is.EqualTo(Imaging.ImageEncoder.Encode(floats, 1, png: Imaging.PngCompression.None)));
        var bad = TestPaths.NewTempFolder();
        var (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--out", bad, "--png-compression", "max");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--png-compression is 'max'; choose small or none."));
        Assert.That(Directory.GetFileSystemEntries(bad), Is.Empty);
        (code, _, error) = CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "2", "--out", bad, "--format", "jpeg", "--png-compression", "none");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--png-compression applies to PNG files; --format is jpeg."));
        Assert.That(Directory.GetFileSystemEntries(bad), Is.Empty);
    }

    [Test, CancelAfter(120_000)]
    public void GenerateEndsWithExitOneWhenEveryWriterFails()
    {
        // A folder where image 2 should go makes the only writer fail; the producer used to wait on the full queue for ever.
        var folder = TestPaths.NewTempFolder();
        Directory.CreateDirectory(Path.Combine(folder, "seed42-000002.png"));
        var run = Task.Run(() => CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "5000", "--threads", "1", "--batch-size", "8", "--out", folder, "--quiet"));
        Assert.That(run.Wait(TimeSpan.FromSeconds(90)), Is.True, "generate hung after its writer failed");
        Assert.That(run.Result.Code, Is.EqualTo(1));
        Assert.That(run.Result.Error, Does.Contain("seed42-000002.png"));
    }

    [Test]
    public void DumpsOfTheSameImagesCompareEqualAndOtherImagesFailTheTolerance()
    {
        var a = TestPaths.NewTempFolder();
        var b = TestPaths.NewTempFolder();
        var cdcgan = Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-cdcgan", "model.onnx");
        Assert.That(CliRunner.Run("dump", "--model", cdcgan, "--count", "8", "--out", a).Code, Is.Zero);
        Assert.That(new FileInfo(Path.Combine(a, "images.f32")).Length, Is.EqualTo(8 * 784 * 4));
        Assert.That(new FileInfo(Path.Combine(a, "labels.i64")).Length, Is.EqualTo(8 * 8));
        var same = CliRunner.Run("dump", "--model", cdcgan, "--count", "8", "--out", b, "--compare", a, "--tolerance", "0");
        Assert.That(same.Code, Is.Zero, same.Error);
        Assert.That(same.Output, Does.Contain("max abs difference from cpu"));
        using (var session = GeneratorSession.Load(cdcgan))
            Assert.That(same.Output, Does.Contain($"compared: model.onnx, raw weights, SHA-256 {session.ModelSha256[..12]}… on cpu against model.onnx, raw weights, SHA-256 {session.ModelSha256[..12]}… on cpu"));
        Assert.That(same.Output, Does.Not.Contain("note:"));
        // Another model's images of the same seed differ by far more than 1e-3: exit 1 with the figure.
        var other = CliRunner.Run("dump", "--model", TestPaths.ShippedModel, "--count", "8", "--out", TestPaths.NewTempFolder(), "--compare", a);
        Assert.That(other.Code, Is.EqualTo(1));
        Assert.That(other.Error, Does.Contain("more than --tolerance 0.001"));
        Assert.That(other.Output, Does.Contain("note: this dump comes from ema weights and '" + a + "' from raw weights"), "mnist-dcgan ships its average, mnist-cdcgan its raw weights");
        var mismatchFolder = TestPaths.NewTempFolder();
        var mismatch = CliRunner.Run("dump", "--model", cdcgan, "--count", "4", "--out", mismatchFolder, "--compare", a);
        Assert.That(mismatch.Code, Is.EqualTo(1));
        Assert.That(mismatch.Error, Does.Contain("holds 8 images (1×28×28) of seed 42 from index 0; this dump would be 4 (1×28×28)"));
        Assert.That(Directory.GetFileSystemEntries(mismatchFolder), Is.Empty, "refused before anything was written");
        // Images of another shape: the counts and seeds agree, so the message must name the shapes.
        var emoji = Path.Combine(TestPaths.RepositoryRoot, "models", "emoji-dcgan", "model.onnx");
        var shape = CliRunner.Run("dump", "--model", emoji, "--count", "8", "--out", TestPaths.NewTempFolder(), "--compare", a);
        Assert.That(shape.Code, Is.EqualTo(1));
        Assert.That(shape.Error, Does.Contain("holds 8 images (1×28×28) of seed 42 from index 0; this dump would be 8 (3×64×64) of seed 42 from 0"));
    }

    [Test]
    public void ThePyTorchPeerRunsTheSameWeightsAsOnnxRuntime()
    {
        // The peer reads the weights from the ONNX file; on the CPU its images must match ONNX Runtime's to float rounding,
        // for every shipped model (the GPU measurement benchmarks it on mnist-dcgan and emoji-dcgan).
        var python = PythonPeers.FindPython("torch");
        if (python is null) Assert.Ignore("No python3 with torch here (apt-get install --no-install-recommends python3-torch); .ci/run installs it.");
        var names = TestPaths.ShippedModelNames().ToArray();
        Assert.That(names, Does.Contain("emoji-dcgan").And.Contain("mnist-dcgan"));
        foreach (var name in names)
        {
            var model = Path.Combine(TestPaths.RepositoryRoot, "models", name, "model.onnx");
            var dump = TestPaths.NewTempFolder();
            Assert.That(CliRunner.Run("dump", "--model", model, "--count", "16", "--out", dump).Code, Is.Zero);
            var (code, output) = PythonPeers.RunPeer(python, "torch_peer.py", "compare", "--model", model, "--dump", dump, "--tolerance", "1e-4");
            Assert.That(code, Is.Zero, $"{name}: {output}");
            Assert.That(output, Does.Contain("max abs difference").And.Contain(": ok"));

            MoveOneImageValue(dump);
            var (wrong, wrongOutput) = PythonPeers.RunPeer(python, "torch_peer.py", "compare", "--model", model, "--dump", dump, "--tolerance", "1e-4");
            Assert.That(wrong, Is.EqualTo(1), $"{name} with one value moved by 0.01: {wrongOutput}");
            Assert.That(wrongOutput, Does.Contain("over the tolerance"));
        }
    }

    /// <summary>Moves one value of a dump's images by 0.01, so that a peer comparing against them must fail.</summary>
    private static void MoveOneImageValue(string dump)
    {
        var images = Path.Combine(dump, "images.f32");
        var values = File.ReadAllBytes(images);
        var moved = BitConverter.ToSingle(values, 400) + 0.01f;
        BitConverter.GetBytes(moved).CopyTo(values, 400);
        File.WriteAllBytes(images, values);
    }

    [Test]
    public void EveryShippedModelRunsInAnIndependentNumpyInterpreterAsInOnnxRuntime()
    {
        // numpy_peer.py implements the ONNX operators from their specification in float64: a second runtime that shares
        // no code with ONNX Runtime. Each shipped model's dump must match it, and must stop matching when one pixel moves.
        var python = PythonPeers.FindPython("numpy");
        if (python is null) Assert.Ignore("No python3 with numpy here (apt-get install python3-numpy); .ci/run installs it.");
        var names = TestPaths.ShippedModelNames().ToArray();
        Assert.That(names, Is.Not.Empty);
        foreach (var name in names)
        {
            var model = Path.Combine(TestPaths.RepositoryRoot, "models", name, "model.onnx");
            var dump = TestPaths.NewTempFolder();
            var run = CliRunner.Run("dump", "--model", model, "--count", "16", "--out", dump);
            Assert.That(run.Code, Is.Zero, run.Error);
            var (code, output) = PythonPeers.RunPeer(python, "numpy_peer.py", "compare", "--model", model, "--dump", dump, "--tolerance", "1e-4");
            Assert.That(code, Is.Zero, $"{name}: {output}");
            Assert.That(output, Does.Contain("max abs difference").And.Contain(": ok"));

            MoveOneImageValue(dump);
            var (wrong, wrongOutput) = PythonPeers.RunPeer(python, "numpy_peer.py", "compare", "--model", model, "--dump", dump, "--tolerance", "1e-4");
            Assert.That(wrong, Is.EqualTo(1), $"{name} with one value moved by 0.01: {wrongOutput}");
            Assert.That(wrongOutput, Does.Contain("over the tolerance"));
        }
    }

    [Test]
    public void AStaticBatchModelGeneratesAndInfoSaysTheBatchIsFixed()
    {
        var bytes = File.ReadAllBytes(TestPaths.ShippedModel);
        byte[] symbolic = [0x12, 0x05, .. "batch"u8];
        for (var i = bytes.AsSpan().IndexOf(symbolic); i >= 0; i = bytes.AsSpan().IndexOf(symbolic))
            new byte[] { 0x08, 0x01, 0x7A, 0x03, 0, 0, 0 }.CopyTo(bytes, i);
        var model = Path.Combine(TestPaths.NewTempFolder(), "static.onnx");
        File.WriteAllBytes(model, bytes);

        var info = CliRunner.Run("info", "--model", model);
        Assert.That(info.Code, Is.Zero, info.Error);
        Assert.That(info.Output, Does.Contain("z: float32[1, 100]").And.Contain("fixed at 1 by the graph"));
        var folder = TestPaths.NewTempFolder();
        var run = CliRunner.Run("generate", "--model", model, "--count", "5", "--out", folder, "--quiet");
        Assert.That(run.Code, Is.Zero, run.Error);
        var reference = TestPaths.NewTempFolder();
        Assert.That(CliRunner.Run("generate", "--model", TestPaths.ShippedModel, "--count", "5", "--out", reference, "--quiet").Code, Is.Zero);
        for (var i = 0; i < 5; i++)
            Assert.That(File.ReadAllBytes(Path.Combine(folder, $"seed42-{i:D6}.png")), Is.EqualTo(File.ReadAllBytes(Path.Combine(reference, $"seed42-{i:D6}.png"))));
    }

    [TestCase("--truncation", "2", "--truncation is 2")]
    [TestCase("--threads", "0", "--threads is 0")]
    [TestCase("--per-class", "1000000000000000000", "--per-class is 1000000000000000000")]
    public void BadOptionsAreNamedAsTheCommandLineSpellsThem(string option, string value, string message)
    {
        var model = option == "--per-class" ? Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-cdcgan", "model.onnx") : TestPaths.ShippedModel;
        var (code, _, error) = CliRunner.Run("generate", "--model", model, option, value, "--out", TestPaths.NewTempFolder(), "--quiet");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.StartWith("error: " + message));
    }
}
