using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Evaluation;
using SkiaSharp;

namespace GanOnnx.Trainer.Tests.Data;

/// <summary><c>ganonnx-train data --from-folder</c>: a folder of the user's own images as an IDX dataset with a held-out split.</summary>
public class FolderDatasetTests
{
    /// <summary>Image k of a class is a flat colour whose red value is k, so that each prepared image says where it came from.</summary>
    private static string ImageFolder(params (string Class, int Count)[] classes)
    {
        var folder = TestData.NewTempFolder();
        foreach (var (name, count) in classes)
        {
            Directory.CreateDirectory(Path.Combine(folder, name));
            for (var k = 0; k < count; k++)
            {
                using var bitmap = new SKBitmap(new SKImageInfo(12, 10, SKColorType.Rgba8888, SKAlphaType.Opaque));
                bitmap.Erase(new SKColor((byte)k, name == "cats" ? (byte)50 : (byte)200, 0));
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                // Zero-padded names: file-name order is creation order.
                File.WriteAllBytes(Path.Combine(folder, name, $"{k:D3}.png"), data.ToArray());
            }
        }
        return folder;
    }

    [Test]
    public void EveryTenthImageOfEachClassIsHeldOutAndTheRestTrain()
    {
        var source = ImageFolder(("cats", 12), ("dogs", 25));
        var root = TestData.NewTempFolder();
        // An earlier preparation (grayscale, so IDX3 files) and what scoring it left: must not judge nor mix with this one.
        Assert.That(TestData.RunCli("data", "--from-folder", source, "--out", root, "--name", "pets", "--image-size", "8", "--channels", "1").Code, Is.EqualTo(0));
        Assert.That(File.Exists(Path.Combine(root, "pets", "train-images-idx3-ubyte.gz")), Is.True);
        Directory.CreateDirectory(Path.Combine(root, "pets", Evaluator.CacheFolderName));
        File.WriteAllText(Path.Combine(root, "pets", Evaluator.ClassifierFileName), "stale");

        var (code, output, error) = TestData.RunCli("data", "--from-folder", source, "--out", root, "--name", "pets", "--image-size", "8");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("train: 34 images 3×8×8, t10k: 3, 2 class(es) (cats 12, dogs 25)"));
        var prepared = Path.Combine(root, "pets");
        Assert.That(File.Exists(Path.Combine(prepared, Evaluator.ClassifierFileName)), Is.False, "the stale classifier is removed");
        Assert.That(Directory.Exists(Path.Combine(prepared, Evaluator.CacheFolderName)), Is.False, "the stale cache is removed");
        Assert.That(File.ReadAllText(Path.Combine(prepared, "SOURCE.txt")), Does.Contain(Path.GetFullPath(source)));
        Assert.That(Directory.GetDirectories(root), Has.Length.EqualTo(1), "no default dataset is prepared beside it");
        Assert.That(Directory.GetFiles(prepared, "*-ubyte*").Select(Path.GetFileName), Is.EquivalentTo(new[]
        {
            "train-images-idx4-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx4-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
        }), "the grayscale preparation's files are gone");

        using var train = ImageDataset.LoadIdxFolder(prepared, ValueRange.Sigmoid);
        using var test = ImageDataset.LoadIdxFolder(prepared, ValueRange.Sigmoid, testSplit: true);
        Assert.That(train.Name, Is.EqualTo("pets"));
        Assert.That(train.ClassNames, Is.EqualTo(new[] { "cats", "dogs" }));
        Assert.That((train.Count, test.Count), Is.EqualTo((34, 3)));
        Assert.That((test.Channels, test.Height, test.Width), Is.EqualTo((3, 8, 8)));
        // Held out: cats' 10th (k = 9), dogs' 10th and 20th (k = 9, 19), as their red values and labels show.
        int Red(ImageDataset d, int i) => (int)Math.Round(d.Images[i][0].mean().item<float>() * 255);
        Assert.That(Enumerable.Range(0, 3).Select(i => (Red(test, i), (int)test.Labels[i].item<long>())), Is.EqualTo(new[] { (9, 0), (9, 1), (19, 1) }));
        Assert.That(Enumerable.Range(0, 34).Count(i => Red(train, i) == 9), Is.Zero, "no held-out image trains");
        Assert.That(Enumerable.Range(0, 34).Select(i => (int)train.Labels[i].item<long>()).Count(l => l == 0), Is.EqualTo(11));
    }

    [Test]
    public void ScoringAFolderOfImagesSaysHowToPrepareIt()
    {
        var source = ImageFolder(("cats", 3), ("dogs", 3));
        Assert.That(() => Evaluator.Open(source), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("is a folder of images").And.Message.Contains($"ganonnx-train data --from-folder {source} --out data"));
        var (code, _, error) = TestData.RunCli("eval", "--data", source, "--model", Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-dcgan", "model.onnx"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--from-folder"));
    }

    [Test]
    public void ADatasetOfOneClassCannotBeScored()
    {
        var root = TestData.NewTempFolder();
        Assert.That(TestData.RunCli("data", "--from-folder", ImageFolder(("cats", 10)), "--out", root, "--name", "one", "--image-size", "8").Code, Is.EqualTo(0));
        Assert.That(() => Evaluator.Open(Path.Combine(root, "one")), Throws.TypeOf<TrainerException>().With.Message.Contains("has one class"));
    }

    [TestCase("few", "no class with 10 or more")]
    [TestCase("name", "--name is '../up'")]
    [TestCase("itself", "into the image folder")]
    [TestCase("bad-image", "not readable images")]
    [TestCase("policy", "--on-bad-image is 'ignore'")]
    [TestCase("datasets", "--datasets has 'bogus'")]
    [TestCase("no-folder", "--image-size applies to --from-folder, which was not given.")]
    public void BadFoldersAndOptionsAreRefusedAndNothingIsWritten(string problem, string expected)
    {
        var source = ImageFolder(("cats", problem == "few" ? 9 : 10));
        var root = TestData.NewTempFolder();
        var args = new List<string> { "data", "--from-folder", source, "--out", root, "--image-size", "8" };
        switch (problem)
        {
            case "name": args.AddRange(["--name", "../up"]); break;
            case "itself": args[4] = Path.GetDirectoryName(source)!; args.AddRange(["--name", Path.GetFileName(source)]); break;
            case "bad-image": File.WriteAllText(Path.Combine(source, "cats", "broken.png"), "not a png"); break;
            case "policy": args.AddRange(["--on-bad-image", "ignore"]); break;
            case "datasets": args.AddRange(["--datasets", "bogus"]); break;
            case "no-folder": args.RemoveRange(1, 2); break;
        }
        var (code, _, error) = TestData.RunCli(args.ToArray());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain(expected));
        Assert.That(Directory.GetFileSystemEntries(root), Is.Empty);
        Assert.That(Directory.GetFiles(source, "*-ubyte*", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void SkippedImagesAreNamedInTheSummaryAndTheRecord()
    {
        var source = ImageFolder(("cats", 10));
        File.WriteAllText(Path.Combine(source, "cats", "broken.png"), "not a png");
        var root = TestData.NewTempFolder();
        var (code, output, error) = TestData.RunCli("data", "--from-folder", source, "--out", root, "--image-size", "8", "--channels", "1", "--on-bad-image", "skip");
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("train: 9 images 1×8×8, t10k: 1").And.Contain("1 unreadable file(s) skipped"));
        Assert.That(File.ReadAllText(Path.Combine(root, Path.GetFileName(source), "SOURCE.txt")), Does.Contain("broken.png"));
    }
}
