using System.Text.Json.Serialization;

namespace GanOnnx.Imaging;

/// <summary>
/// One line of an export manifest (JSON lines): a finished image file, where it came from, and what made it (the model's
/// SHA-256 and the options that change its bytes), so that a rerun can tell its own files from another job's.
/// </summary>
public sealed record ManifestEntry(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("index")] long Index,
    [property: JsonPropertyName("class")] long? Class,
    [property: JsonPropertyName("sha256")] string Sha256)
{
    /// <summary>What made the file; null in manifests written before this field existed.</summary>
    [JsonPropertyName("made_by")]
    public ExportRecipe? MadeBy { get; init; }
}
