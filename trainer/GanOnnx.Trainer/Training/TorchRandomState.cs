using TorchSharp;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// Saves and restores libtorch's default CPU random generator, for checkpoints. TorchSharp's
/// <c>torch.random.get_rng_state()</c> reads the state through a temporary <c>Generator.Default</c> wrapper that nothing
/// keeps alive: the garbage collector may finalize it, which frees the native handle, while the native call is still
/// reading through that handle (a crash seen in <c>at::Generator::get_state()</c> once in a few thousand checkpoints).
/// Here the wrapper lives until the call has returned and is then disposed deterministically.
/// </summary>
internal static class TorchRandomState
{
    /// <summary>The default generator's state as bytes.</summary>
    public static byte[] Save()
    {
        using var generator = torch.Generator.Default;
        using var state = generator.get_state();
        return state.data<byte>().ToArray();
    }

    /// <summary>Restores a state <see cref="Save"/> returned.</summary>
    public static void Restore(byte[] bytes)
    {
        using var generator = torch.Generator.Default;
        using var state = torch.tensor(bytes);
        generator.set_state(state);
    }
}
