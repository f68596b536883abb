using System.Text.Json;

namespace GanOnnx;

/// <summary>
/// Reads the JSON-lines files that runs append to: the trainer's metrics.jsonl and eval.jsonl, the CLI's manifest.jsonl.
/// Compiled into both (linked source), so that neither package exposes it.
/// </summary>
internal static class JsonLines
{
    /// <summary>The records of <paramref name="path"/>, one per line; a line torn by a crash is skipped.</summary>
    public static IEnumerable<T> Read<T>(string path)
    {
        foreach (var text in File.ReadLines(path))
        {
            T? record;
            try
            {
                record = JsonSerializer.Deserialize<T>(text);
            }
            catch (JsonException)
            {
                continue; // a line torn by a crash
            }
            if (record is not null) yield return record;
        }
    }
}
