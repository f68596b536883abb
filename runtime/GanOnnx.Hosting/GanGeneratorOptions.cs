using GanOnnx.Runtime;

namespace GanOnnx.Hosting;

/// <summary>Where a registered generator's model is and how it runs.</summary>
public sealed class GanGeneratorOptions
{
    /// <summary>Path of the ONNX model file. Required.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Session options (provider, batch size, threads, truncation). Default: CPU, batch 64.</summary>
    public GeneratorOptions Generator { get; set; } = new();
}
