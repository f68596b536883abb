namespace GanOnnx.Imaging;

/// <summary>Progress of a batch export.</summary>
public readonly record struct ExportProgress(long Done, long Total, TimeSpan Elapsed);
