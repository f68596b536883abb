using GanOnnx.Imaging;
using System.Globalization;

namespace GanOnnx.Cli;

/// <summary>
/// Prints export progress to a writer: a line rewritten in place on a terminal, a plain line every 5 seconds otherwise.
/// Reports come from several threads; printing is throttled.
/// </summary>
internal sealed class ProgressPrinter(TextWriter writer) : IProgress<ExportProgress>, IDisposable
{
    private readonly bool _interactive = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
    private readonly object _lock = new();
    private long _lastTicks;
    private ExportProgress _last;
    private bool _printed;

    public void Report(ExportProgress value)
    {
        lock (_lock)
        {
            _last = value;
            var interval = _interactive ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
            if (value.Elapsed.Ticks - _lastTicks < interval.Ticks && value.Done < value.Total) return;
            _lastTicks = value.Elapsed.Ticks;
            Print(value);
        }
    }

    public void Finish()
    {
        lock (_lock)
        {
            if (_printed && _interactive) writer.WriteLine();
        }
    }

    public void Dispose() { }

    private void Print(ExportProgress p)
    {
        var rate = p.Done / Math.Max(p.Elapsed.TotalSeconds, 1e-9);
        var left = TimeLeft.Format(rate > 0 ? (p.Total - p.Done) / rate : double.NaN);
        var percent = p.Total == 0 ? 100 : 100.0 * p.Done / p.Total;
        var line = string.Create(CultureInfo.InvariantCulture, $"{p.Done}/{p.Total} images ({percent:F1}%), {rate:F0} images/s, {left} left");
        if (_interactive) writer.Write("\r" + line.PadRight(70));
        else writer.WriteLine(line);
        _printed = true;
    }
}
