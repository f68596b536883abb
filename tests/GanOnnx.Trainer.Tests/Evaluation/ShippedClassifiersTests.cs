using System.Text.Json;
using GanOnnx.Runtime;
using GanOnnx.Tests;
using GanOnnx.Trainer.Evaluation;

namespace GanOnnx.Trainer.Tests.Evaluation;

/// <summary>
/// The evaluation classifiers in models/classifiers are the ones every shipped model was scored with: a classifier
/// trained again on another machine (or with another thread count) comes out slightly different, and the Fréchet ratio
/// moves with it by up to about 10 %, so the cards are only comparable, and reproducible, under one fixed classifier.
/// </summary>
public class ShippedClassifiersTests
{
    private static string ClassifierFolder => Path.Combine(TestPaths.RepositoryRoot, "models", "classifiers");

    public static IEnumerable<TestCaseData> Models() =>
        TestPaths.ShippedModelNames().Select(name => new TestCaseData(name).SetName($"models/{name} was scored with its dataset's shipped classifier"));

    [TestCaseSource(nameof(Models))]
    public void EveryShippedModelWasScoredWithItsDatasetsShippedClassifier(string name)
    {
        var folder = Path.Combine(TestPaths.RepositoryRoot, "models", name);
        string dataset;
        using (var session = GeneratorSession.Load(Path.Combine(folder, "model.onnx")))
            dataset = session.Contract.Dataset ?? throw new AssertionException($"{name} names no dataset");
        var classifierPath = Path.Combine(ClassifierFolder, dataset + ".gockpt");
        Assert.That(File.Exists(classifierPath), $"models/classifiers/{dataset}.gockpt ships");

        var (classifier, trainedOn, accuracy) = Classifier.Load(classifierPath);
        using (classifier)
        {
            Assert.That(trainedOn, Is.EqualTo(dataset));
            using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "eval.json")));
            Assert.That(eval.RootElement.GetProperty("classifier_accuracy").GetDouble(), Is.EqualTo(accuracy),
                "eval.json records the held-out accuracy of the classifier that scored it; it must be the shipped one's");
        }
    }

    [Test]
    public void TheShippedClassifiersLoadAndClassifyTheirDatasetsImageShape()
    {
        // Each dataset's image shape, classes and the least held-out accuracy worth scoring with.
        var expected = new Dictionary<string, (ClassifierConfig Config, double Accuracy)>
        {
            ["emoji-google"] = (new ClassifierConfig(3, 64, 9), 0.84),
            ["fashion-mnist"] = (new ClassifierConfig(1, 28, 10), 0.92),
            ["mnist"] = (new ClassifierConfig(1, 28, 10), 0.95),
        };
        var files = Directory.GetFiles(ClassifierFolder, "*.gockpt").Order(StringComparer.Ordinal).ToArray();
        Assert.That(files.Select(Path.GetFileNameWithoutExtension), Is.EqualTo(expected.Keys.Order(StringComparer.Ordinal)));
        foreach (var file in files)
        {
            var (classifier, dataset, accuracy) = Classifier.Load(file);
            using (classifier)
            {
                var (config, least) = expected[Path.GetFileNameWithoutExtension(file)];
                Assert.That(dataset, Is.EqualTo(Path.GetFileNameWithoutExtension(file)));
                Assert.That(classifier.Config, Is.EqualTo(config));
                Assert.That(accuracy, Is.GreaterThan(least), $"{dataset}: a classifier worth scoring with");
                using var images = TorchSharp.torch.rand(3, config.Channels, config.ImageSize, config.ImageSize);
                using var logits = classifier.forward(images);
                Assert.That(logits.shape, Is.EqualTo(new long[] { 3, config.NumClasses }));
            }
        }
    }
}
