namespace GanOnnx.Trainer.Onnx;

/// <summary>How a generator is exported, and the provenance written into the model's metadata.</summary>
public sealed record ExportOptions
{
    /// <summary>Lowest opset the exporter writes.</summary>
    public const int MinOpset = 13;
    /// <summary>Highest opset the exporter writes.</summary>
    public const int MaxOpset = 21;

    /// <summary>ONNX opset (default 17, so that older runtimes load the file too).</summary>
    public int Opset { get; init; } = 17;
    /// <summary>Store weights and compute in float16, keeping float32 inputs and outputs (Cast nodes at the edges). Default false.</summary>
    public bool Fp16 { get; init; }
    /// <summary>Dataset the generator was trained on.</summary>
    public string Dataset { get; init; } = "";
    /// <summary>Class names of a conditional model.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>Loss the generator was trained with.</summary>
    public string Loss { get; init; } = "bce";
    /// <summary>Generator steps trained.</summary>
    public long TrainingSteps { get; init; }
    /// <summary>Whether the weights are an EMA of the generator's.</summary>
    public bool Ema { get; init; }
    /// <summary>Measured quality scores to record.</summary>
    public IReadOnlyDictionary<string, double> Quality { get; init; } = new Dictionary<string, double>();

    /// <summary>The IR version that goes with an opset (ONNX's release table).</summary>
    public static int IrVersionFor(int opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    /// <summary>Throws <see cref="TrainerException"/> when the opset is out of the supported range.</summary>
    public void Validate()
    {
        if (Opset is < MinOpset or > MaxOpset)
            throw new TrainerException($"Opset {Opset} is not supported; the exporter writes opsets {MinOpset} to {MaxOpset} (default 17).");
    }
}
