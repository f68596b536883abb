using System.Runtime.CompilerServices;

namespace GanOnnx.Runtime;

/// <summary>Argument checks with messages that name the argument and the allowed values.</summary>
internal static class Guard
{
    public static void Positive(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive; got {value}.");
    }

    public static void NonNegative(long value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative; got {value}.");
    }

    /// <summary>
    /// Indices <paramref name="startIndex"/> … + <paramref name="count"/> − 1 (count already checked): the start is not
    /// negative and the range ends before <see cref="long.MaxValue"/>, the rule <c>BatchExportOptions</c> applies too.
    /// </summary>
    public static void IndexRange(long startIndex, long count)
    {
        NonNegative(startIndex, nameof(startIndex));
        if (startIndex > long.MaxValue - count)
            throw new ArgumentOutOfRangeException(nameof(startIndex), startIndex,
                $"startIndex {startIndex} + count {count} is past the end of the index range: the last index is {long.MaxValue - 1}.");
    }

    public static void InRange(double value, double min, double max, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (!(value >= min && value <= max))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}]; got {value}.");
    }

    public static void AllFinite(ReadOnlySpan<float> values, [CallerArgumentExpression(nameof(values))] string? name = null)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                throw new ArgumentException($"{name} holds a non-finite value ({values[i]}) at position {i}; latents must be finite numbers.", name);
        }
    }
}
