namespace GanOnnx.Runtime;

/// <summary>
/// Images in GPU memory, as <see cref="GeneratorSession.GenerateOnDevice"/> hands them over: <see cref="Count"/> images
/// back to back from <see cref="Address"/> on CUDA device <see cref="DeviceId"/>, float32 NCHW when
/// <see cref="PixelLayout"/> is <see cref="Runtime.PixelLayout.None"/>, else 8-bit pixels in that layout. Valid only
/// inside the callback that receives it.
/// </summary>
public readonly record struct DeviceImages(IntPtr Address, long Bytes, int Count, int DeviceId, PixelLayout PixelLayout, int Channels, int Height, int Width);
