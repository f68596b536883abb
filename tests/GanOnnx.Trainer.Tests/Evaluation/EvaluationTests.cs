using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Evaluation;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Evaluation;

public class EvaluationTests
{
    private string _folder = null!;
    private Evaluator _evaluator = null!;

    [OneTimeSetUp]
    public void TrainClassifierOnSyntheticBars()
    {
        _folder = TestData.IdxFolder(count: 400, testCount: 200);
        _evaluator = Evaluator.Open(_folder, epochs: 2);
    }

    [OneTimeTearDown]
    public void Dispose() => _evaluator.Dispose();

    private string? _conditionalCheckpoint;

    /// <summary>A conditional generator trained for two steps on the bars, trained once for the tests that need one.</summary>
    private string TinyConditionalCheckpoint()
    {
        if (_conditionalCheckpoint is not null) return _conditionalCheckpoint;
        var run = TestData.NewTempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(Cli.TrainerCli.Run(["train", "--data", _folder, "--out", run, "--steps", "2", "--batch-size", "16", "--width", "8", "--latent", "8", "--conditional"], output, error), Is.EqualTo(0), error.ToString());
        return _conditionalCheckpoint = Path.Combine(run, "checkpoint.gockpt");
    }

    [Test]
    public void TheClassifierLearnsTheDatasetAndIsSavedBesideIt()
    {
        Assert.That(_evaluator.ClassifierAccuracy, Is.GreaterThan(0.9));
        Assert.That(File.Exists(Path.Combine(_folder, Evaluator.ClassifierFileName)), Is.True);
        using var again = Evaluator.Open(_folder);
        Assert.That(again.ClassifierAccuracy, Is.EqualTo(_evaluator.ClassifierAccuracy), "the saved classifier is reused");
    }

    [Test]
    public void RealImagesScoreNearTheFloorAndACollapsedGeneratorScoresFarFromIt()
    {
        var test = _evaluator.Train.Images;
        var labels = _evaluator.Train.Labels;
        GeneratorScorer.ImageSource real = (count, start) =>
            (test.narrow(0, start % 300, count).contiguous().data<float>().ToArray(), labels.narrow(0, start % 300, count).data<long>().ToArray());
        var good = GeneratorScorer.Score(_evaluator.Classifier, real, 100, _evaluator.Train, _evaluator.Test, _evaluator.ClassifierAccuracy);

        // Mode collapse: every image is the same bar (class 3).
        var one = test.narrow(0, 3, 1).contiguous().data<float>().ToArray();
        GeneratorScorer.ImageSource collapsed = (count, _) => (Enumerable.Range(0, count).SelectMany(_ => one).ToArray(), null);
        var bad = GeneratorScorer.Score(_evaluator.Classifier, collapsed, 100, _evaluator.Train, _evaluator.Test, _evaluator.ClassifierAccuracy);

        TestContext.Out.WriteLine($"real: FD {good.FrechetDistance:F3} floor {good.FrechetFloor:F3} entropy {good.ClassEntropy:F3}; collapsed: FD {bad.FrechetDistance:F3} entropy {bad.ClassEntropy:F3}");
        Assert.That(good.ClassEntropy, Is.GreaterThan(0.97));
        Assert.That(good.RealClassEntropy, Is.GreaterThan(0.97), "the held-out real images' own class entropy (balanced test data)");
        Assert.That(good.ClassEntropyRatio, Is.EqualTo(good.ClassEntropy / good.RealClassEntropy).Within(1e-12));
        Assert.That(bad.RealClassEntropy, Is.EqualTo(good.RealClassEntropy), "a property of the real data, not of the generator");
        Assert.That(good.ClassAccuracy, Is.GreaterThan(0.9));
        Assert.That(bad.ClassEntropy, Is.LessThan(0.1));
        Assert.That(bad.ClassHistogram[3], Is.EqualTo(100));
        Assert.That(bad.FrechetDistance, Is.GreaterThan(10 * Math.Max(good.FrechetDistance, good.FrechetFloor)));
        Assert.That(bad.ClassAccuracy, Is.Null);
        Assert.That(bad.RealClassAccuracy, Is.Null, "unconditional: no class was asked for");
        Assert.That(good.RealClassAccuracy, Is.EqualTo(Classifier.BalancedAccuracy(_evaluator.Classifier, _evaluator.Test)));
    }

