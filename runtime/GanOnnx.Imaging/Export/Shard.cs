using System.Globalization;
using GanOnnx.Runtime;

namespace GanOnnx.Imaging;

/// <summary>
/// Shard <c>i/n</c> of a job: a contiguous slice of the image indices, so that n machines together write exactly the
/// files one machine would.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole job.</summary>
    public static Shard All => new(0, 1);

    /// <summary>The slice [first, first + length) of [start, start + total) that this shard writes.</summary>
    public (long First, long Length) Slice(long start, long total)
    {
        // In 128 bits: total × (i + 1) passes 2⁶³ for jobs past 2⁶³ / n images.
        var from = (long)((Int128)total * Index / Count);
        var to = (long)((Int128)total * (Index + 1) / Count);
        return (start + from, to - from);
    }

    /// <summary>Parses "i/n" (0 ≤ i &lt; n); <paramref name="name"/> names the value in the message when it is not.</summary>
    public static Shard Parse(string text, string name = "The shard")
    {
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n >= 1 && i < n)
            return new Shard(i, n);
        throw new GanOnnxException($"{name} is '{text}'; it must be i/n with 0 ≤ i < n, e.g. 0/4.");
    }

    /// <summary>
    /// The shard from a Kubernetes Indexed Job: JOB_COMPLETION_INDEX gives i; n comes from <paramref name="count"/>
    /// (the job's completions, which Kubernetes does not put in the environment) or GANONNX_SHARDS. Null when not in such a
    /// job. <paramref name="countName"/> names <paramref name="count"/> in the message when neither gives n.
    /// </summary>
    public static Shard? FromEnvironment(int? count, Func<string, string?>? getEnvironment = null, string countName = "the number of shards")
    {
        getEnvironment ??= Environment.GetEnvironmentVariable;
        var index = getEnvironment("JOB_COMPLETION_INDEX");
        if (string.IsNullOrEmpty(index)) return null;
        if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            throw new GanOnnxException($"JOB_COMPLETION_INDEX is '{index}', not a whole number.");
        var n = count ?? (int.TryParse(getEnvironment("GANONNX_SHARDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var fromEnv) ? fromEnv : 0);
        if (n < 1)
            throw new GanOnnxException($"JOB_COMPLETION_INDEX is set but the number of shards is not: give {countName} (the job's completions) or set GANONNX_SHARDS.");
        if (i >= n) throw new GanOnnxException($"JOB_COMPLETION_INDEX {i} is not below the number of shards {n}.");
        return new Shard(i, n);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
