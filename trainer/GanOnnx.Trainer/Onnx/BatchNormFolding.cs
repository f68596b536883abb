using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Onnx;

/// <summary>Eval-mode BatchNorm folded into the layer before it, in double precision, for the exporter.</summary>
internal static class BatchNormFolding
{
    /// <summary>
    /// Folds an eval-mode BatchNorm that follows a layer into that layer's weights and bias:
    /// y = s·(Wx + b − μ) + β with s = γ / √(σ² + ε). The output-channel axis is 0 for Linear and Conv weights and 1 for
    /// ConvTranspose weights ([in, out, kH, kW]).
    /// </summary>
    public static (float[] Weight, float[] Bias) Fold(float[] weight, float[] bias, long outChannels, BatchNorm? bn, bool outputAxisIsFirst, long[] shape)
    {
        if (bn is null) return (weight, bias);
        if (bn.num_features != outChannels)
            throw new TrainerException($"BatchNorm with {bn.num_features} features follows a layer with {outChannels} outputs; the model is inconsistent.");
        var (scale, shift) = Affine(bn);
        var inner = shape.Skip(2).Aggregate(1L, (a, d) => a * d); // kernel area (1 for Linear)
        if (outputAxisIsFirst)
        {
            var perOut = weight.Length / outChannels;
            for (long o = 0; o < outChannels; o++)
                for (long k = 0; k < perOut; k++) weight[o * perOut + k] *= scale[o];
        }
        else
        {
            var inChannels = shape[0];
            for (long c = 0; c < inChannels; c++)
                for (long o = 0; o < outChannels; o++)
                    for (long k = 0; k < inner; k++) weight[(c * outChannels + o) * inner + k] *= scale[o];
        }
        var folded = new float[outChannels];
        for (var o = 0; o < outChannels; o++) folded[o] = bias[o] * scale[o] + shift[o];
        return (weight, folded);
    }

    /// <summary>An eval-mode BatchNorm as y = scale·x + shift, computed in double precision.</summary>
    public static (float[] Scale, float[] Shift) Affine(BatchNorm bn)
    {
        if (bn.running_mean is null || bn.running_var is null)
            throw new TrainerException("A BatchNorm layer without running statistics cannot be exported in eval mode.");
        var mean = Floats(bn.running_mean);
        var variance = Floats(bn.running_var);
        var gamma = bn.weight is null ? Enumerable.Repeat(1f, mean.Length).ToArray() : Floats(bn.weight);
        var beta = bn.bias is null ? new float[mean.Length] : Floats(bn.bias);
        var scale = new float[mean.Length];
        var shift = new float[mean.Length];
        for (var c = 0; c < mean.Length; c++)
        {
            var s = gamma[c] / Math.Sqrt(variance[c] + bn.eps);
            scale[c] = (float)s;
            shift[c] = (float)(beta[c] - mean[c] * s);
        }
        return (scale, shift);
    }

    public static float[] Bias(Tensor? bias, long outFeatures) => bias is null ? new float[outFeatures] : Floats(bias);

    public static float[] Floats(Tensor t)
    {
        using var cpu = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return cpu.data<float>().ToArray();
    }
}
