using GanOnnx.Runtime;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Data;

/// <summary>
/// A labelled image dataset held in memory as one float tensor [N, C, H, W] in a chosen value range, with int64 labels.
/// Owns its tensors: dispose it.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    /// <summary>Names tried, in order, for the training images and labels of an IDX folder.</summary>
    private static readonly (string Images, string Labels)[] IdxNames =
    [
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("train-images.idx3-ubyte", "train-labels.idx1-ubyte"),
        ("train-images-idx4-ubyte", "train-labels-idx1-ubyte"),
    ];

    private ImageDataset(string name, Tensor images, Tensor labels, IReadOnlyList<string> classNames)
    {
        Name = name;
        Images = images;
        Labels = labels;
        ClassNames = classNames;
    }

    /// <summary>Name of the dataset (the folder name for IDX folders).</summary>
    public string Name { get; }
    /// <summary>Images, float32 [N, C, H, W].</summary>
    public Tensor Images { get; }
    /// <summary>Labels, int64 [N].</summary>
    public Tensor Labels { get; }
    /// <summary>Class names (index = label).</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Number of images.</summary>
    public long Count => Images.shape[0];
    /// <summary>Channels per image.</summary>
    public int Channels => (int)Images.shape[1];
    /// <summary>Height in pixels.</summary>
    public int Height => (int)Images.shape[2];
    /// <summary>Width in pixels.</summary>
    public int Width => (int)Images.shape[3];

    /// <summary>The name a dataset gets from its folder: the folder's own name (a trailing separator ignored).</summary>
    public static string NameOf(string folder) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));

    /// <summary>
    /// Loads the training split (or the test split, <c>t10k-*</c>) of a folder of IDX files, plain or gzip, scaled to
    /// <paramref name="range"/>. A <c>classes.txt</c> beside them (one name a line) names the classes.
    /// </summary>
    public static ImageDataset LoadIdxFolder(string folder, ValueRange range, bool testSplit = false)
    {
        if (!Directory.Exists(folder))
            throw new TrainerException($"Dataset folder '{folder}' does not exist. Run 'ganonnx-train data' to prepare MNIST and Fashion-MNIST, or point --data at a folder of IDX files.");
        var (imagesPath, labelsPath) = FindIdxPair(folder, testSplit);
        var (images, labels) = IdxFile.ReadPair(imagesPath, labelsPath);
        var maxLabel = labels.Length == 0 ? 0 : labels.Max();
        var classNames = ReadClassNames(folder, maxLabel + 1);
        return FromBytes(NameOf(folder), images.Pixels, labels, images.Count, images.Channels, images.Rows, images.Columns, range, classNames);
    }

    /// <summary>Builds a dataset from 8-bit pixels (NCHW) and labels, scaled to <paramref name="range"/>.</summary>
    public static ImageDataset FromBytes(string name, byte[] pixels, byte[] labels, int count, int channels, int height, int width,
        ValueRange range, IReadOnlyList<string>? classNames = null)
    {
        if (pixels.LongLength != (long)count * channels * height * width)
            throw new ArgumentException($"pixels has {pixels.Length} bytes; {count}×{channels}×{height}×{width} needs {(long)count * channels * height * width}.", nameof(pixels));
        if (labels.Length != count)
            throw new ArgumentException($"labels has {labels.Length} entries; expected {count}.", nameof(labels));
        var scale = (range.Max - range.Min) / 255f;
        using var raw = tensor(pixels, [count, channels, height, width]);
        var images = raw.to_type(ScalarType.Float32).mul_(scale).add_(range.Min);
        var labelTensor = tensor(labels.Select(l => (long)l).ToArray(), [count]);
        var names = classNames ?? Enumerable.Range(0, labels.Length == 0 ? 0 : labels.Max() + 1).Select(i => i.ToString()).ToArray();
        return new ImageDataset(name, images, labelTensor, names);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }

    private static (string Images, string Labels) FindIdxPair(string folder, bool testSplit)
    {
        foreach (var (imagesName, labelsName) in IdxNames)
        {
            var i = testSplit ? imagesName.Replace("train", "t10k") : imagesName;
            var l = testSplit ? labelsName.Replace("train", "t10k") : labelsName;
            foreach (var ext in new[] { "", ".gz" })
            {
                var ip = Path.Combine(folder, i + ext);
                var lp = Path.Combine(folder, l + ext);
                if (File.Exists(ip) && File.Exists(lp)) return (ip, lp);
            }
        }
        // EMNIST-style names: emnist-letters-train-images-idx3-ubyte(.gz)
        var split = testSplit ? "test" : "train";
        var images = Directory.GetFiles(folder, $"*{split}-images-idx3-ubyte*").Order().FirstOrDefault();
        var labels = Directory.GetFiles(folder, $"*{split}-labels-idx1-ubyte*").Order().FirstOrDefault();
        if (images is not null && labels is not null) return (images, labels);
        var which = testSplit ? "t10k" : "train";
        throw new TrainerException($"No IDX {which} files in '{folder}': expected {which}-images-idx3-ubyte[.gz] (or idx4 for colour) and {which}-labels-idx1-ubyte[.gz].");
    }

    private static string[] ReadClassNames(string folder, int count)
    {
        var path = Path.Combine(folder, "classes.txt");
        if (File.Exists(path))
        {
            var names = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
            if (names.Length >= count) return names;
        }
        return Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }
}
