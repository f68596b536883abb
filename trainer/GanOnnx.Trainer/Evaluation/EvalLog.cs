using System.Text.Json.Serialization;

namespace GanOnnx.Trainer.Evaluation;

/// <summary>Reads the eval.jsonl a run writes with <c>--eval-every</c>: one line per evaluation, raw and EMA scores.</summary>
public static class EvalLog
{
    /// <summary>One line of eval.jsonl.</summary>
    public sealed record Entry
    {
        /// <summary>The step evaluated.</summary>
        [JsonPropertyName("step")] public long Step { get; init; }
        /// <summary>Scores of the raw generator.</summary>
        [JsonPropertyName("generator")] public QualityScores? Generator { get; init; }
        /// <summary>Scores of the generator's EMA.</summary>
        [JsonPropertyName("ema")] public QualityScores? Ema { get; init; }
    }

    /// <summary>The evaluation with the lowest Fréchet distance: its step, whether it is the EMA's, and its scores.</summary>
    public sealed record BestEntry(long Step, bool Ema, QualityScores Scores);

    /// <summary>
    /// The entries of <paramref name="path"/> in step order. A step logged more than once (a run resumed from an earlier
    /// checkpoint) keeps its last line; a line torn by a crash is skipped.
    /// </summary>
    public static IReadOnlyList<Entry> Read(string path)
    {
        var byStep = new SortedDictionary<long, Entry>();
        foreach (var entry in JsonLines.Read<Entry>(path)) byStep[entry.Step] = entry;
        return [.. byStep.Values];
    }

    /// <summary>The lowest Fréchet distance in <paramref name="path"/>, raw or EMA; null when it holds no scores.</summary>
    public static BestEntry? Best(string path)
    {
        BestEntry? best = null;
        foreach (var entry in Read(path))
        {
            foreach (var (scores, ema) in new[] { (entry.Generator, false), (entry.Ema, true) })
            {
                if (scores is null || !double.IsFinite(scores.FrechetDistance)) continue;
                if (best is null || scores.FrechetDistance < best.Scores.FrechetDistance) best = new BestEntry(entry.Step, ema, scores);
            }
        }
        return best;
    }
}
