using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GanOnnx.Diagnostics;

/// <summary>Formats benchmark results as a text table, Markdown or JSON.</summary>
public static class BenchmarkReport
{
    private static readonly string[] Headers = ["target", "model", "output", "batch", "threads", "create ms", "first ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "images/s", "peak MiB", "GPU MiB", "calls"];

    private static string[] Row(BenchmarkResult r) =>
    [
        r.Target + (r.CudaGraph ? "+graph" : "") + (r.SubPixel > 0 ? "+subpixel" : "") + CudaSuffix(r), r.Model, r.Output, I(r.Batch), r.Threads == 0 ? "auto" : I(r.Threads), F(r.CreateMs, 1), F(r.FirstRunMs, 1),
        F(r.P50Ms, 3), F(r.P90Ms, 3), F(r.P99Ms, 3), F(r.MaxMs, 3), F(r.ImagesPerSecond, 0), F(r.PeakMemoryMiB, 0),
        r.GpuMemoryMiB is { } gpu ? F(gpu, 0) : "-", I(r.Iterations),
    ];

    /// <summary>What a CUDA row ran that is not the default: "-notf32", "-nhwc", "-heuristic".</summary>
    private static string CudaSuffix(BenchmarkResult r) =>
        (r.Tf32 == false ? "-notf32" : "") + (r.CudaNhwc == true ? "-nhwc" : "") + (r.CudnnExhaustive == false ? "-heuristic" : "");

    /// <summary>A fixed-width text table.</summary>
    public static string Table(IReadOnlyList<BenchmarkResult> results)
    {
        var rows = results.Select(Row).Prepend(Headers).ToList();
        var widths = Enumerable.Range(0, Headers.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var row in rows)
            sb.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        return sb.ToString();
    }

    /// <summary>A Markdown table.</summary>
    public static string Markdown(IReadOnlyList<BenchmarkResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", Headers) + " |");
        sb.AppendLine("|" + string.Concat(Headers.Select((_, c) => c == 0 ? "---|" : "---:|")));
        foreach (var r in results) sb.AppendLine("| " + string.Join(" | ", Row(r)) + " |");
        return sb.ToString();
    }

    /// <summary>JSON (latencies included).</summary>
    /// <summary>The rows as a JSON array.</summary>
    public static string Json(IReadOnlyList<BenchmarkResult> results) =>
        JsonSerializer.Serialize(results, JsonOptions);

    /// <summary>
    /// The record <c>ganonnx bench --json</c> writes: an object whose <c>results</c> are the rows, beside the
    /// <paramref name="sections"/> measured with them (where the time goes, the files comparison), in the same naming.
    /// </summary>
    public static string Json(IReadOnlyList<BenchmarkResult> results, IReadOnlyDictionary<string, object> sections)
    {
        var record = new Dictionary<string, object> { ["tool"] = "ganonnx bench", ["results"] = results };
        foreach (var (name, value) in sections) record[name] = value;
        return JsonSerializer.Serialize(record, JsonOptions);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string F(double v, int digits) => v.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