    [Test]
    public void HeldOutImagesAskedForAsTheirOwnClassesScoreTheRealClassAccuracy()
    {
        // The 200 held-out bars are stored class i % 10 at index i: every class equally often, as a conditional model is asked.
        var test = _evaluator.Test;
        GeneratorScorer.ImageSource asThemselves = (count, start) =>
            (test.Images.narrow(0, start, count).contiguous().data<float>().ToArray(), test.Labels.narrow(0, start, count).data<long>().ToArray());
        var scores = GeneratorScorer.Score(_evaluator.Classifier, asThemselves, _evaluator.Reference(200), _evaluator.ClassifierAccuracy);
        Assert.That(scores.ClassAccuracy, Is.EqualTo(scores.RealClassAccuracy!.Value).Within(1e-12));
        Assert.That(scores.ToMetadata()["real_class_accuracy"], Is.EqualTo(Math.Round(scores.RealClassAccuracy.Value, 4)));
    }

    [Test]
    public void BalancedAccuracyIsTheMeanRecallOverTheClassesPresentWhateverTheirShares()
    {
        // 100 images of class 9 (its 20 held-out bars five times) and class 0's 20 bars labelled 1: the classifier gets
        // class 9 right and class "1" wrong, so accuracy follows the common class and balanced accuracy weighs both alike.
        var (pixels, labels) = TestData.Bars(200, seed: 2);
        const int side = 28 * 28;
        var nines = Enumerable.Range(0, 200).Where(i => labels[i] == 9).ToArray();
        var zeros = Enumerable.Range(0, 200).Where(i => labels[i] == 0).ToArray();
        var picked = Enumerable.Repeat(nines, 5).SelectMany(x => x).Concat(zeros).ToArray();
        var mixPixels = picked.SelectMany(i => pixels.Skip(i * side).Take(side)).ToArray();
        var mixLabels = picked.Select(i => labels[i] == 9 ? (byte)9 : (byte)1).ToArray();
        using var mix = ImageDataset.FromBytes("bars", mixPixels, mixLabels, picked.Length, 1, 28, 28, ValueRange.Sigmoid);

        var classifier = _evaluator.Classifier;
        var recall = Classifier.Recall(classifier, mix);
        Assert.That(recall.Where((_, c) => c is not 1 and not 9), Is.All.NaN, "classes without images");
        Assert.That(recall[9], Is.EqualTo(Classifier.Recall(classifier, _evaluator.Test)[9]), "the same images, repeated, are classified the same");
        Assert.That(recall[1], Is.LessThan(0.2), "class 0's bars are not classified as 1");
        var balanced = Classifier.BalancedAccuracy(classifier, mix);
        Assert.That(balanced, Is.EqualTo((recall[1] + recall[9]) / 2).Within(1e-12));
        Assert.That(Classifier.Accuracy(classifier, mix), Is.EqualTo((100 * recall[9] + 20 * recall[1]) / 120).Within(1e-12));
        Assert.That(Classifier.Accuracy(classifier, mix), Is.GreaterThan(balanced + 0.2));
    }

    [Test]
    public void TheFloorSamplesTheWholeTrainingSetEvenWhenItIsStoredClassByClass()
    {
        // The same training images stored class by class, as an emoji set in code-point order or an image folder is.
        var train = _evaluator.Train;
        var order = train.Labels.argsort();
        var pixels = train.Images.index_select(0, order).mul(255).round().to_type(ScalarType.Byte).contiguous().data<byte>().ToArray();
        var labels = train.Labels.index_select(0, order).to_type(ScalarType.Byte).data<byte>().ToArray();
        var n = (int)train.Count;
        using var sorted = ImageDataset.FromBytes("sorted", pixels, labels, n, train.Channels, train.Height, train.Width, ValueRange.Sigmoid);
        using var firstQuarter = ImageDataset.FromBytes("first", pixels[..(pixels.Length / 4)], labels[..(n / 4)], n / 4, train.Channels, train.Height, train.Width, ValueRange.Sigmoid);
        Assert.That(labels[..(n / 4)].Distinct().Count(), Is.LessThan(labels.Distinct().Count()), "the first quarter misses classes");

        var test = _evaluator.Test.Images;
        GeneratorScorer.ImageSource real = (count, start) => (test.narrow(0, start, count).contiguous().data<float>().ToArray(), null);
        QualityScores Floor(ImageDataset reference) =>
            GeneratorScorer.Score(_evaluator.Classifier, real, n / 4, reference, _evaluator.Test, _evaluator.ClassifierAccuracy);
        var shuffled = Floor(train).FrechetFloor;
        var drawn = Floor(sorted).FrechetFloor;
        var first = Floor(firstQuarter).FrechetFloor;
        TestContext.Out.WriteLine($"floor at {n / 4} images: stored shuffled {shuffled:F3}, class by class {drawn:F3}, its first images only {first:F3}");
        Assert.That(first, Is.GreaterThan(5 * shuffled), "the first quarter of a class-by-class set is a bad sample");
        Assert.That(drawn, Is.LessThan(first / 5), "a quarter of a class-by-class set, drawn from all of it, is not its first quarter");
    }

