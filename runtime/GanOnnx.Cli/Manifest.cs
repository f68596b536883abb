using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanOnnx.Cli;

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

/// <summary>Everything besides seed and index that decides an exported file's bytes.</summary>
/// <param name="ModelSha256">SHA-256 of the model file.</param>
/// <param name="Format">png, jpeg or webp.</param>
/// <param name="Quality">JPEG/WebP quality (0 for PNG, which has none).</param>
/// <param name="Truncation">Truncation ψ of the latents.</param>
/// <param name="RequestedClass">The class asked for with --class, or null for the model's own mix.</param>
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
        if (other.RequestedClass != RequestedClass) parts.Add(other.RequestedClass is { } c ? $"--class {c}" : "no --class");
        return string.Join(", ", parts);
    }
}

/// <summary>
/// The manifest of a batch export: appended one line per finished image (after the image is renamed into place), so that
/// a killed run can be resumed and a rerun can tell which files are its own. Every line whose file is still there with the
/// recorded checksum is kept, whatever job made it; the last line for a file wins.
/// </summary>
public sealed class Manifest : IDisposable
{
    private readonly object _lock = new();

    private StreamWriter _writer;
    private readonly string _path;
    private readonly Dictionary<string, ManifestEntry> _entries;

    private Manifest(string path, Dictionary<string, ManifestEntry> entries)
    {
        _path = path;
        _entries = entries;
        _writer = Rewrite(path, entries.Values);
    }

    /// <summary>The files the manifest lists (by file name) when it was opened, each whole on disk.</summary>
    public IReadOnlyDictionary<string, ManifestEntry> Entries => _entries;

    /// <summary>Whether <paramref name="file"/> is listed as made by <paramref name="recipe"/> (and is whole on disk).</summary>
    public bool IsDone(string file, ExportRecipe recipe) => Entries.TryGetValue(file, out var entry) && entry.MadeBy == recipe;

    /// <summary>
    /// Opens (or creates) the manifest at <paramref name="path"/>. Existing lines are kept when their file exists in
    /// <paramref name="folder"/> with the recorded checksum; a torn line from a crash is dropped; for a file listed twice
    /// the last line wins. The file is then rewritten with just the kept lines.
    /// </summary>
    public static Manifest Open(string path, string folder, bool verifyChecksums = true)
    {
        var entries = new Dictionary<string, ManifestEntry>();
        if (File.Exists(path))
        {
            foreach (var entry in JsonLines.Read<ManifestEntry>(path))
            {
                var file = Path.Combine(folder, entry.File);
                if (!File.Exists(file)) continue;
                if (verifyChecksums && Checksum.Sha256Hex(File.ReadAllBytes(file)) != entry.Sha256) continue;
                entries[entry.File] = entry;
            }
        }
        return new Manifest(path, entries);
    }

    /// <summary>
    /// Drops the lines of <paramref name="files"/> (which are about to be replaced) from the manifest, on disk at once: a
    /// crash before their new lines leaves them unlisted, and the next run writes them again.
    /// </summary>
    public void Forget(IEnumerable<string> files)
    {
        lock (_lock)
        {
            foreach (var file in files) _entries.Remove(file);
            _writer.Dispose();
            _writer = Rewrite(_path, _entries.Values);
        }
    }

    /// <summary>Rewrites the manifest atomically with <paramref name="entries"/> and opens it for appending.</summary>
    private static StreamWriter Rewrite(string path, IEnumerable<ManifestEntry> entries)
    {
        var temp = path + ".partial";
        using (var rewrite = new StreamWriter(temp, append: false))
            foreach (var entry in entries.OrderBy(e => e.Seed).ThenBy(e => e.Index).ThenBy(e => e.File, StringComparer.Ordinal))
                rewrite.WriteLine(JsonSerializer.Serialize(entry));
        File.Move(temp, path, overwrite: true);
        return new StreamWriter(path, append: true) { AutoFlush = false };
    }

    /// <summary>
    /// Appends a finished image (thread-safe). The line reaches the file at the next <see cref="Flush"/>: a line lost in a
    /// crash only means that its image, whole on disk, is written again by the next run.
    /// </summary>
    public void Add(ManifestEntry entry)
    {
        var line = JsonSerializer.Serialize(entry);
        lock (_lock) _writer.WriteLine(line);
    }

    /// <summary>Writes the lines added so far to the file (thread-safe).</summary>
    public void Flush()
    {
        lock (_lock) _writer.Flush();
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}

/// <summary>Checksums of written files.</summary>
public static class Checksum
{
    /// <summary>Lower-case hex SHA-256.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

}
