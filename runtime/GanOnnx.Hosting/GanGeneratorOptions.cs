using GanOnnx.Runtime;

namespace GanOnnx.Hosting;

/// <summary>Where a registered generator's model is and how it runs.</summary>
public sealed class GanGeneratorOptions
{
    /// <summary>Path of the ONNX model file. Required.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Session options (provider, batch size, threads, truncation). Default: CPU, batch 64.</summary>
    public GeneratorOptions Generator { get; set; } = new();

    /// <summary>
    /// Load the model when the host starts (true, the default) rather than on first use: under the generic host or ASP.NET
    /// Core a model that is missing or corrupt stops the start with its error instead of failing the first request, and
    /// no request pays for loading it. Without a host (a bare service provider) the model loads on first use either way.
    /// </summary>
    public bool LoadOnStart { get; set; } = true;
}