    [Test]
    public void TheEvaluatorKeepsTheRealSideOfAScoringPerCountAndScoresAsWithoutIt()
    {
        var reference = _evaluator.Reference(100);
        Assert.That(_evaluator.Reference(100), Is.SameAs(reference), "computed once per count");
        Assert.That(_evaluator.Reference(50), Is.Not.SameAs(reference));
        Assert.That(reference.Count, Is.EqualTo(100));
        Assert.That(reference.Mean.shape, Is.EqualTo(new long[] { _evaluator.Classifier.Config.FeatureDim }));
        Assert.That(reference.Covariance.shape, Is.EqualTo(new long[] { _evaluator.Classifier.Config.FeatureDim, _evaluator.Classifier.Config.FeatureDim }));
        using (NewDisposeScope()) _evaluator.Reference(75);
        Assert.That(_evaluator.Reference(75).Mean.IsInvalid || _evaluator.Reference(75).Covariance.IsInvalid, Is.False, "made inside a dispose scope (a training step's), kept after it");

        // Two different generators (held-out images in two orders) scored through the kept reference and from scratch.
        var test = _evaluator.Test.Images;
        foreach (var offset in new[] { 0, 37 })
        {
            GeneratorScorer.ImageSource source = (count, start) =>
                (test.narrow(0, (start + offset) % 100, count).contiguous().data<float>().ToArray(), null);
            var kept = GeneratorScorer.Score(_evaluator.Classifier, source, reference, _evaluator.ClassifierAccuracy);
            var fresh = GeneratorScorer.Score(_evaluator.Classifier, source, 100, _evaluator.Train, _evaluator.Test, _evaluator.ClassifierAccuracy);
            Assert.That(kept.FrechetDistance, Is.EqualTo(fresh.FrechetDistance).Within(1e-9));
            Assert.That(kept.FrechetFloor, Is.EqualTo(fresh.FrechetFloor).Within(1e-9));
            Assert.That(kept.RealClassEntropy, Is.EqualTo(fresh.RealClassEntropy));
            Assert.That(kept.ClassHistogram, Is.EqualTo(fresh.ClassHistogram));
        }
        Assert.That(reference.Mean.IsInvalid || reference.Covariance.IsInvalid, Is.False, "scoring does not dispose the kept reference");
    }

