using GanOnnx.Trainer.Data;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Evaluation;

/// <summary>
/// One class's share of a scoring (<see cref="PerClassScores"/>): how many generated and held-out images fell in it, the
/// Fréchet distance between their classifier features, and the floor: what as many training images of the class score
/// against the same held-out images.
/// </summary>
public sealed record ClassScore
{
    /// <summary>The class index.</summary>
    [JsonPropertyName("class")] public int Class { get; init; }
    /// <summary>The class's name (its index when the data names none).</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    /// <summary>Generated images in the class.</summary>
    [JsonPropertyName("generated")] public int Generated { get; init; }
    /// <summary>Held-out real images in the class.</summary>
    [JsonPropertyName("held_out")] public int HeldOut { get; init; }
    /// <summary>Fréchet distance of the class's generated images to its held-out ones; null with fewer than 2 of either.</summary>
    [JsonPropertyName("frechet_distance")] public double? FrechetDistance { get; init; }
    /// <summary>The mean over <see cref="GeneratorScorer.FloorDraws"/> random samples of <see cref="Generated"/> training
    /// images of the class (all of them when it has fewer) of their distance to the held-out ones; null when not computable.</summary>
    [JsonPropertyName("frechet_floor")] public double? FrechetFloor { get; init; }
    /// <summary>FrechetDistance / FrechetFloor, or null.</summary>
    [JsonPropertyName("frechet_ratio")] public double? FrechetRatio => FrechetDistance is { } d && FrechetFloor is { } f && f > 0 ? d / f : null;
}

/// <summary>
/// The Fréchet distance class by class (for a conditional model the intra-class distance of Miyato &amp; Koyama 2018):
/// which classes a generator gets right and which it does not. A conditional model's images are grouped by the class
/// they were asked for and the real images by their labels; an unconditional model's images, having no class, are
/// grouped by the classifier's prediction, and so are the real ones, so that both sides are sorted by the same judge.
/// Per class there are fewer images than in the whole scoring, so each distance sits higher above zero (its bias grows
/// as the count falls) and is compared with a floor of as many real images; a class with a few dozen images gives only
/// a rough figure.
/// </summary>
public static class PerClassScores
{
    /// <summary>Scores <paramref name="count"/> images of <paramref name="source"/> class by class against <paramref name="test"/>
    /// (all of it), with floors from <paramref name="train"/>.</summary>
    public static IReadOnlyList<ClassScore> Score(Classifier classifier, GeneratorScorer.ImageSource source, int count, ImageDataset train, ImageDataset test)
    {
        if (count < 2) throw new TrainerException($"The per-class scores need at least 2 images; {count} were asked for.");
        using var generated = GeneratorScorer.Generate(classifier, source, count);
        return Score(classifier, generated, train, test);
    }

    /// <summary>The per-class scores of images already through the classifier (the ones the overall scores were made of).</summary>
    internal static IReadOnlyList<ClassScore> Score(Classifier classifier, GeneratedImages generated, ImageDataset train, ImageDataset test)
    {
        classifier.eval();
        using var _ = no_grad();
        var classes = classifier.Config.NumClasses;
        var generatedFeatures = generated.Features;
        var conditional = generated.Asked is not null;
        var generatedClasses = generated.Asked ?? generated.Predicted;
        var (heldOutFeatures, heldOutClasses) = RealFeatures(classifier, test, byLabel: conditional);
        var (trainFeatures, trainClasses) = RealFeatures(classifier, train, byLabel: conditional);
        using (heldOutFeatures)
        using (trainFeatures)
        {
            var scores = new List<ClassScore>(classes);
            for (var c = 0; c < classes; c++)
            {
                using var scope = NewDisposeScope();
                var mine = Rows(generatedFeatures, generatedClasses, c);
                var heldOut = Rows(heldOutFeatures, heldOutClasses, c);
                var training = Rows(trainFeatures, trainClasses, c);
                var (g, h, t) = ((int)mine.shape[0], (int)heldOut.shape[0], (int)training.shape[0]);
                double? distance = null, floor = null;
                if (g >= 2 && h >= 2)
                {
                    // The held-out side's moments once for the distance and every floor draw.
                    var (mean, covariance) = GeneratorScorer.Moments(heldOut);
                    distance = GeneratorScorer.FrechetDistance(mine, mean, covariance);
                    if (t >= 2)
                    {
                        var draws = g >= t ? 1 : GeneratorScorer.FloorDraws;
                        floor = Enumerable.Range(0, draws)
                            .Average(k => GeneratorScorer.FrechetDistance(GeneratorScorer.Sample(training, g, GeneratorScorer.SampleSeed + k), mean, covariance));
                    }
                }
                var name = c < train.ClassNames.Count ? train.ClassNames[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);
                scores.Add(new ClassScore { Class = c, Name = name, Generated = g, HeldOut = h, FrechetDistance = distance, FrechetFloor = floor });
            }
            return scores;
        }
    }

    /// <summary>Features of every image of <paramref name="data"/> and its class: its label, or the classifier's prediction.</summary>
    private static (Tensor Features, long[] Classes) RealFeatures(Classifier classifier, ImageDataset data, bool byLabel)
    {
        if (byLabel) return (GeneratorScorer.Features(classifier, data.Images), data.Labels.data<long>().ToArray());
        var predicted = new long[data.Count];
        return (GeneratorScorer.Features(classifier, data.Images, predicted: predicted), predicted);
    }

    private static Tensor Rows(Tensor features, long[] classes, int c)
    {
        var rows = Enumerable.Range(0, classes.Length).Where(i => classes[i] == c).Select(i => (long)i).ToArray();
        return features.index_select(0, tensor(rows, ScalarType.Int64));
    }
}
