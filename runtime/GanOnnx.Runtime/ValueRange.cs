using System.Globalization;

namespace GanOnnx.Runtime;

/// <summary>The range of a generator's output values: [-1, 1] for tanh, [0, 1] for sigmoid.</summary>
/// <param name="Min">The value that maps to black (0).</param>
/// <param name="Max">The value that maps to white (255).</param>
public readonly record struct ValueRange(float Min, float Max)
{
    /// <summary>[-1, 1], the output of a tanh layer.</summary>
    public static ValueRange Tanh => new(-1f, 1f);

    /// <summary>[0, 1], the output of a sigmoid layer.</summary>
    public static ValueRange Sigmoid => new(0f, 1f);

    /// <summary>Formats as "min,max" with the invariant culture (the metadata form).</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Min},{Max}");

    /// <summary>Parses the "min,max" metadata form; returns false for anything else or for min ≥ max.</summary>
    public static bool TryParse(string? text, out ValueRange range)
    {
        range = default;
        var parts = text?.Split(',');
        if (parts is not { Length: 2 }) return false;
        if (!float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)) return false;
        if (!float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var max)) return false;
        if (!(min < max) || !float.IsFinite(min) || !float.IsFinite(max)) return false;
        range = new ValueRange(min, max);
        return true;
    }
}
