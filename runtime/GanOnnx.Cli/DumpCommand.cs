using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using GanOnnx.Imaging;
using GanOnnx.Runtime;

namespace GanOnnx.Cli;

/// <summary>
/// <c>ganonnx dump</c>: the raw latents, labels and float32 images of images <c>--start-index</c> … of a seed, for checking
/// one provider against another (<c>--compare</c>: the largest absolute difference, exit 1 above <c>--tolerance</c>) or
/// against another framework (tests/peer/torch_peer.py compare). Files: latents.f32 [count, latent], labels.i64 [count]
/// (conditional models), images.f32 [count, channels, height, width], all little-endian, and dump.json.
/// </summary>
internal static class DumpCommand
{
    private sealed record DumpInfo(string Model, string Provider, long Seed, long StartIndex, int Count, int LatentDim, int Channels, int Height, int Width)
    {
        /// <summary>The model file's SHA-256 (null in dumps made before it was recorded).</summary>
        public string? ModelSha256 { get; init; }
        /// <summary>"ema" or "raw" as the model's metadata says; null when it does not say.</summary>
        public string? Weights { get; init; }

        public string Describe() => Model + (Weights is null ? "" : $", {Weights} weights") + (ModelSha256 is null ? "" : $", SHA-256 {ModelSha256[..12]}…");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = GanOnnxCli.ModelOption();
        var count = new Option<int>("--count") { Description = "Images to dump.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };
        var start = new Option<long>("--start-index") { Description = "Index of the first image.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Folder to write.", Required = true };
        var compare = new Option<string?>("--compare") { Description = "Another dump folder of the same images: print the largest absolute difference." };
        var tolerance = new Option<double>("--tolerance") { Description = "With --compare: exit 1 when the difference is larger.", DefaultValueFactory = _ => 1e-3 };
        var provider = GanOnnxCli.ProviderOption();
        var cudaPath = GanOnnxCli.CudaPathOption();
        var cudaTuning = GanOnnxCli.CudaTuning.Create();
        var subPixel = GanOnnxCli.SubPixelOption();
        var command = new Command("dump", "Write raw latents and float32 images (and compare them with another dump).")
        {
            model, count, seed, start, outDir, compare, tolerance, provider, cudaPath, subPixel,
        };
        cudaTuning.AddTo(command);
        command.SetAction(parse => GanOnnxCli.Guarded(error, () =>
        {
            var n = parse.GetValue(count);
            if (n < 1) throw new GanOnnxException($"--count is {n}; it must be at least 1.");
            var tol = parse.GetValue(tolerance);
            if (!(tol >= 0)) throw new GanOnnxException($"--tolerance is {tol}; it must be 0 or more.");
            var other = parse.GetValue(compare);
            var otherInfo = other is null ? null : ReadInfo(other);

            using var session = GeneratorSession.Load(parse.GetValue(model)!, cudaTuning.Apply(parse, new GeneratorOptions
            {
                Provider = GanOnnxCli.ParseProvider(parse.GetValue(provider)!), CudaLibraryFolders = GanOnnxCli.ParseFolders(parse.GetValue(cudaPath)),
                SubPixel = GanOnnxCli.ParseSubPixel(parse.GetValue(subPixel)!),
            }));
            var c = session.Contract;
            var (s, first) = (parse.GetValue(seed), parse.GetValue(start));
            if (otherInfo is not null
                && (otherInfo.Count != n || otherInfo.Seed != s || otherInfo.StartIndex != first || (otherInfo.Channels, otherInfo.Height, otherInfo.Width) != (c.Channels, c.Height, c.Width)))
                throw new GanOnnxException($"--compare '{other}' holds {otherInfo.Count} images ({otherInfo.Channels}×{otherInfo.Height}×{otherInfo.Width}) of seed {otherInfo.Seed} "
                    + $"from index {otherInfo.StartIndex}; this dump would be {n} ({c.Channels}×{c.Height}×{c.Width}) of seed {s} from {first}. Nothing was written.");
            var latents = new float[n * c.LatentDim];
            session.Sampler.FillBatch(s, first, n, latents);
            var images = session.Generate(n, s, first);
            var folder = parse.GetValue(outDir)!;
            Directory.CreateDirectory(folder);
            AtomicFile.Write(Path.Combine(folder, "latents.f32"), MemoryMarshal.AsBytes(latents.AsSpan()));
            if (images.Labels is { } labels) AtomicFile.Write(Path.Combine(folder, "labels.i64"), MemoryMarshal.AsBytes(labels.AsSpan()));
            AtomicFile.Write(Path.Combine(folder, "images.f32"), MemoryMarshal.AsBytes(images.Pixels.AsSpan(0, n * c.ValuesPerImage)));
            var info = new DumpInfo(Path.GetFileName(session.Source), session.Provider.ToString().ToLowerInvariant(), s, first, n, c.LatentDim, c.Channels, c.Height, c.Width)
            {
                ModelSha256 = session.ModelSha256, Weights = c.InferredFromShapes ? null : c.IsEma ? "ema" : "raw",
            };
            AtomicFile.Write(Path.Combine(folder, "dump.json"), JsonSerializer.SerializeToUtf8Bytes(info, Json));
            output.WriteLine($"Wrote {n} images of seed {s} from index {first} ({c.Channels}×{c.Height}×{c.Width}) to {folder} on {session.ProviderReport}");
            if (other is null || otherInfo is null) return 0;

            var theirs = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(other, "images.f32")).AsSpan());
            if (theirs.Length != n * c.ValuesPerImage) throw new GanOnnxException($"--compare '{other}': images.f32 has {theirs.Length} floats, not {n * c.ValuesPerImage}.");
            double max = 0;
            for (var i = 0; i < theirs.Length; i++) max = Math.Max(max, Math.Abs(theirs[i] - images.Pixels[i]));
            output.WriteLine($"compared: {info.Describe()} on {info.Provider} against {otherInfo.Describe()} on {otherInfo.Provider}");
            if (info.Weights is not null && otherInfo.Weights is not null && info.Weights != otherInfo.Weights)
                output.WriteLine($"note: this dump comes from {info.Weights} weights and '{other}' from {otherInfo.Weights} weights: different generators, which no provider or precision makes equal.");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"max abs difference from {otherInfo.Provider} ({other}): {max:G3} (tolerance {tol:G3})"));
            if (max <= tol) return 0;
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"error: the images differ by up to {max:G3}, more than --tolerance {tol:G3}."));
            return 1;
        }));
        return command;
    }

    private static DumpInfo ReadInfo(string folder)
    {
        var path = Path.Combine(folder, "dump.json");
        if (!File.Exists(path)) throw new GanOnnxException($"--compare '{folder}' has no dump.json; make it with 'ganonnx dump'.");
        try
        {
            return JsonSerializer.Deserialize<DumpInfo>(File.ReadAllText(path), Json) ?? throw new JsonException("empty");
        }
        catch (JsonException ex)
        {
            throw new GanOnnxException($"--compare '{folder}': dump.json is not a dump description ({ex.Message}).", ex);
        }
    }
}
