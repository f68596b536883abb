using System.Text.Json;
using System.Text.Json.Serialization;

namespace GanOnnx.Imaging;

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
        AtomicFile.Write(path, file =>
        {
            using var rewrite = new StreamWriter(file, leaveOpen: true);
            foreach (var entry in entries.OrderBy(e => e.Seed).ThenBy(e => e.Index).ThenBy(e => e.File, StringComparer.Ordinal))
                rewrite.WriteLine(JsonSerializer.Serialize(entry));
        });
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
internal static class Checksum
{
    /// <summary>Lower-case hex SHA-256.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}
