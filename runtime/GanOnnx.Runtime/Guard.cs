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
    /// <paramref name="count"/> images of <paramref name="valuesPerImage"/> values fit in one .NET array (at most
    /// <see cref="Array.MaxLength"/> elements); more used to end in "Arithmetic operation resulted in an overflow".
    /// </summary>
    public static void FitsOneArray(int count, int valuesPerImage, [CallerArgumentExpression(nameof(count))] string? name = null)
    {
        if ((long)count * valuesPerImage > Array.MaxLength)
            throw new ArgumentOutOfRangeException(name, count, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{count:N0} images of {valuesPerImage:N0} values are {(long)count * valuesPerImage:N0} values, more than one array holds ({Array.MaxLength:N0}); generate them in parts (GenerateInto with a buffer you reuse, or GenerateBatchesAsync)."));
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
