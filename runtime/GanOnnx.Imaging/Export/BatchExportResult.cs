namespace GanOnnx.Imaging;

/// <summary>What a batch export did, and where its time went.</summary>
public sealed record BatchExportResult(long Written, long Skipped, long ShardImages, TimeSpan Elapsed, TimeSpan InferenceTime, TimeSpan EncodeTime, string ManifestPath)
{
    /// <summary>Images written per second of wall time.</summary>
    public double ImagesPerSecond => Written / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
