using System.Globalization;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Writes one progress line per logged step: a bar, the step, losses, D(x), D(G(z)), how often the discriminator's head
/// named the fakes' category (<paramref name="headName"/>: "code" or "class"), steps/s and time left.
/// </summary>
internal sealed class TrainingProgress(TextWriter log, int totalSteps, int firstStep, string headName = "code")
{
    private readonly DateTime _started = DateTime.UtcNow;

    public void Report(StepMetrics m)
    {
        const int width = 20;
        var filled = (int)Math.Round(width * (double)m.Step / totalSteps);
        var done = m.Step - firstStep + 1;
        var rate = done / Math.Max((DateTime.UtcNow - _started).TotalSeconds, 1e-9);
        var left = TimeLeft.Format(rate > 0 ? (totalSteps - m.Step) / rate : double.NaN);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('-', width - filled)}] step {m.Step,6}/{totalSteps}  loss D {m.LossD:F4}  loss G {m.LossG:F4}  " +
            $"D(x) {m.DReal:F3}  D(G(z)) {m.DFake:F3}  {(m.CodeAccuracy is { } code ? $"{headName} {code:P0}  " : "")}{rate:F1} steps/s  {left} left"));
    }
}
