using System.Text;
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

    /// <summary>
    /// Rewrites <paramref name="path"/> (atomically) without the lines whose <c>step</c> (or <c>Step</c>) is after
    /// <paramref name="lastStep"/>, and without lines torn by a crash: what a run resumed from <paramref name="lastStep"/>
    /// logs again. Returns how many lines were dropped; a missing file drops none.
    /// </summary>
    public static int KeepThroughStep(string path, long lastStep)
    {
        if (!File.Exists(path)) return 0;
        var kept = new List<string>();
        var dropped = 0;
        foreach (var text in File.ReadLines(path))
        {
            if (StepOf(text) is { } step && step <= lastStep) kept.Add(text);
            else if (text.Length > 0) dropped++;
        }
        if (dropped == 0) return 0;
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(string.Concat(kept.Select(line => line + Environment.NewLine))));
        return dropped;
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            foreach (var property in document.RootElement.EnumerateObject())
                if (property.NameEquals("step") || property.NameEquals("Step"))
                    return property.Value.TryGetInt64(out var step) ? step : null;
            return null;
        }
        catch (JsonException)
        {
            return null; // torn by a crash
        }
    }
}
