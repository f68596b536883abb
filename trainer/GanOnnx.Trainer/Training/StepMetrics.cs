using System.Text.Json.Serialization;

namespace GanOnnx.Trainer.Training;

/// <summary>One logged step, as written to metrics.jsonl.</summary>
public sealed record StepMetrics(int Step, float LossD, float LossG, float DReal, float DFake, double Seconds)
{
    /// <summary>Models with an InfoGAN code: the share of the generator step's images whose category the
    /// discriminator's code head named correctly (1/K is chance); with an auxiliary classifier, the share its class head
    /// classified as the class asked for.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? CodeAccuracy { get; init; }

    /// <summary>The logged steps of a metrics.jsonl file (empty when it does not exist); a line torn by a crash is skipped.</summary>
    public static List<StepMetrics> ReadAll(string path) => File.Exists(path) ? [.. JsonLines.Read<StepMetrics>(path)] : [];
}
