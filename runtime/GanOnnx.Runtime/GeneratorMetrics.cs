using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GanOnnx.Runtime;

/// <summary>
/// The runtime's metrics, on the <see cref="Meter"/> named <see cref="MeterName"/> (System.Diagnostics.Metrics: read them
/// with OpenTelemetry's <c>AddMeter("GanOnnx.Runtime")</c>, <c>dotnet-counters monitor --counters GanOnnx.Runtime</c> or a
/// <see cref="MeterListener"/>). Every measurement carries the model's file name (<c>ganonnx.model</c>), the provider
/// (<c>ganonnx.provider</c>: cpu, cuda, directml) and what the call returns (<c>ganonnx.output</c>: float, uint8 or
/// device):
/// <list type="bullet">
/// <item><c>ganonnx.generator.images</c> (counter, {image}): images generated;</item>
/// <item><c>ganonnx.generator.batch.duration</c> (histogram, s): one inference call, from drawing its latents to its
/// images in the session's buffers (on the device for device output), without the copy into the caller's memory;</item>
/// <item><c>ganonnx.generator.load.duration</c> (histogram, s): loading a model into a session (provider, optimization).</item>
/// </list>
/// With no listener a call costs one flag test.
/// </summary>
public static class GeneratorMetrics
{
    /// <summary>The name of the runtime's meter.</summary>
    public const string MeterName = "GanOnnx.Runtime";

    private static readonly Meter Meter = new(MeterName, typeof(GeneratorMetrics).Assembly.GetName().Version?.ToString(3));

    internal static readonly Counter<long> Images = Meter.CreateCounter<long>("ganonnx.generator.images", "{image}", "Images generated.");

    internal static readonly Histogram<double> BatchDuration = Meter.CreateHistogram<double>("ganonnx.generator.batch.duration", "s",
        "One inference call: its latents drawn, the model run, its images in the session's buffers.");

    internal static readonly Histogram<double> LoadDuration = Meter.CreateHistogram<double>("ganonnx.generator.load.duration", "s",
        "Loading a model into a session.");

    /// <summary>A timestamp to pass to <see cref="RecordBatch"/>; 0 when nobody listens to the batch instruments.</summary>
    internal static long Start() => Images.Enabled || BatchDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records one call of <paramref name="images"/> images begun at <paramref name="start"/>.</summary>
    internal static void RecordBatch(long start, int images, KeyValuePair<string, object?>[] tags)
    {
        if (start == 0) return;
        Images.Add(images, tags);
        BatchDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, tags);
    }

    /// <summary>The tags of a session's measurements for one kind of output.</summary>
    internal static KeyValuePair<string, object?>[] Tags(string model, ExecutionProvider provider, string output) =>
    [
        new("ganonnx.model", model),
        new("ganonnx.provider", provider.ToString().ToLowerInvariant()),
        new("ganonnx.output", output),
    ];
}
