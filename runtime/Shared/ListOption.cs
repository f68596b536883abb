using System.Globalization;
using GanOnnx.Runtime;

namespace GanOnnx;

/// <summary>Parses comma-separated option values such as "1,16,256" (linked into both command lines).</summary>
internal static class ListOption
{
    public static int[] Ints(string option, string text, int min, int max = int.MaxValue)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                throw new GanOnnxException($"{option} is '{text}'; it must be a comma-separated list of whole numbers "
                    + (max == int.MaxValue ? $"of at least {min}." : $"from {min} to {max}."));
            values.Add(v);
        }
        if (values.Count == 0) throw new GanOnnxException($"{option} is empty; give at least one value.");
        return values.ToArray();
    }

    public static long[] Longs(string option, string text)
    {
        var values = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
                throw new GanOnnxException($"{option} is '{text}'; it must be a comma-separated list of whole numbers.");
            values.Add(v);
        }
        return values.ToArray();
    }

    /// <summary>Lower-case words from <paramref name="allowed"/>, in the order given, each once.</summary>
    public static string[] Words(string option, string text, IReadOnlyCollection<string> allowed)
    {
        var words = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToLowerInvariant()).Distinct().ToArray();
        if (words.Length == 0) throw new GanOnnxException($"{option} is empty; give at least one of {string.Join(", ", allowed)}.");
        foreach (var word in words)
            if (!allowed.Contains(word)) throw new GanOnnxException($"{option} has '{word}'; choose among {string.Join(", ", allowed)}.");
        return words;
    }
}
