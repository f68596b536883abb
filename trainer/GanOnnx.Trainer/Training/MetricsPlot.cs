using System.Globalization;
using GanOnnx.Imaging;
using SkiaSharp;

namespace GanOnnx.Trainer.Training;

/// <summary>Plots a run's logged metrics as an image (PNG unless the file name asks for JPEG or WebP): losses in one panel, D(x) and D(G(z)) in another.</summary>
public static class MetricsPlot
{
    private const int Width = 720, PanelHeight = 240, Margin = 44;

    /// <summary>Draws <paramref name="metrics"/> and writes the image atomically; fewer than two points draws nothing.</summary>
    public static bool Save(IReadOnlyList<StepMetrics> metrics, string path)
    {
        var format = ImageEncoder.FormatOf(path);
        if (metrics.Count < 2) return false;
        using var bitmap = new SKBitmap(new SKImageInfo(Width, 2 * PanelHeight, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            Panel(canvas, 0, "loss", metrics, [("loss D", SKColors.SteelBlue, m => m.LossD), ("loss G", SKColors.DarkOrange, m => m.LossG)]);
            Panel(canvas, PanelHeight, "discriminator output", metrics, [("D(x)", SKColors.SeaGreen, m => m.DReal), ("D(G(z))", SKColors.Firebrick, m => m.DFake)]);
        }
        ImageEncoder.Save(bitmap, path, format);
        return true;
    }

    private static void Panel(SKCanvas canvas, int top, string title, IReadOnlyList<StepMetrics> metrics,
        (string Name, SKColor Color, Func<StepMetrics, float> Value)[] series)
    {
        var values = series.SelectMany(s => metrics.Select(s.Value)).Where(float.IsFinite).ToArray();
        var min = values.Min();
        var max = Math.Max(values.Max(), min + 1e-6f);
        var firstStep = metrics[0].Step;
        var lastStep = Math.Max(metrics[^1].Step, firstStep + 1);
        float X(int step) => Margin + (Width - 2 * Margin) * (step - firstStep) / (float)(lastStep - firstStep);
        float Y(float v) => top + PanelHeight - Margin + (-(PanelHeight - 2 * Margin)) * (v - min) / (max - min);

        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1 };
        using var text = new SKPaint { Color = SKColors.Black, TextSize = 12, IsAntialias = true };
        canvas.DrawLine(Margin, top + PanelHeight - Margin, Width - Margin, top + PanelHeight - Margin, axis);
        canvas.DrawLine(Margin, top + Margin, Margin, top + PanelHeight - Margin, axis);
        canvas.DrawText(title, Margin, top + 18, text);
        canvas.DrawText(max.ToString("G3", CultureInfo.InvariantCulture), 2, top + Margin + 4, text);
        canvas.DrawText(min.ToString("G3", CultureInfo.InvariantCulture), 2, top + PanelHeight - Margin + 4, text);
        canvas.DrawText($"step {firstStep}", Margin, top + PanelHeight - Margin + 16, text);
        var lastLabel = $"step {metrics[^1].Step}";
        canvas.DrawText(lastLabel, Width - Margin - text.MeasureText(lastLabel), top + PanelHeight - Margin + 16, text);

        var legendX = Margin + 200f;
        foreach (var (name, color, value) in series)
        {
            using var line = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var pathShape = new SKPath();
            var started = false;
            foreach (var m in metrics)
            {
                var v = value(m);
                if (!float.IsFinite(v)) continue;
                if (!started) pathShape.MoveTo(X(m.Step), Y(v));
                else pathShape.LineTo(X(m.Step), Y(v));
                started = true;
            }
            canvas.DrawPath(pathShape, line);
            using var swatch = new SKPaint { Color = color };
            canvas.DrawRect(legendX, top + 9, 12, 12, swatch);
            canvas.DrawText(name, legendX + 16, top + 19, text);
            legendX += 110;
        }
    }
}
