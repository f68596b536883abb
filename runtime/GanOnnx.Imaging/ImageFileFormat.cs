namespace GanOnnx.Imaging;

/// <summary>Image file formats the encoder writes.</summary>
public enum ImageFileFormat
{
    /// <summary>Lossless PNG (the default).</summary>
    Png,
    /// <summary>Lossy JPEG.</summary>
    Jpeg,
    /// <summary>WebP (lossy at quality &lt; 100, lossless at 100).</summary>
    Webp,
}
