using GanOnnx.Runtime;
using System.Diagnostics;

namespace GanOnnx.Diagnostics;

/// <summary>How long and how hard a benchmark runs.</summary>
public sealed record BenchmarkSettings
{
    /// <summary>Untimed calls before timing. Default 5.</summary>
    public int WarmupIterations { get; init; } = 5;
    /// <summary>Timing stops after this long (or after <see cref="MaxIterations"/> calls). Default 3 s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Timing stops after this many calls (or after <see cref="Duration"/>). Default 10,000.</summary>
    public int MaxIterations { get; init; } = 10_000;
    /// <summary>At least this many timed calls, even past the duration. Default 10.</summary>
    public int MinIterations { get; init; } = 10;

    /// <summary>Throws <see cref="GanOnnxException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (WarmupIterations < 0) throw new GanOnnxException($"--warmup is {WarmupIterations}; it must be 0 or more.");
        if (Duration <= TimeSpan.Zero) throw new GanOnnxException($"--duration is {Duration.TotalSeconds} s; it must be positive.");
        if (MinIterations < 1 || MaxIterations < MinIterations)
            throw new GanOnnxException($"--iterations must be at least {Math.Max(1, MinIterations)}; got {MaxIterations}.");
    }
}

/// <summary>Times targets after warm-up and summarises the latencies.</summary>
public static class InferenceBenchmark
{
    /// <summary>Creates a target (timed), runs it once (timed), warms it up, then times calls of <paramref name="batch"/> images.</summary>
    public static BenchmarkResult Measure(Func<IBenchmarkTarget> create, int batch, int threads, BenchmarkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(create);
        settings.Validate();
        if (batch < 1) throw new GanOnnxException($"batch size {batch} must be at least 1.");
        var t0 = Stopwatch.GetTimestamp();
        using var target = create();
        var createMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;

        t0 = Stopwatch.GetTimestamp();
        target.Run(batch);
        var firstMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        for (var i = 0; i < settings.WarmupIterations; i++) target.Run(batch);

        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        while (latencies.Count < settings.MinIterations || (total.Elapsed < settings.Duration && latencies.Count < settings.MaxIterations))
        {
            t0 = Stopwatch.GetTimestamp();
            target.Run(batch);
            latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        var sorted = latencies.Order().ToArray();
        using var process = Process.GetCurrentProcess();
        return new BenchmarkResult
        {
            Target = target.Name,
            GpuMemoryMiB = (target as OnnxRuntimeTarget)?.GpuMemoryMiB,
            SubPixel = (target as OnnxRuntimeTarget)?.Session.SubPixelRewrites,
            Batch = batch,
            Threads = threads,
            CreateMs = createMs,
            FirstRunMs = firstMs,
            Iterations = latencies.Count,
            P50Ms = Percentile(sorted, 0.50),
            P90Ms = Percentile(sorted, 0.90),
            P99Ms = Percentile(sorted, 0.99),
            MaxMs = sorted[^1],
            ImagesPerSecond = batch * latencies.Count / (latencies.Sum() / 1000.0),
            PeakMemoryMiB = process.PeakWorkingSet64 / (1024.0 * 1024.0),
            LatenciesMs = latencies,
        };
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