    [Test]
    public void TheRealSideIsKeptBesideTheDataAndReadBackOnlyForTheSameClassifierAndImages()
    {
        var folder = TestData.IdxFolder(count: 200, testCount: 100);
        var log = new StringWriter();
        RealReference first;
        QualityScores scored;
        var test = _evaluator.Test.Images;
        GeneratorScorer.ImageSource source = (count, start) => (test.narrow(0, start + 7, count).contiguous().data<float>().ToArray(), null);
        using (var evaluator = Evaluator.Open(folder, epochs: 1, log: log))
        {
            first = evaluator.Reference(60);
            scored = GeneratorScorer.Score(evaluator.Classifier, source, first, evaluator.ClassifierAccuracy);
            Assert.That(log.ToString(), Does.Contain("statistics for 60 images computed in"));
            var files = Directory.GetFiles(Path.Combine(folder, Evaluator.CacheFolderName));
            Assert.That(files.Select(Path.GetFileName), Has.One.Match(@"^real-60-[0-9a-f]{16}\.bin$"));
            var floors = first.Floors.ToArray();
            var mean = first.Mean.data<double>().ToArray();

            // A second evaluator of the same data and classifier (a resumed run, another eval) reads it back.
            log.GetStringBuilder().Clear();
            using var again = Evaluator.Open(folder, log: log);
            var read = again.Reference(60);
            Assert.That(log.ToString(), Does.Contain("statistics for 60 images from").And.Not.Contain("computed"));
            Assert.That(read.Floors, Is.EqualTo(floors));
            Assert.That(read.Mean.data<double>().ToArray(), Is.EqualTo(mean));
            Assert.That(read.Covariance.data<double>().ToArray(), Is.EqualTo(first.Covariance.data<double>().ToArray()));
            Assert.That(read.Histogram, Is.EqualTo(first.Histogram));
            Assert.That(read.HeldOutCount, Is.EqualTo(first.HeldOutCount));
            Assert.That(read.ClassAccuracy, Is.EqualTo(first.ClassAccuracy));
            var rescored = GeneratorScorer.Score(again.Classifier, source, read, again.ClassifierAccuracy);
            Assert.That(rescored.FrechetDistance, Is.EqualTo(scored.FrechetDistance), "bit for bit");
            Assert.That(rescored.FrechetFloor, Is.EqualTo(scored.FrechetFloor));

            // A file that cannot be read is computed again and rewritten.
            var file = files.Single();
            File.WriteAllBytes(file, File.ReadAllBytes(file)[..100]);
            log.GetStringBuilder().Clear();
            using (var third = Evaluator.Open(folder, log: log))
            {
                Assert.That(third.Reference(60).Floors, Is.EqualTo(floors));
                Assert.That(log.ToString(), Does.Contain("computed in"));
            }
            Assert.That(new FileInfo(file).Length, Is.GreaterThan(100), "rewritten whole");
            var whole = File.ReadAllBytes(file);
            File.WriteAllBytes(file, Enumerable.Repeat((byte)0xFF, 64).ToArray()); // not even a string length
            using (var fourth = Evaluator.Open(folder, log: TextWriter.Null)) Assert.That(fourth.Reference(60).Floors, Is.EqualTo(floors));
            Assert.That(File.ReadAllBytes(file), Is.EqualTo(whole), "rewritten as before");
        }

        // Another classifier of the same data, and the same classifier on other images, do not use it.
        log.GetStringBuilder().Clear();
        using (var other = Evaluator.Open(folder, Path.Combine(TestData.NewTempFolder(), "other.gockpt"), epochs: 2, log: log))
        {
            other.Reference(60);
            Assert.That(log.ToString(), Does.Contain("computed in"));
        }
        var otherData = Path.Combine(TestData.NewTempFolder(), Path.GetFileName(folder)); // the dataset's name is its folder's
        Directory.Move(TestData.IdxFolder(count: 300, testCount: 100), otherData);
        log.GetStringBuilder().Clear();
        using (var otherImages = Evaluator.Open(otherData, Path.Combine(folder, Evaluator.ClassifierFileName), log: log))
        {
            otherImages.CacheFolder = Path.Combine(folder, Evaluator.CacheFolderName);
            Assert.That(otherImages.Reference(60).Floors, Is.Not.EqualTo(first.Floors));
            Assert.That(log.ToString(), Does.Contain("computed in"));
        }
        Assert.That(Directory.GetFiles(Path.Combine(folder, Evaluator.CacheFolderName)), Has.Length.EqualTo(3));

        // A folder it cannot write to costs only the time.
        log.GetStringBuilder().Clear();
        using (var readOnly = Evaluator.Open(folder, log: log))
        {
            var blocked = Path.Combine(TestData.NewTempFolder(), "a file");
            File.WriteAllText(blocked, "");
            readOnly.CacheFolder = blocked;
            Assert.That(readOnly.Reference(60).Floors, Is.EqualTo(first.Floors));
            Assert.That(log.ToString(), Does.Contain("could not keep"));
        }
    }

    [Test]
    public void TheFloorIsTheMeanOverRandomTrainingSamplesAgainstEveryHeldOutImage()
    {
        var reference = _evaluator.Reference(100);
        Assert.That(reference.HeldOutCount, Is.EqualTo(_evaluator.Test.Count), "all 200 held-out images, not 100 of them");
        Assert.That(reference.Floors, Has.Count.EqualTo(GeneratorScorer.FloorDraws).And.Unique, "eight different training samples");
        Assert.That(reference.Floor, Is.EqualTo(reference.Floors.Average()).Within(1e-12));
        Assert.That(reference.FloorSd, Is.GreaterThan(0));

        // The first draw is the training sample Sample gives by default, compared with every held-out image.
        using (var scope = NewDisposeScope())
        {
            var train = _evaluator.Train;
            var first = GeneratorScorer.Sample(train.Images, 100);
            GeneratorScorer.ImageSource firstSample = (count, start) => (first.narrow(0, start, count).contiguous().data<float>().ToArray(), null);
            var scored = GeneratorScorer.Score(_evaluator.Classifier, firstSample, reference, _evaluator.ClassifierAccuracy);
            Assert.That(scored.FrechetDistance, Is.EqualTo(reference.Floors[0]).Within(1e-9));
            Assert.That(scored.FrechetFloor, Is.EqualTo(reference.Floor));
            Assert.That(scored.FrechetFloorSd, Is.EqualTo(reference.FloorSd));
            Assert.That(scored.HeldOutCount, Is.EqualTo(200));
        }

        // With every training image each draw is the same: one floor, no spread.
        var all = _evaluator.Reference((int)_evaluator.Train.Count);
        Assert.That(all.Floors, Has.Count.EqualTo(1));
        Assert.That(all.FloorSd, Is.EqualTo(0));
    }

