using System.Text.Json;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Evaluation;

/// <summary>Shape of the evaluation classifier.</summary>
public sealed record ClassifierConfig(int Channels, int ImageSize, int NumClasses, int FeatureDim = 128);

/// <summary>
/// A small CNN trained on a labelled dataset to score generators: its penultimate layer gives the features for the
/// Fréchet distance, its softmax the class histogram and confidence. Inputs are images in [0, 1].
/// </summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear head;

    /// <summary>Builds the classifier with fresh weights.</summary>
    public Classifier(ClassifierConfig config) : base(nameof(Classifier))
    {
        Config = config;
        var pooled = config.ImageSize / 4;
        features = Sequential(
            ("conv1", new VerifiedConv2d(config.Channels, 32, 3, padding: 1)),
            ("relu1", ReLU()),
            ("pool1", MaxPool2d(2)),
            ("conv2", new VerifiedConv2d(32, 64, 3, padding: 1)),
            ("relu2", ReLU()),
            ("pool2", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("fc", Linear(64 * pooled * pooled, config.FeatureDim)),
            ("relu3", ReLU()));
        head = Linear(config.FeatureDim, config.NumClasses);
        RegisterComponents();
    }

    /// <summary>The configuration.</summary>
    public ClassifierConfig Config { get; }

    /// <summary>Class logits [B, K].</summary>
    public override Tensor forward(Tensor images) => head.forward(features.forward(images));

    /// <summary>Penultimate features [B, FeatureDim] and logits [B, K] in one pass.</summary>
    public (Tensor Features, Tensor Logits) Both(Tensor images)
    {
        var f = features.forward(images);
        return (f, head.forward(f));
    }

    /// <summary>
    /// Trains a classifier on <paramref name="data"/> (images in [0, 1]) with Adam for <paramref name="epochs"/> epochs and
    /// reports its accuracy on <paramref name="test"/>.
    /// </summary>
    public static (Classifier Model, double TestAccuracy) Train(Data.ImageDataset data, Data.ImageDataset test, int epochs = 3, int batch = 128, long seed = 1, TextWriter? log = null)
    {
        if (epochs < 1) throw new TrainerException($"Classifier epochs is {epochs}; it must be at least 1.");
        Diagnostics.Nnpack.Disable();
        manual_seed(seed);
        var classes = Math.Max(data.ClassNames.Count, (int)data.Labels.max().item<long>() + 1);
        var model = new Classifier(new ClassifierConfig(data.Channels, data.Height, classes));
        try
        {
            using var optimizer = new Training.Optimizers.Adam(model.parameters(), 1e-3);
            using var order = new torch.Generator((ulong)seed);
            for (var epoch = 1; epoch <= epochs; epoch++)
            {
                model.train();
                using var permutation = randperm(data.Count, generator: order);
                double lossSum = 0;
                var batches = 0;
                for (long start = 0; start + batch <= data.Count || (start == 0 && data.Count > 0); start += batch)
                {
                    using var scope = NewDisposeScope();
                    var n = Math.Min(batch, data.Count - start);
                    var index = permutation.narrow(0, start, n);
                    var loss = functional.cross_entropy(model.forward(data.Images.index_select(0, index)), data.Labels.index_select(0, index));
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>();
                    batches++;
                }
                log?.WriteLine($"classifier epoch {epoch}/{epochs}: loss {lossSum / Math.Max(batches, 1):F4}");
            }
            var accuracy = Accuracy(model, test);
            log?.WriteLine($"classifier test accuracy {accuracy:P2} on {test.Count} held-out images");
            return (model, accuracy);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Fraction of <paramref name="data"/> classified as its label.</summary>
    public static double Accuracy(Classifier model, Data.ImageDataset data)
    {
        var (hits, counts) = HitsPerClass(model, data);
        return data.Count == 0 ? 0 : (double)hits.Sum() / counts.Sum();
    }

    /// <summary>
    /// Per class, the fraction of <paramref name="data"/>'s images of that class classified as it (recall); NaN for a class
    /// with no images.
    /// </summary>
    public static double[] Recall(Classifier model, Data.ImageDataset data)
    {
        var (hits, counts) = HitsPerClass(model, data);
        return [.. hits.Zip(counts, (h, n) => n == 0 ? double.NaN : (double)h / n)];
    }

    /// <summary>
    /// Balanced accuracy: the mean <see cref="Recall"/> over the classes that have images. A conditional generator's class
    /// accuracy is the same mean over the classes asked for, so this — not <see cref="Accuracy"/>, which the common
    /// classes dominate — is the class accuracy that real images of the asked classes would score.
    /// </summary>
    public static double BalancedAccuracy(Classifier model, Data.ImageDataset data)
    {
        var (hits, counts) = HitsPerClass(model, data);
        return MeanRecall(hits, counts) ?? 0;
    }

    /// <summary>The mean over the classes with a positive count of hits / count (null when there is none).</summary>
    internal static double? MeanRecall(IReadOnlyList<long> hits, IReadOnlyList<long> counts)
    {
        var recalls = Enumerable.Range(0, counts.Count).Where(k => counts[k] > 0).Select(k => (double)hits[k] / counts[k]).ToArray();
        return recalls.Length == 0 ? null : recalls.Average();
    }

    private static (long[] Hits, long[] Counts) HitsPerClass(Classifier model, Data.ImageDataset data)
    {
        model.eval();
        using var _ = no_grad();
        var classes = model.Config.NumClasses;
        var hits = new long[classes];
        var counts = new long[classes];
        for (long start = 0; start < data.Count; start += 512)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(512, data.Count - start);
            var labels = data.Labels.narrow(0, start, n);
            var predicted = model.forward(data.Images.narrow(0, start, n)).argmax(1);
            var labelArray = labels.data<long>().ToArray();
            var hitArray = predicted.eq(labels).data<bool>().ToArray();
            for (var i = 0; i < labelArray.Length; i++)
            {
                var label = labelArray[i];
                if (label < 0 || label >= classes) throw new TrainerException($"Dataset '{data.Name}' has label {label}; its classifier has classes 0 to {classes - 1}.");
                counts[label]++;
                if (hitArray[i]) hits[label]++;
            }
        }
        return (hits, counts);
    }

    /// <summary>Saves the classifier as a checkpoint file (atomically), with its accuracy and dataset in the header.</summary>
    public void Save(string path, string dataset, double testAccuracy)
    {
        var checkpoint = new Checkpoint
        {
            Info = new Checkpoint.Header
            {
                Model = new ModelConfig { Channels = Config.Channels, ImageSize = Config.ImageSize, Architecture = GanArchitecture.Mlp, NumClasses = Config.NumClasses },
                Training = new TrainingOptions(),
                Dataset = dataset,
                Loss = "cross-entropy",
                Extra = new Dictionary<string, string>
                {
                    ["kind"] = "classifier",
                    ["classifier"] = JsonSerializer.Serialize(Config),
                    ["test_accuracy"] = testAccuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                },
            },
            Sections = new Dictionary<string, byte[]> { ["classifier"] = Checkpoint.StateOf(this) },
        };
        checkpoint.Save(path);
    }

    /// <summary>Loads a classifier saved by <see cref="Save"/>; refuses a file that is not one.</summary>
    public static (Classifier Model, string Dataset, double TestAccuracy) Load(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        if (checkpoint.Info.Extra.GetValueOrDefault("kind") != "classifier")
            throw new TrainerException($"'{path}' is a checkpoint but not an evaluation classifier.");
        var config = JsonSerializer.Deserialize<ClassifierConfig>(checkpoint.Info.Extra["classifier"])!;
        var model = new Classifier(config);
        try
        {
            checkpoint.LoadInto(model, "classifier", path);
            model.eval();
            var accuracy = double.Parse(checkpoint.Info.Extra["test_accuracy"], System.Globalization.CultureInfo.InvariantCulture);
            return (model, checkpoint.Info.Dataset, accuracy);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
