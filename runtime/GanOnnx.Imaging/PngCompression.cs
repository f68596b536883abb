namespace GanOnnx.Imaging;

/// <summary>
/// Whether PNG files are compressed. PNG is lossless either way: both decode to the same pixels, only the bytes and the
/// time differ. Images from pixels (batch export) are written by the project's own writer, bitmaps (grids) by Skia.
/// Measured on the 2-core CPU machine (2026-12-04, per image on one thread): with Skia a 64×64 RGB emoji took 308–314 µs
/// and ≈ 5.7 KB compressed, 47–49 µs and 12.4 KB stored, a 28×28 digit 40–46 µs and ≈ 350 bytes, 7–7.5 µs and 893
/// bytes (which still fits in one 4 KB file-system block); the project's writer compresses a digit in 12 µs and an emoji
/// in 98 µs (Skia 47 and 143 µs in the same steady-state loop) into files 0.91–1.03× Skia's size.
/// </summary>
public enum PngCompression
{
    /// <summary>
    /// zlib level 6: pixels with no row filter (grayscale) or the Paeth filter (RGB), bitmaps with Skia's every-filter
    /// choice. The smaller files. The default.
    /// </summary>
    Small,
    /// <summary>
    /// Stored, not compressed (zlib level 0, no row filter): about 6× faster to encode, 2.2–2.6× the bytes. For bulk
    /// exports where encoding is the bottleneck (a GPU feeding many files) and bytes are cheap.
    /// </summary>
    None,
}