    [Test]
    public void TheRealSampleIsTheSameEveryTimeInStoredOrderAndAllImagesWhenThereAreFewer()
    {
        using var scope = NewDisposeScope();
        var images = arange(1000, dtype: ScalarType.Int64);
        var sample = GeneratorScorer.Sample(images, 100).data<long>().ToArray();
        Assert.That(sample, Has.Length.EqualTo(100).And.Unique.And.Ordered);
        Assert.That(GeneratorScorer.Sample(images, 100).data<long>().ToArray(), Is.EqualTo(sample), "a fixed seed");
        Assert.That(sample.Count(i => i < 500), Is.InRange(30, 70), "from the whole set, not its start");
        Assert.That(sample.Count(i => i % 2 == 0), Is.InRange(30, 70), "not every k-th image");
        Assert.That(GeneratorScorer.Sample(images, 1000).data<long>().ToArray(), Is.EqualTo(Enumerable.Range(0, 1000).Select(i => (long)i)));
        Assert.That(GeneratorScorer.Sample(images, 5000).data<long>().ToArray(), Has.Length.EqualTo(1000));
    }

    [Test]
    public void TheFrechetDistanceOfShiftedGaussiansIsTheSquaredShift()
    {
        manual_seed(5);
        using var scope = NewDisposeScope();
        var a = randn(20000, 4, dtype: ScalarType.Float64);
        var b = a + tensor(new double[] { 3, 0, 0, 4 });
        Assert.That(GeneratorScorer.FrechetDistance(a, a), Is.EqualTo(0).Within(1e-6));
        Assert.That(GeneratorScorer.FrechetDistance(a, b), Is.EqualTo(25).Within(1e-6));
        var c = randn(20000, 4, dtype: ScalarType.Float64) * 2; // covariance 4I against I: Tr(I + 4I − 2·2I) = 4
        Assert.That(GeneratorScorer.FrechetDistance(a, c), Is.EqualTo(4).Within(0.15));
    }

    [Test]
    public void NormalizedEntropyIsOneForUniformAndZeroForOneClass()
    {
        Assert.That(GeneratorScorer.NormalizedEntropy([5, 5, 5, 5]), Is.EqualTo(1).Within(1e-12));
        Assert.That(GeneratorScorer.NormalizedEntropy([0, 20, 0, 0]), Is.EqualTo(0));
        Assert.That(GeneratorScorer.NormalizedEntropy([10, 10, 0, 0]), Is.EqualTo(0.5).Within(1e-12));
    }

    [Test]
    public void AnExportedGeneratorIsScoredAndItsScoresGoIntoTheModelMetadata()
    {
        var checkpoint = TinyConditionalCheckpoint();
        var run = TestData.NewTempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var json = Path.Combine(run, "eval.json");
        Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--checkpoint", checkpoint, "--count", "50", "--json", json], output, error), Is.EqualTo(0), error.ToString());
        Assert.That(output.ToString(), Does.Contain("Fréchet distance").And.Contain("class accuracy"));
        var onnx = Path.Combine(run, "m.onnx");
        Assert.That(Cli.TrainerCli.Run(["export", "--checkpoint", checkpoint, "--out", onnx, "--quality", json], output, error), Is.EqualTo(0), error.ToString());
        using var session = GeneratorSession.Load(onnx);
        Assert.That(session.Contract.Quality.Keys, Is.SupersetOf(new[] { "frechet_distance", "frechet_floor", "class_entropy", "class_accuracy", "mean_confidence" }));
    }

