using GanOnnx.Imaging;
using System.Globalization;
using SkiaSharp;

namespace GanOnnx.Diagnostics;

/// <summary>Draws latency histograms of benchmark results as an image (PNG, JPEG or WebP by the file name): one panel per result, p50 and p99 marked.</summary>
public static class LatencyHistogram
{
    private const int PanelWidth = 480, PanelHeight = 160, Bins = 40;

    /// <summary>Renders the histograms and writes them atomically to <paramref name="path"/>.</summary>
    public static void Save(IReadOnlyList<BenchmarkResult> results, string path)
    {
        if (results.Count == 0) throw new ArgumentException("there are no results to draw.", nameof(results));
        var format = ImageEncoder.FormatOf(path);
        using var bitmap = new SKBitmap(new SKImageInfo(PanelWidth, PanelHeight * results.Count, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var bar = new SKPaint { Color = new SKColor(70, 110, 180), IsAntialias = false };
            using var marker = new SKPaint { Color = SKColors.Firebrick, StrokeWidth = 2 };
            using var text = new SKPaint { Color = SKColors.Black, TextSize = 12, IsAntialias = true };
            for (var r = 0; r < results.Count; r++)
            {
                var result = results[r];
                var top = r * PanelHeight;
                var lat = result.LatenciesMs;
                var min = lat.Min();
                var max = Math.Max(lat.Max(), min + 1e-6);
                var counts = new int[Bins];
                foreach (var v in lat) counts[Math.Min(Bins - 1, (int)((v - min) / (max - min) * Bins))]++;
                var tallest = Math.Max(1, counts.Max());
                const float left = 10, plotTop = 22, plotHeight = PanelHeight - 44;
                var binWidth = (PanelWidth - 20f) / Bins;
                for (var b = 0; b < Bins; b++)
                {
                    var h = plotHeight * counts[b] / tallest;
                    canvas.DrawRect(left + b * binWidth, top + plotTop + plotHeight - h, binWidth - 1, h, bar);
                }
                foreach (var p in new[] { result.P50Ms, result.P99Ms })
                {
                    var x = left + (float)((p - min) / (max - min)) * (PanelWidth - 20f);
                    canvas.DrawLine(x, top + plotTop, x, top + plotTop + plotHeight, marker);
                }
                var title = string.Create(CultureInfo.InvariantCulture,
                    $"{result.Target}  batch {result.Batch}  threads {(result.Threads == 0 ? "auto" : result.Threads)}  p50 {result.P50Ms:F2} ms  p99 {result.P99Ms:F2} ms");
                canvas.DrawText(title, left, top + 15, text);
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{min:F2} ms"), left, top + PanelHeight - 6, text);
                var maxLabel = string.Create(CultureInfo.InvariantCulture, $"{max:F2} ms");
                canvas.DrawText(maxLabel, PanelWidth - 10 - text.MeasureText(maxLabel), top + PanelHeight - 6, text);
            }
        }
        ImageEncoder.Save(bitmap, path, format);
    }
}
