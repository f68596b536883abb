using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanOnnx.Cli;

/// <summary>One line of an export manifest (JSON lines): a finished image file and where it came from.</summary>
public sealed record ManifestEntry(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("index")] long Index,
    [property: JsonPropertyName("class")] long? Class,
    [property: JsonPropertyName("sha256")] string Sha256);

/// <summary>
/// The manifest of a batch export: appended one line per finished image (after the image is renamed into place), so that
/// a killed run can be resumed: entries whose file is still there with the same checksum are not written again.
/// </summary>
public sealed class Manifest : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly object _lock = new();

    private Manifest(StreamWriter writer, Dictionary<long, ManifestEntry> done)
    {
        _writer = writer;
        Done = done;
    }

    /// <summary>Entries already finished (by index) when the manifest was opened.</summary>
    public IReadOnlyDictionary<long, ManifestEntry> Done { get; }

    /// <summary>
    /// Opens (or creates) the manifest at <paramref name="path"/>. Existing lines are kept when their file exists in
    /// <paramref name="folder"/> with the recorded checksum; a torn last line from a crash is dropped. The file is then
    /// rewritten with just the kept lines.
    /// </summary>
    public static Manifest Open(string path, string folder, long seed, bool verifyChecksums = true)
    {
        var done = new Dictionary<long, ManifestEntry>();
        if (File.Exists(path))
        {
            foreach (var entry in JsonLines.Read<ManifestEntry>(path))
            {
                if (entry.Seed != seed) continue;
                var file = Path.Combine(folder, entry.File);
                if (!File.Exists(file)) continue;
                if (verifyChecksums && Checksum.Sha256Hex(File.ReadAllBytes(file)) != entry.Sha256) continue;
                done[entry.Index] = entry;
            }
        }
        var temp = path + ".partial";
        using (var rewrite = new StreamWriter(temp, append: false))
            foreach (var entry in done.Values.OrderBy(e => e.Index)) rewrite.WriteLine(JsonSerializer.Serialize(entry));
        File.Move(temp, path, overwrite: true);
        return new Manifest(new StreamWriter(path, append: true) { AutoFlush = false }, done);
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