    [Test]
    public void EvalScoresTruncatedSamplingWhenAskedAndSuchScoresAreNotRecordedInAModel()
    {
        var checkpoint = TinyConditionalCheckpoint();
        var run = TestData.NewTempFolder();
        QualityScores Eval(string json, params string[] extra)
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--checkpoint", checkpoint, "--count", "200", "--json", json, .. extra], output, error), Is.EqualTo(0), error.ToString());
            if (extra.Length > 0) Assert.That(output.ToString(), Does.Contain("latents truncated to ψ 0.25"));
            return System.Text.Json.JsonSerializer.Deserialize<QualityScores>(File.ReadAllText(json))!;
        }
        var plainJson = Path.Combine(run, "plain.json");
        var truncatedJson = Path.Combine(run, "truncated.json");
        var plain = Eval(plainJson);
        var truncated = Eval(truncatedJson, "--truncation", "0.25");
        Assert.That(plain.Truncation, Is.Null);
        Assert.That(File.ReadAllText(plainJson), Does.Not.Contain("truncation"));
        Assert.That(truncated.Truncation, Is.EqualTo(0.25).Within(1e-6));
        // The same latents, scaled: other images, so other features (the seed's order of classes stays).
        Assert.That(truncated.FrechetDistance, Is.Not.EqualTo(plain.FrechetDistance));
        Assert.That(truncated.FrechetFloor, Is.EqualTo(plain.FrechetFloor), "the real images' floor does not depend on the generator");

        // The same option on an exported model gives the same scores as on its checkpoint.
        var onnx = Path.Combine(run, "m.onnx");
        using (var output = new StringWriter())
        using (var error = new StringWriter())
        {
            Assert.That(Cli.TrainerCli.Run(["export", "--checkpoint", checkpoint, "--out", onnx], output, error), Is.EqualTo(0), error.ToString());
            var modelJson = Path.Combine(run, "model.json");
            Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--model", onnx, "--count", "200", "--truncation", "0.25", "--json", modelJson], output, error), Is.EqualTo(0), error.ToString());
            var fromModel = System.Text.Json.JsonSerializer.Deserialize<QualityScores>(File.ReadAllText(modelJson))!;
            Assert.That(fromModel.FrechetDistance, Is.EqualTo(truncated.FrechetDistance).Within(1e-3));

            // A model's recorded quality is of its untruncated images: both ways of recording refuse the file, naming it.
            var recorded = Path.Combine(run, "recorded.onnx");
            var refusals = new[]
            {
                new[] { "export", "--checkpoint", checkpoint, "--out", recorded, "--quality", truncatedJson },
                new[] { "record-quality", "--model", onnx, "--quality", truncatedJson },
            };
            foreach (var args in refusals)
            {
                using var refusedError = new StringWriter();
                Assert.That(Cli.TrainerCli.Run(args, output, refusedError), Is.EqualTo(1), args[0]);
                Assert.That(refusedError.ToString(), Does.Contain($"Quality file '{truncatedJson}' scores images sampled with truncation ψ 0.25"), args[0]);
            }
            Assert.That(File.Exists(recorded), Is.False, "nothing written");
            using var unchanged = GeneratorSession.Load(onnx);
            Assert.That(unchanged.Contract.Quality, Is.Empty, "record-quality left the model as it was");
        }

