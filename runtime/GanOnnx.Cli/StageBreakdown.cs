using System.Diagnostics;
using System.Globalization;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>Where the time of one exported image goes: latent sampling, inference, value mapping, encoding (microseconds per image).</summary>
internal sealed record StageBreakdown(int Batch, double SamplingUs, double InferenceUs, double MappingUs, double PngUs, double PngStoredUs, double JpegUs)
{
    public static StageBreakdown Measure(string modelPath, int batch, int repetitions = 5)
    {
        using var session = GeneratorSession.Load(modelPath, new GeneratorOptions { MaxBatchSize = batch });
        var c = session.Contract;
        var latents = new float[batch * c.LatentDim];
        var labels = c.IsConditional ? Enumerable.Range(0, batch).Select(i => (long)(i % c.NumClasses)).ToArray() : [];
        var images = new float[batch * c.ValuesPerImage];
        session.Run(latents, labels, images); // warm-up
        // The encoders too: their first call (JIT, Skia's set-up) takes milliseconds, which at batch 4 put PNG at 2.4 ms an image.
        var warm = new byte[c.ValuesPerImage];
        ImageEncoder.ToBytes(images.AsSpan(0, c.ValuesPerImage), warm, c.ValueRange);
        foreach (var compression in new[] { PngCompression.Small, PngCompression.None })
            ImageEncoder.Encode(warm, c.Channels, c.Height, c.Width, PixelLayout.Nchw, ImageFileFormat.Png, png: compression);
        ImageEncoder.Encode(warm, c.Channels, c.Height, c.Width, PixelLayout.Nchw, ImageFileFormat.Jpeg, 90);

        double sampling = 0, inference = 0, mapping = 0, jpeg = 0;
        var png = new double[2]; // PngCompression.Small, None
        for (var r = 0; r < repetitions; r++)
        {
            var t = Stopwatch.GetTimestamp();
            session.Sampler.FillBatch(r, 0, batch, latents);
            sampling += Stopwatch.GetElapsedTime(t).TotalMicroseconds;

            t = Stopwatch.GetTimestamp();
            session.Run(latents, labels, images);
            inference += Stopwatch.GetElapsedTime(t).TotalMicroseconds;

            var pixels = new byte[c.ValuesPerImage];
            for (var i = 0; i < batch; i++)
            {
                t = Stopwatch.GetTimestamp();
                ImageEncoder.ToBytes(images.AsSpan(i * c.ValuesPerImage, c.ValuesPerImage), pixels, c.ValueRange);
                mapping += Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                foreach (var compression in new[] { PngCompression.Small, PngCompression.None })
                {
                    t = Stopwatch.GetTimestamp();
                    ImageEncoder.Encode(pixels, c.Channels, c.Height, c.Width, PixelLayout.Nchw, ImageFileFormat.Png, png: compression);
                    png[(int)compression] += Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                }
                t = Stopwatch.GetTimestamp();
                ImageEncoder.Encode(pixels, c.Channels, c.Height, c.Width, PixelLayout.Nchw, ImageFileFormat.Jpeg, 90);
                jpeg += Stopwatch.GetElapsedTime(t).TotalMicroseconds;
            }
        }
        var n = (double)batch * repetitions;
        return new StageBreakdown(batch, sampling / n, inference / n, mapping / n, png[(int)PngCompression.Small] / n, png[(int)PngCompression.None] / n, jpeg / n);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"where the time goes at batch {Batch}, per image on one thread: latent sampling {SamplingUs:F2} µs, inference {InferenceUs:F1} µs, " +
        $"value mapping {MappingUs:F2} µs, PNG encoding {PngUs:F1} µs (stored, --png-compression none: {PngStoredUs:F1} µs; JPEG {JpegUs:F1} µs)");
}
