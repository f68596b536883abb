using System.Text.Json;
using SkiaSharp;

namespace GanOnnx.Trainer.Data;

/// <summary>
/// Prepares a 64×64 RGB dataset from an emoji-datasource npm package (<c>emoji-datasource-google</c> or
/// <c>-twitter</c>, 16.0.0: about 3,800 emoji as 64×64 RGBA PNG files under <c>img/&lt;set&gt;/64/</c>, with each one's
/// category in <c>emoji.json</c>). Each image is composited over an opaque background, the categories become the classes
/// (the small Component group, skin-tone swatches and hair parts, is left out), every tenth image in file-name order is
/// held out as the t10k split, and the licences are written beside the data. The result is an ordinary IDX folder
/// (<c>*-images-idx4-ubyte.gz</c>, channels first) that <c>train</c>, <c>eval</c> and the classifier take as they are.
/// </summary>
public static class EmojiDataset
{
    /// <summary>The emoji sets there are packages for.</summary>
    public static readonly IReadOnlyList<string> Sets = ["google", "twitter"];

    /// <summary>Side of the images in pixels.</summary>
    public const int Size = 64;

    /// <summary>The package version this code was written against (its layout: emoji.json, img/&lt;set&gt;/64/).</summary>
    public const string PackageVersion = "16.0.0";

    private const string LeftOut = "Component";

    /// <summary>
    /// Writes the dataset of emoji set <paramref name="set"/> to <paramref name="destination"/> from the unpacked package
    /// folder <paramref name="package"/> (or, when null, the package fetched with <c>npm pack</c>), composited over
    /// <paramref name="background"/>. Returns a one-line summary.
    /// </summary>
    public static string Prepare(string set, string destination, string? package = null, SKColor? background = null)
    {
        if (!Sets.Contains(set)) throw new TrainerException($"--emoji is '{set}'; choose {string.Join(" or ", Sets)}.");
        var color = background ?? SKColors.White;
        return DatasetPreparer.WithNpmPackage($"emoji-datasource-{set}@{PackageVersion}", package, folder => Build(set, folder, destination, color));
    }

    private static string Build(string set, string package, string destination, SKColor background)
    {
        var index = Path.Combine(package, "emoji.json");
        var images = Path.Combine(package, "img", set, Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!File.Exists(index) || !Directory.Exists(images))
            throw new TrainerException($"'{package}' is not the npm package 'emoji-datasource-{set}': it needs emoji.json and img/{set}/{Size}/.");

        var entries = ReadIndex(index, set);
        var classes = entries.Select(e => e.Category).Distinct().Order(StringComparer.Ordinal).ToList();
        var plane = Size * Size;
        var train = new List<(byte[] Pixels, byte Label)>();
        var test = new List<(byte[] Pixels, byte Label)>();
        for (var i = 0; i < entries.Count; i++)
        {
            var (file, category) = entries[i];
            var pixels = Composite(Path.Combine(images, file), background, plane);
            (i % 10 == 9 ? test : train).Add((pixels, (byte)classes.IndexOf(category)));
        }
        if (train.Count == 0 || test.Count == 0)
            throw new TrainerException($"'{package}' has {entries.Count} usable emoji images; a dataset needs at least 10.");

        DatasetPreparer.WriteSplit(destination, "train", train, 3, Size);
        DatasetPreparer.WriteSplit(destination, "t10k", test, 3, Size);
        DatasetPreparer.WriteClasses(destination, classes);
        File.WriteAllText(Path.Combine(destination, "LICENSE-DATA.txt"), Licence(set, background));
        var counts = string.Join(", ", classes.Select(c => $"{c} {entries.Count(e => e.Category == c)}"));
        return $"train: {train.Count} images 3×{Size}×{Size}, t10k: {test.Count}, {classes.Count} classes ({counts}), over #{background.Red:X2}{background.Green:X2}{background.Blue:X2} (npm package emoji-datasource-{set} {PackageVersion})";
    }

    /// <summary>Every image of the set with its category, skin-tone variations included, in file-name order.</summary>
    private static List<(string File, string Category)> ReadIndex(string path, string set)
    {
        var flag = $"has_img_{set}";
        var result = new List<(string, string)>();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var emoji in document.RootElement.EnumerateArray())
            {
                var category = emoji.GetProperty("category").GetString() ?? "";
                if (category == LeftOut) continue;
                void Add(JsonElement e)
                {
                    if (e.TryGetProperty(flag, out var has) && has.ValueKind == JsonValueKind.True && e.GetProperty("image").GetString() is { Length: > 0 } image)
                        result.Add((image, category));
                }
                Add(emoji);
                if (emoji.TryGetProperty("skin_variations", out var variations) && variations.ValueKind == JsonValueKind.Object)
                    foreach (var variation in variations.EnumerateObject()) Add(variation.Value);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new TrainerException($"'{path}' is not the emoji index this version reads ({ex.Message}).", ex);
        }
        return result.DistinctBy(e => e.Item1).OrderBy(e => e.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>One emoji, decoded completely and composited over <paramref name="background"/>, as RGB planes.</summary>
    private static byte[] Composite(string path, SKColor background, int plane)
    {
        using var codec = SKCodec.Create(path) ?? throw new TrainerException($"'{path}' is not a readable PNG file.");
        if (codec.Info.Width != Size || codec.Info.Height != Size)
            throw new TrainerException($"'{path}' is {codec.Info.Width}×{codec.Info.Height}, not {Size}×{Size}.");
        var info = new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        if (codec.GetPixels(info, bitmap.GetPixels()) != SKCodecResult.Success)
            throw new TrainerException($"'{path}' does not decode completely; the package is damaged.");
        var pixels = new byte[3 * plane];
        var rgba = bitmap.GetPixelSpan();
        for (var p = 0; p < plane; p++)
        {
            int a = rgba[4 * p + 3];
            pixels[p] = Blend(rgba[4 * p], background.Red, a);
            pixels[plane + p] = Blend(rgba[4 * p + 1], background.Green, a);
            pixels[2 * plane + p] = Blend(rgba[4 * p + 2], background.Blue, a);
        }
        return pixels;
    }

    private static byte Blend(byte color, byte background, int alpha) => (byte)((color * alpha + background * (255 - alpha) + 127) / 255);

    private static string Licence(string set, SKColor background) => $"""
        This folder was made by 'ganonnx-train data --emoji {set}' from the npm package emoji-datasource-{set} {PackageVersion}
        (https://github.com/iamcal/emoji-data), 64×64 images composited over #{background.Red:X2}{background.Green:X2}{background.Blue:X2}.

        The images: {(set == "google"
            ? "Noto Emoji by Google, licensed under the Apache License, Version 2.0 (https://github.com/googlefonts/noto-emoji)."
            : "Twemoji by Twitter, Inc and other contributors, licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); attribution is required wherever the images or models trained on them are shared.")}
        The package's data (emoji.json, the categories): MIT licence, Copyright (c) 2013 Cal Henderson.
        """;
}
