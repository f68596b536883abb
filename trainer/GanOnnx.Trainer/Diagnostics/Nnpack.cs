using System.Runtime.InteropServices;

namespace GanOnnx.Trainer.Diagnostics;

/// <summary>
/// Turns libtorch's NNPACK convolutions off, as <c>torch.backends.nnpack.set_flags(False)</c> does in PyTorch. On a
/// processor NNPACK does not support, libtorch 2.10 asks for NNPACK before each CPU convolution it might hand it and
/// logs "Could not initialize NNPACK! Reason: Unsupported hardware." every time (hundreds of lines during the
/// convolution self-check); with NNPACK off it never asks. NNPACK is never faster than the kernels libtorch uses
/// instead on the processors it refuses, so this changes no result and no speed.
/// </summary>
public static partial class Nnpack
{
    /// <summary>
    /// Disables NNPACK in the libtorch that TorchSharp loaded (call after the first torch call). Returns whether it did;
    /// on a libtorch without these symbols (another platform or version) it does nothing.
    /// </summary>
    public static bool Disable()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            SetUserEnabledNnpack(GlobalContext(), false);
            return !UserEnabledNnpack(GlobalContext());
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // at::globalContext() and at::Context::{set,}userEnabledNNPACK (Itanium C++ ABI: the object is the first argument).
    // libtorch_cpu.so is already loaded by TorchSharp; dlopen of its name returns that copy.
    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledNnpack(IntPtr context);
}
