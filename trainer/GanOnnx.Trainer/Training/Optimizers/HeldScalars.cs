using TorchSharp;

namespace GanOnnx.Trainer.Training.Optimizers;

/// <summary>
/// Scalars made for native calls and kept alive until this is disposed. TorchSharp turns a double argument into a
/// <see cref="Scalar"/> implicitly and reads its native handle; nothing keeps that Scalar reachable during the call, so a
/// garbage collection started by another thread can finalize it and free the native value while libtorch is reading it
/// ("Expected false to be true … toFloat at Scalar.h", or silently a wrong number). Every Scalar from <see cref="Of"/> stays
/// referenced by this list until <see cref="Dispose"/>, after the calls that use it. Owns native memory: dispose it.
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

    public void Dispose()
    {
        foreach (var scalar in _held) scalar.Dispose();
        _held.Clear();
    }
}
