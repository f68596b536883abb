using System.Text.Json.Serialization;

namespace GanOnnx.Imaging;

/// <summary>Everything besides seed and index that decides an exported file's bytes.</summary>
/// <param name="ModelSha256">SHA-256 of the model file.</param>
/// <param name="Format">png, jpeg or webp.</param>
/// <param name="Quality">JPEG/WebP quality (0 for PNG, which has none).</param>
/// <param name="Truncation">Truncation ψ of the latents.</param>
/// <param name="RequestedClass">The class asked for (BatchExportOptions.ClassIndex), or null for the model's own mix.</param>
public sealed record ExportRecipe(
    [property: JsonPropertyName("model_sha256")] string ModelSha256,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("quality")] int Quality,
    [property: JsonPropertyName("truncation")] float Truncation,
    [property: JsonPropertyName("requested_class")] int? RequestedClass)
{
    /// <summary>Says how <paramref name="other"/> differs from this recipe, for messages.</summary>
    public string Difference(ExportRecipe? other)
    {
        if (other is null) return "an older ganonnx that did not record what made its files";
        var parts = new List<string>();
        if (other.ModelSha256 != ModelSha256) parts.Add($"another model (SHA-256 {other.ModelSha256[..12]}…)");
        if (other.Format != Format || other.Quality != Quality) parts.Add($"{other.Format} quality {other.Quality}");
        if (other.Truncation != Truncation) parts.Add($"truncation {other.Truncation}");
        if (other.RequestedClass != RequestedClass) parts.Add(other.RequestedClass is { } c ? $"class {c}" : "no class asked for");
        return string.Join(", ", parts);
    }
}
