using GanOnnx.Trainer.Data;

namespace GanOnnx.Trainer.Tests.Data;

public class IdxFileTests
{
    [TestCase("images.idx")]
    [TestCase("images.idx.gz")]
    public void ImagesAndLabelsRoundTripPlainOrGzip(string name)
    {
        var folder = TestData.NewTempFolder();
        var (pixels, labels) = TestData.Bars(12, 6);
        IdxFile.WriteImages(Path.Combine(folder, name), pixels, 12, 6, 6);
        IdxFile.WriteLabels(Path.Combine(folder, "labels" + name), labels);
        var (images, readLabels) = IdxFile.ReadPair(Path.Combine(folder, name), Path.Combine(folder, "labels" + name));
        Assert.That((images.Count, images.Rows, images.Columns), Is.EqualTo((12, 6, 6)));
        Assert.That(images.Pixels, Is.EqualTo(pixels));
        Assert.That(readLabels, Is.EqualTo(labels));
    }

    [Test]
    public void ColourImagesRoundTripAsIdx4WithChannelsFirst()
    {
        var path = Path.Combine(TestData.NewTempFolder(), "train-images-idx4-ubyte.gz");
        var pixels = Enumerable.Range(0, 2 * 3 * 4 * 5).Select(i => (byte)i).ToArray();
        IdxFile.WriteImages(path, pixels, 2, 4, 5, channels: 3);
        var images = IdxFile.ReadImages(path);
        Assert.That((images.Count, images.Channels, images.Rows, images.Columns), Is.EqualTo((2, 3, 4, 5)));
        Assert.That(images.Pixels, Is.EqualTo(pixels));
    }

    [Test]
    public void AWrongMagicNumberIsNamed()
    {
        var path = Path.Combine(TestData.NewTempFolder(), "bad");
        File.WriteAllBytes(path, [0x12, 0x34, 0x08, 0x03, 0, 0, 0, 1]);
        Assert.That(() => IdxFile.ReadImages(path), Throws.TypeOf<TrainerException>().With.Message.Contains("magic number").And.Message.Contains(path));
    }

    [Test]
    public void ATruncatedFileIsNamed()
    {
        var folder = TestData.NewTempFolder();
        var path = Path.Combine(folder, "images");
        var (pixels, _) = TestData.Bars(4, 6);
        IdxFile.WriteImages(path, pixels, 4, 6, 6);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 10).ToArray());
        Assert.That(() => IdxFile.ReadImages(path), Throws.TypeOf<TrainerException>().With.Message.Contains("truncated"));
    }

    [Test]
    public void AHeaderWhoseSizesMultiplyPastLongIsRefusedNamingTheFile()
    {
        // 2^21 × 2^21 × 2^22 = 2^64 wraps to 0 in a long and used to pass every size check.
        var path = Path.Combine(TestData.NewTempFolder(), "crafted-idx3-ubyte");
        File.WriteAllBytes(path, [0, 0, 0x08, 0x03, 0x00, 0x20, 0, 0, 0x00, 0x20, 0, 0, 0x00, 0x40, 0, 0]);
        Assert.That(() => IdxFile.ReadImages(path), Throws.TypeOf<TrainerException>().With.Message.Contains(path).And.Message.Contains("2097152 × 2097152 × 4194304"));
    }

    [Test]
    public void AGzipBombIsRefusedFromItsHeaderBeforeAnythingIsInflated()
    {
        // A small gzip file whose header promises 3 × 40,000 × 20,000 bytes (2.4 GB): refused by name, at once.
        var path = Path.Combine(TestData.NewTempFolder(), "bomb-idx3-ubyte.gz");
        using (var file = File.Create(path))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write([0, 0, 0x08, 0x03, 0, 0, 0, 3, 0, 0, 0x9C, 0x40, 0, 0, 0x4E, 0x20]);
            gzip.Write(new byte[1 << 20]);
        }
        var before = GC.GetTotalAllocatedBytes();
        Assert.That(() => IdxFile.ReadImages(path), Throws.TypeOf<TrainerException>().With.Message.Contains(path).And.Message.Contains("more than"));
        Assert.That(GC.GetTotalAllocatedBytes() - before, Is.LessThan(64L << 20), "bytes allocated while refusing it");
    }

    [Test]
    public void ExtraBytesAfterTheDataAreRefusedInGzipFilesToo()
    {
        var path = Path.Combine(TestData.NewTempFolder(), "labels.gz");
        IdxFile.WriteLabels(path, new byte[] { 1, 2, 3 });
        var raw = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress)) gzip.CopyTo(raw);
        using (var file = File.Create(path))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(raw.ToArray());
            gzip.Write([9, 9]);
        }
        Assert.That(() => IdxFile.ReadLabels(path), Throws.TypeOf<TrainerException>().With.Message.Contains("beyond what its header describes"));
    }

    [Test]
    public void ImageAndLabelCountsMustAgree()
    {
        var folder = TestData.NewTempFolder();
        var (pixels, labels) = TestData.Bars(4, 6);
        IdxFile.WriteImages(Path.Combine(folder, "i"), pixels, 4, 6, 6);
        IdxFile.WriteLabels(Path.Combine(folder, "l"), labels.AsSpan(0, 3));
        Assert.That(() => IdxFile.ReadPair(Path.Combine(folder, "i"), Path.Combine(folder, "l")),
            Throws.TypeOf<TrainerException>().With.Message.Contains("4 images").And.Message.Contains("3 labels"));
    }

    [Test]
    public void SwappedFilesAreReported()
    {
        var folder = TestData.NewTempFolder();
        IdxFile.WriteLabels(Path.Combine(folder, "l"), new byte[] { 1, 2 });
        Assert.That(() => IdxFile.ReadImages(Path.Combine(folder, "l")), Throws.TypeOf<TrainerException>().With.Message.Contains("swapped"));
    }

    [Test]
    public void AFolderIsLoadedScaledToTheModelRange()
    {
        var folder = TestData.IdxFolder(count: 20, size: 8);
        using var data = ImageDataset.LoadIdxFolder(folder, GanOnnx.Runtime.ValueRange.Tanh);
        Assert.That(data.Count, Is.EqualTo(20));
        Assert.That((data.Channels, data.Height, data.Width), Is.EqualTo((1, 8, 8)));
        Assert.That(data.Images.min().item<float>(), Is.GreaterThanOrEqualTo(-1f));
        Assert.That(data.Images.max().item<float>(), Is.LessThanOrEqualTo(1f).And.GreaterThan(0.5f));
        Assert.That(data.ClassNames, Has.Count.EqualTo(10));
    }
}
