using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Training.Optimizers;

/// <summary>
/// Scalars made for native calls and kept alive until this is disposed. TorchSharp turns a double argument into a
/// <see cref="Scalar"/> implicitly and reads its native handle; nothing keeps that Scalar reachable during the call, so a
/// garbage collection started by another thread can finalize it and free the native value while libtorch is reading it
/// ("Expected false to be true … toFloat at Scalar.h", or silently a wrong number). Every Scalar from <see cref="Of"/> stays
/// referenced by this list until <see cref="Dispose"/>, after the calls that use it. Owns native memory: dispose it.
/// Overloads that fill in a Scalar themselves must be avoided too: <c>add_(Scalar)</c> passes a hidden alpha of 1, so
/// call <c>add_(value, alpha)</c> with both held.
/// </summary>
internal sealed class HeldScalars : IDisposable
{
    private readonly List<Scalar> _held = [];

    /// <summary>A Scalar of <paramref name="value"/> that lives until this is disposed.</summary>
    public Scalar Of(double value)
    {
        var scalar = value.ToScalar();
        _held.Add(scalar);
        return scalar;
    }

    /// <summary>
    /// <paramref name="param"/>'s gradient as TorchSharp's optimizers use it (negated to maximize, plus the L2 weight
    /// decay), or null when it has none.
    /// </summary>
    public Tensor? Gradient(Parameter param, bool maximize, double weightDecay)
    {
        var grad = param.grad;
        if (grad is null) return null;
        if (maximize) grad = -grad;
        return weightDecay != 0 ? grad.add(param, alpha: Of(weightDecay)) : grad;
    }

    public void Dispose()
    {
        foreach (var scalar in _held) scalar.Dispose();
        _held.Clear();
    }
}
