using System.Globalization;

namespace GanOnnx;

/// <summary>Formats the time a progress line says is left (linked into both command lines).</summary>
internal static class TimeLeft
{
    /// <summary>"hh:mm:ss", "4d 12:18:44" past a day, "more than 999 days" past that, "unknown" for no rate yet.</summary>
    public static string Format(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds < 0) return "unknown";
        if (seconds >= 1000 * 86400.0) return "more than 999 days";
        var span = TimeSpan.FromSeconds(Math.Round(seconds));
        var clock = span.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
        return span.Days > 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.Days}d {clock}") : clock;
    }
}
