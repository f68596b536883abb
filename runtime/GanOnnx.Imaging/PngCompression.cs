namespace GanOnnx.Imaging;

/// <summary>
/// Whether PNG files are compressed. PNG is lossless either way: both decode to the same pixels, only the bytes and the
/// time differ. Measured inside <c>ganonnx bench</c>'s stage breakdown on the 2-core CPU machine (2026-12-04, Skia
/// 2.88; per image on one thread): a 64×64 RGB emoji 308–314 µs and ≈ 5.7 KB compressed, 47–49 µs and 12.4 KB stored;
/// a 28×28 digit 40–46 µs and ≈ 350 bytes, 7–7.5 µs and 893 bytes (which still fits in one 4 KB file-system block).
/// Cheaper zlib levels and single row filters were measured too and gained at most 1.4× (nothing on the digits), so
/// they are not offered.
/// </summary>
public enum PngCompression
{
    /// <summary>Every row filter tried and zlib level 6: Skia's standard PNG, the smallest files. The default.</summary>
    Small,
    /// <summary>
    /// Stored, not compressed (zlib level 0, no row filter): about 6× faster to encode, 2.2–2.6× the bytes. For bulk
    /// exports where encoding is the bottleneck (a GPU feeding many files) and bytes are cheap.
    /// </summary>
    None,
}