        foreach (var bad in new[] { "0", "1.5", "-1", "NaN" })
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--checkpoint", checkpoint, "--count", "20", "--truncation", bad], output, error), Is.EqualTo(1), bad);
            Assert.That(error.ToString(), Does.Contain("--truncation is"), bad);
        }
    }

    [Test]
    public void ScoringAModelAgainstAnotherDatasetThanItsOwnIsWarnedAbout()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var shipped = Path.Combine(TestPaths.RepositoryRoot, "models", "mnist-dcgan", "model.onnx");
        Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--model", shipped, "--count", "20"], output, error), Is.EqualTo(0), error.ToString());
        Assert.That(error.ToString(), Does.Contain($"warning: '{shipped}' was trained on 'mnist'; these scores compare it with '{Path.GetFileName(_folder)}'."));
        Assert.That(output.ToString(), Does.Contain("Fréchet distance"), "a warning, and the scores all the same");

        using var ownOutput = new StringWriter();
        using var ownError = new StringWriter();
        Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--checkpoint", TinyConditionalCheckpoint(), "--count", "20"], ownOutput, ownError), Is.EqualTo(0), ownError.ToString());
        Assert.That(ownError.ToString(), Does.Not.Contain("warning"), "a model of this data");
    }

    [Test]
    public void AConditionalModelIsAskedForTheClassesInTheTrainingSetsSharesInterleaved()
    {
        // The emoji set's training images per category (People & Body three fifths), and a class with no images.
        long[] perClass = [76, 141, 243, 119, 239, 2034, 153, 199, 199, 0];
        var asked = GeneratorScorer.AskedClasses(perClass, 2000);
        var total = perClass.Sum();
        for (var prefix = 1; prefix <= asked.Length; prefix++)
            for (var k = 0; k < perClass.Length; k++)
            {
                var share = (double)prefix * perClass[k] / total;
                var got = asked.Take(prefix).Count(c => c == k);
                Assert.That(got, Is.InRange(Math.Floor(share) - 1, Math.Ceiling(share) + 1), $"class {k} in the first {prefix}");
            }
        Assert.That(asked, Has.None.EqualTo(9), "a class without training images is never asked for");
        Assert.That(asked.Take(20).Distinct().Count(), Is.GreaterThan(5), "interleaved, not class by class");

        Assert.That(GeneratorScorer.AskedClasses([7, 7, 7, 7], 10), Is.EqualTo(new long[] { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 }), "equal shares: k mod the class count");
        Assert.That(_evaluator.AskedClasses(10, 30), Is.EqualTo(Enumerable.Range(0, 30).Select(k => (long)(k % 10))), "the balanced bars: the runtime's own order");
        Assert.Throws<ArgumentException>(() => GeneratorScorer.AskedClasses([0, 0], 5));
        Assert.Throws<ArgumentException>(() => GeneratorScorer.AskedClasses([3, -1], 5));
    }

    [Test]
    public void AConditionalModelScoredWithAskedClassesGetsTheLatentsGenerateGivesEachIndex()
    {
        var onnx = Path.Combine(TestData.NewTempFolder(), "m.onnx");
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(Cli.TrainerCli.Run(["export", "--checkpoint", TinyConditionalCheckpoint(), "--out", onnx], output, error), Is.EqualTo(0), error.ToString());
        using var session = GeneratorSession.Load(onnx);

        long[] asked = [5, 5, 5, 2, 5, 9, 5, 0];
        var (pixels, labels) = GeneratorScorer.FromSession(session, seed: 7, askedClasses: asked)(4, 3);
        Assert.That(labels, Is.EqualTo(asked[3..7]));
        var side = session.Contract.ValuesPerImage;
        for (var i = 0; i < 4; i++)
        {
            var expected = session.Generate(1, 7, 3 + i, classIndex: (int)asked[3 + i]);
            Assert.That(pixels.AsSpan(i * side, side).ToArray(), Is.EqualTo(GeneratorScorer.ToUnit(expected.Pixels, expected.ValueRange)), $"image {3 + i}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => GeneratorScorer.FromSession(session, askedClasses: asked)(4, 6));

        // Balanced bars: the evaluator asks in the runtime's order, so the scores are those of generate's own labels.
        var scored = _evaluator.Score(session, 60);
        var plain = GeneratorScorer.Score(_evaluator.Classifier, GeneratorScorer.FromSession(session), _evaluator.Reference(60), _evaluator.ClassifierAccuracy);
        Assert.That(scored.FrechetDistance, Is.EqualTo(plain.FrechetDistance));
        Assert.That(scored.ClassAccuracy, Is.EqualTo(plain.ClassAccuracy));
    }

    [Test]
    public void ClassAccuracyWeighsEveryClassAskedForAlike()
    {
        // 100 held-out bars, ten of each class, asked for as their own class, except that class 3's are asked for as 4:
        // class 4 is asked for 20 times and gets half of them wrong, class 3 is not asked for.
        var test = _evaluator.Test;
        var labels = test.Labels.narrow(0, 0, 100).data<long>().ToArray();
        for (var i = 0; i < labels.Length; i++) if (labels[i] == 3) labels[i] = 4;
        GeneratorScorer.ImageSource source = (count, start) =>
            (test.Images.narrow(0, start, count).contiguous().data<float>().ToArray(), labels.AsSpan((int)start, count).ToArray());
        var scores = GeneratorScorer.Score(_evaluator.Classifier, source, _evaluator.Reference(100), _evaluator.ClassifierAccuracy);

        long[] predicted;
        using (no_grad())
        {
            _evaluator.Classifier.eval();
            using var logits = _evaluator.Classifier.forward(test.Images.narrow(0, 0, 100));
            predicted = logits.argmax(1).data<long>().ToArray();
        }
        var right = Enumerable.Range(0, 100).Select(i => predicted[i] == labels[i] ? 1.0 : 0.0).ToArray();
        var plain = right.Average();
        var perClass = Enumerable.Range(0, 10).Where(k => labels.Contains(k)).Select(k => Enumerable.Range(0, 100).Where(i => labels[i] == k).Average(i => right[i])).ToArray();
        TestContext.Out.WriteLine($"class accuracy {scores.ClassAccuracy:F4}; plain share {plain:F4}; per class {string.Join(" ", perClass.Select(r => r.ToString("F2")))}");
        Assert.That(perClass, Has.Length.EqualTo(9));
        Assert.That(scores.ClassAccuracy, Is.EqualTo(perClass.Average()).Within(1e-12));
        Assert.That(scores.ClassAccuracy, Is.GreaterThan(plain + 0.02), "the class asked for twice as often counts once");
    }

    [Test]
    public void EvalNeedsExactlyOneGenerator()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder], output, error), Is.Not.EqualTo(0));
        Assert.That(error.ToString(), Does.Contain("exactly one of --model"));
    }

    [Test]
    public void PerClassScoresFindTheOneClassAGeneratorGetsWrong()
    {
        // A "generator" of training bars of the class asked for (k mod 10), except that its bars of class 3 are noisy.
        var train = _evaluator.Train;
        var labels = train.Labels.data<long>().ToArray();
        var byClass = Enumerable.Range(0, 10).Select(c => Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray()).ToArray();
        var pixelsPerImage = (int)(train.Images.numel() / train.Count);
        var pixels = train.Images.contiguous().data<float>().ToArray();
        (float[], long[]?) Make(int count, long start, bool conditional)
        {
            var result = new float[count * pixelsPerImage];
            var asked = new long[count];
            for (var i = 0; i < count; i++)
            {
                var k = start + i;
                var c = (int)(k % 10);
                var image = byClass[c][(int)(k / 10) % byClass[c].Length];
                Array.Copy(pixels, image * pixelsPerImage, result, i * pixelsPerImage, pixelsPerImage);
                asked[i] = c;
                if (c != 3) continue;
                var noise = new Random((int)k);
                for (var p = i * pixelsPerImage; p < (i + 1) * pixelsPerImage; p++) result[p] = Math.Clamp(result[p] + 0.4f * (noise.NextSingle() - 0.5f), 0f, 1f);
            }
            return (result, conditional ? asked : null);
        }

        foreach (var conditional in new[] { true, false })
        {
            var rows = PerClassScores.Score(_evaluator.Classifier, (count, start) => Make(count, start, conditional), 200, train, _evaluator.Test);
            TestContext.Out.WriteLine($"{(conditional ? "by class asked" : "by prediction")}: " + string.Join("; ", rows.Select(r => $"{r.Class}: {r.Generated}/{r.HeldOut} {r.FrechetDistance:G3}/{r.FrechetFloor:G3}")));
            Assert.That(rows.Select(r => r.Class), Is.EqualTo(Enumerable.Range(0, 10)));
            Assert.That(rows.Sum(r => r.Generated), Is.EqualTo(200));
            Assert.That(rows.All(r => r.FrechetRatio is not null), Is.True);
            var others = rows.Where(r => r.Class != 3).ToArray();
            Assert.That(rows[3].FrechetRatio, Is.GreaterThan(10 * others.Max(r => r.FrechetRatio!.Value)), "the noisy class stands out");
            Assert.That(others.Max(r => r.FrechetRatio!.Value), Is.LessThan(2.5), "real bars of the right class score near their floor");
            if (conditional)
            {
                Assert.That(rows.Select(r => r.Generated), Is.All.EqualTo(20), "grouped by the class asked for");
                Assert.That(rows.Select(r => r.HeldOut), Is.All.EqualTo(20), "the held-out bars by their labels (200, every class alike)");
            }
        }
    }

    [Test]
    public void EvalPerClassPrintsAndRecordsARowPerClass()
    {
        var run = TestData.NewTempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var json = Path.Combine(run, "eval.json");
        Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--checkpoint", TinyConditionalCheckpoint(), "--count", "100", "--per-class", "--json", json], output, error), Is.EqualTo(0), error.ToString());
        Assert.That(output.ToString(), Does.Contain("per class (generated images by the class asked for"));
        Assert.That(output.ToString(), Does.Contain("mostly sampling bias"), "10 images a class, fewer than the classifier's 128 features");
        var scores = System.Text.Json.JsonSerializer.Deserialize<QualityScores>(File.ReadAllText(json))!;
        Assert.That(scores.PerClass, Has.Count.EqualTo(10));
        Assert.That(scores.PerClass!.Sum(r => r.Generated), Is.EqualTo(100));
        Assert.That(scores.PerClass!.All(r => r.FrechetDistance > 0), Is.True);
        // Without the option the record has no per-class part.
        Assert.That(Cli.TrainerCli.Run(["eval", "--data", _folder, "--checkpoint", TinyConditionalCheckpoint(), "--count", "100", "--json", json], output, error), Is.EqualTo(0), error.ToString());
        Assert.That(File.ReadAllText(json), Does.Not.Contain("per_class"));
    }
}
