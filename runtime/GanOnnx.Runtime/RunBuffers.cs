using Microsoft.ML.OnnxRuntime;

namespace GanOnnx.Runtime;

/// <summary>
/// Pinned input and output buffers for one batch size, with the ONNX Runtime values that wrap them. Created once per
/// batch size and reused, so that a warm generation loop allocates no managed memory of its own. Owns native handles.
/// </summary>
internal sealed class RunBuffers : IDisposable
{
    public RunBuffers(ModelContract contract, int batch)
    {
        Batch = batch;
        Latents = GC.AllocateArray<float>(batch * contract.LatentDim, pinned: true);
        Labels = GC.AllocateArray<long>(batch, pinned: true);
        Images = GC.AllocateArray<float>(batch * contract.ImageSize, pinned: true);
        var values = new List<OrtValue>();
        try
        {
            values.Add(OrtValue.CreateTensorValueFromMemory(Latents, [batch, contract.LatentDim]));
            if (contract.IsConditional) values.Add(OrtValue.CreateTensorValueFromMemory(Labels, [batch]));
            Inputs = values.ToArray();
            Outputs = [OrtValue.CreateTensorValueFromMemory(Images, [batch, contract.Channels, contract.Height, contract.Width])];
        }
        catch
        {
            foreach (var v in values) v.Dispose();
            throw;
        }
    }

    public int Batch { get; }
    public float[] Latents { get; }
    public long[] Labels { get; }
    public float[] Images { get; }
    public OrtValue[] Inputs { get; }
    public OrtValue[] Outputs { get; }

    public void Dispose()
    {
        foreach (var v in Inputs) v.Dispose();
        foreach (var v in Outputs) v.Dispose();
    }
}
