using System.Text.Json;

namespace GanOnnx.Trainer;

/// <summary>Reads the JSON-lines files a run appends to (metrics.jsonl, eval.jsonl).</summary>
public static class JsonLines
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
