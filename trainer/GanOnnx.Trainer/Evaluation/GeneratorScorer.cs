using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Evaluation;

/// <summary>
/// Scores generated images with a <see cref="Classifier"/>: Fréchet distance of features (with the real-against-real
/// floor), class histogram entropy, mean confidence and, for conditional models, class accuracy.
/// </summary>
public static class GeneratorScorer
{
    /// <summary>Makes images <c>start</c> … <c>start + count − 1</c> as float32 NCHW in [0, 1], with the class each was asked for (or null).</summary>
    public delegate (float[] Pixels, long[]? Labels) ImageSource(int count, long start);

    /// <summary>
    /// Scores <paramref name="count"/> images from <paramref name="source"/> against the held-out real images
    /// <paramref name="test"/> (in [0, 1]; all of them up to <see cref="HeldOutImages"/>, or <paramref name="count"/> when
    /// more); the floor is what real training images score the same way, see <see cref="Reference"/>. To score several
    /// generators against the same real images, build the <see cref="RealReference"/> once.
    /// </summary>
    public static QualityScores Score(Classifier classifier, ImageSource source, int count, ImageDataset train, ImageDataset test, double classifierAccuracy)
    {
        using var reference = Reference(classifier, count, train, test);
        return Score(classifier, source, reference, classifierAccuracy);
    }

    /// <summary>
    /// The real side of a scoring with <paramref name="count"/> generated images: the classifier's features and class
    /// histogram of the held-out images (all of <paramref name="test"/> up to <see cref="HeldOutImages"/>, else
    /// max(count, <see cref="HeldOutImages"/>) drawn at random), and the floor: the mean Fréchet distance of
    /// <see cref="FloorDraws"/> random samples of <paramref name="count"/> training images to them — what a perfect
    /// generator scores on average. One sample's floor varies by about ±12 % from draw to draw (Fashion-MNIST, 5,000
    /// images), and held-out images drawn as well put the ratio anywhere in ±25 %; the whole held-out split and the mean of
    /// eight draws leave about ±5 %.
    /// </summary>
    public static RealReference Reference(Classifier classifier, int count, ImageDataset train, ImageDataset test)
    {
        if (count < 2) throw new TrainerException($"TrainingOptions.EvalCount is {count}; the Fréchet distance needs at least 2 images (use thousands).");
        classifier.eval();
        using var _ = no_grad();
        var histogram = new int[classifier.Config.NumClasses];
        Tensor mean, covariance;
        int heldOut;
        using (var scope = NewDisposeScope())
        {
            using var testSample = Sample(test.Images, Math.Max(count, HeldOutImages));
            var testFeatures = Features(classifier, testSample, histogram);
            heldOut = (int)testFeatures.shape[0];
            (mean, covariance) = Moments(testFeatures);
            // Kept across scorings (Evaluator): out of any dispose scope the caller is in, such as a training step's.
            mean = mean.DetachFromDisposeScope();
            covariance = covariance.DetachFromDisposeScope();
        }
        try
        {
            var draws = count >= train.Count ? 1 : FloorDraws; // with all training images every draw is the same
            var floors = new double[draws];
            for (var k = 0; k < draws; k++)
            {
                using var trainSample = Sample(train.Images, count, SampleSeed + k);
                using var trainFeatures = Features(classifier, trainSample);
                floors[k] = FrechetDistance(trainFeatures, mean, covariance);
            }
            return new RealReference(count, heldOut, mean, covariance, histogram, floors, Classifier.BalancedAccuracy(classifier, test));
        }
        catch
        {
            mean.Dispose();
            covariance.Dispose();
            throw;
        }
    }

    /// <summary>How many random training samples the floor averages (<see cref="Reference"/>).</summary>
    public const int FloorDraws = 8;

    /// <summary>Held-out images every scoring compares with, at least (all of them when the split has fewer).</summary>
    public const int HeldOutImages = 10_000;

    /// <summary>Scores <see cref="RealReference.Count"/> images from <paramref name="source"/> against <paramref name="reference"/>.</summary>
    public static QualityScores Score(Classifier classifier, ImageSource source, RealReference reference, double classifierAccuracy)
    {
        using var generated = Generate(classifier, source, reference.Count);
        return Score(generated, classifier.Config.NumClasses, reference, classifierAccuracy);
    }

    /// <summary>Scores <paramref name="generated"/> images (as many as <paramref name="reference"/> counts) of a classifier
    /// of <paramref name="classes"/> classes against <paramref name="reference"/>.</summary>
    internal static QualityScores Score(GeneratedImages generated, int classes, RealReference reference, double classifierAccuracy)
    {
        var count = generated.Predicted.Length;
        if (count != reference.Count) throw new ArgumentException($"{count} generated images, but the reference is for {reference.Count}.", nameof(generated));
        var histogram = new int[classes];
        var asked = new long[classes];
        var hits = new long[classes];
        for (var i = 0; i < count; i++)
        {
            histogram[generated.Predicted[i]]++;
            if (generated.Asked is { } labels)
            {
                asked[labels[i]]++;
                if (generated.Predicted[i] == labels[i]) hits[labels[i]]++;
            }
        }
        return new QualityScores
        {
            Count = count,
            FrechetDistance = FrechetDistance(generated.Features, reference.Mean, reference.Covariance),
            FrechetFloor = reference.Floor,
            FrechetFloorSd = reference.FloorSd,
            HeldOutCount = reference.HeldOutCount,
            ClassEntropy = NormalizedEntropy(histogram),
            RealClassEntropy = NormalizedEntropy(reference.Histogram),
            MeanConfidence = generated.ConfidenceSum / count,
            ClassAccuracy = Classifier.MeanRecall(hits, asked),
            RealClassAccuracy = asked.Sum() > 0 ? reference.ClassAccuracy : null,
            ClassifierAccuracy = classifierAccuracy,
            ClassHistogram = histogram,
        };
    }

    /// <summary><paramref name="count"/> images from <paramref name="source"/> through the classifier (see
    /// <see cref="GeneratedImages"/>), so that the overall and the per-class scores can share them.</summary>
    internal static GeneratedImages Generate(Classifier classifier, ImageSource source, int count)
    {
        classifier.eval();
        using var _ = no_grad();
        var config = classifier.Config;
        var parts = new List<Tensor>();
        var predicted = new long[count];
        long[]? asked = null;
        double confidence = 0;
        try
        {
            for (var start = 0; start < count; start += 256)
            {
                var n = Math.Min(256, count - start);
                var (pixels, labels) = source(n, start);
                if (labels is not null)
                {
                    asked ??= new long[count];
                    labels.AsSpan(0, n).CopyTo(asked.AsSpan(start));
                }
                using var scope = NewDisposeScope();
                var images = tensor(pixels, [n, config.Channels, config.ImageSize, config.ImageSize]);
                var (features, logits) = classifier.Both(images);
                parts.Add(features.to_type(ScalarType.Float64).DetachFromDisposeScope());
                var (top, classes) = nn.functional.softmax(logits, 1).max(1);
                confidence += top.sum().item<float>();
                classes.data<long>().ToArray().CopyTo(predicted, start);
            }
            return new GeneratedImages(cat(parts, 0), predicted, asked, confidence);
        }
        finally
        {
            foreach (var t in parts) t.Dispose();
        }
    }

    /// <summary>
    /// Scores an exported model: its images go through ONNX Runtime exactly as users get them. Image k has the latent
    /// <see cref="GeneratorSession.Generate"/> gives image k of <paramref name="seed"/>; a conditional model is asked for
    /// class <paramref name="askedClasses"/>[k] when given (<see cref="AskedClasses"/>), else for k mod the class count.
    /// </summary>
    public static ImageSource FromSession(GeneratorSession session, long seed = 12345, long[]? askedClasses = null)
    {
        if (askedClasses is null || !session.Contract.IsConditional)
        {
            return (count, start) =>
            {
                var batch = session.Generate(count, seed, start);
                return (ToUnit(batch.Pixels, batch.ValueRange), batch.Labels);
            };
        }
        return (count, start) =>
        {
            if (start + count > askedClasses.Length)
                throw new ArgumentOutOfRangeException(nameof(count), $"Images {start}…{start + count - 1} were asked for; the classes cover {askedClasses.Length}.");
            var latents = new float[count * session.Contract.LatentDim];
            session.Sampler.FillBatch(seed, start, count, latents);
            var labels = askedClasses.AsSpan((int)start, count).ToArray();
            var batch = session.GenerateFromLatents(latents, labels);
            return (ToUnit(batch.Pixels, batch.ValueRange), labels);
        };
    }

    /// <summary>
    /// The classes a conditional model is asked for when scored: <paramref name="count"/> labels in the shares of
    /// <paramref name="imagesPerClass"/> (the training set's), interleaved by smooth weighted round-robin, so that every
    /// prefix holds each class's share to within one image. The generated images then have the class mix of the held-out
    /// images they are compared with: asked for every class alike, a generator of the emoji (60 % People &amp; Body) would be
    /// scored for a mix the data does not have. Equal shares give k mod the class count, the runtime's own order.
    /// </summary>
    public static long[] AskedClasses(IReadOnlyList<long> imagesPerClass, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (imagesPerClass.Any(n => n < 0) || imagesPerClass.Sum() <= 0)
            throw new ArgumentException($"Images per class must be non-negative with at least one image; got [{string.Join(", ", imagesPerClass)}].", nameof(imagesPerClass));
        var total = imagesPerClass.Sum();
        var credit = new long[imagesPerClass.Count];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            var best = 0;
            for (var k = 0; k < credit.Length; k++)
            {
                credit[k] += imagesPerClass[k];
                if (credit[k] > credit[best]) best = k;
            }
            credit[best] -= total;
            labels[i] = best;
        }
        return labels;
    }

    /// <summary>Maps values from <paramref name="range"/> to [0, 1] (clamped).</summary>
    public static float[] ToUnit(float[] pixels, ValueRange range)
    {
        var result = new float[pixels.Length];
        var scale = 1f / (range.Max - range.Min);
        for (var i = 0; i < pixels.Length; i++) result[i] = Math.Clamp((pixels[i] - range.Min) * scale, 0f, 1f);
        return result;
    }

    /// <summary>
    /// Fréchet distance between Gaussians fitted to two feature sets [N, d]:
    /// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½), in float64 with symmetric eigendecompositions.
    /// </summary>
    public static double FrechetDistance(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var (muB, covB) = Moments(b);
        return FrechetDistance(a, muB, covB);
    }

    /// <summary>
    /// <see cref="FrechetDistance(Tensor, Tensor)"/> of the features <paramref name="a"/> [N, d] to a Gaussian given by
    /// its mean [d] and covariance [d, d] (float64, as <see cref="RealReference"/> keeps the held-out images').
    /// </summary>
    public static double FrechetDistance(Tensor a, Tensor meanB, Tensor covarianceB)
    {
        using var scope = NewDisposeScope();
        var (muA, covA) = Moments(a);
        var muB = meanB.to_type(ScalarType.Float64);
        var covB = covarianceB.to_type(ScalarType.Float64);
        var (valuesA, vectorsA) = linalg.eigh(covA);
        var sqrtA = vectorsA.matmul(diag(valuesA.clamp_min(0).sqrt())).matmul(vectorsA.t());
        var middle = sqrtA.matmul(covB).matmul(sqrtA);
        middle = (middle + middle.t()) / 2;
        var traceSqrt = linalg.eigvalsh(middle).clamp_min(0).sqrt().sum();
        var distance = (muA - muB).square().sum() + covA.trace() + covB.trace() - 2 * traceSqrt;
        return Math.Max(0, distance.item<double>());
    }

    /// <summary>Entropy of a histogram divided by log(bins): 0 when one bin holds everything, 1 when all are equal.</summary>
    public static double NormalizedEntropy(IReadOnlyList<int> histogram)
    {
        var total = histogram.Sum();
        if (total == 0 || histogram.Count < 2) return 0;
        var entropy = 0.0;
        foreach (var c in histogram)
        {
            if (c == 0) continue;
            var p = (double)c / total;
            entropy -= p * Math.Log(p);
        }
        return entropy / Math.Log(histogram.Count);
    }

    /// <summary>Mean [d] and sample covariance [d, d] of features [N, d], in float64.</summary>
    internal static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        var x = features.to_type(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var covariance = centred.t().matmul(centred) / (x.shape[0] - 1);
        return (mean, covariance);
    }

    /// <summary>
    /// <paramref name="count"/> of <paramref name="images"/> [N, …] drawn at random without replacement with a fixed seed
    /// (<see cref="SampleSeed"/> unless given: the same images every time), in their stored order; all N when count ≥ N.
    /// A set stored in a meaningful order — an emoji set in code-point order, an image folder class by class — makes its
    /// first images an unrepresentative sample (the emoji's first 2,000 put the floor at 36.6 where a random 2,000 put it at 7.3), and taking every
    /// k-th image fails on a set stored in a repeating order.
    /// </summary>
    public static Tensor Sample(Tensor images, int count, int seed = SampleSeed)
    {
        var n = (int)images.shape[0];
        if (count >= n) return images.alias();
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var j = rng.Next(i, n);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var chosen = order[..count].Select(i => (long)i).Order().ToArray();
        using var indices = tensor(chosen, device: images.device);
        return images.index_select(0, indices);
    }

    /// <summary>The seed of <see cref="Sample"/>.</summary>
    public const int SampleSeed = 20261202;

    /// <summary>Classifier features (float64 [N, d]) of <paramref name="images"/>, 512 at a time; each image's predicted
    /// class is counted into <paramref name="histogram"/> and written to <paramref name="predicted"/> when given.</summary>
    internal static Tensor Features(Classifier classifier, Tensor images, int[]? histogram = null, long[]? predicted = null)
    {
        var n = (int)images.shape[0];
        var parts = new List<Tensor>();
        try
        {
            for (var start = 0; start < n; start += 512)
            {
                using var scope = NewDisposeScope();
                var m = Math.Min(512, n - start);
                var (features, logits) = classifier.Both(images.narrow(0, start, m));
                parts.Add(features.to_type(ScalarType.Float64).DetachFromDisposeScope());
                if (histogram is null && predicted is null) continue;
                var classes = logits.argmax(1).data<long>().ToArray();
                if (histogram is not null) foreach (var c in classes) histogram[c]++;
                if (predicted is not null) classes.CopyTo(predicted, start);
            }
            return cat(parts, 0);
        }
        finally
        {
            foreach (var t in parts) t.Dispose();
        }
    }
}

/// <summary>
/// Generated images as a scoring sees them: their classifier features (float64 [N, d], owned: dispose), the classes the
/// classifier predicts, the classes they were asked for (null for an unconditional model), and the sum of the
/// classifier's top probability.
/// </summary>
internal sealed record GeneratedImages(Tensor Features, long[] Predicted, long[]? Asked, double ConfidenceSum) : IDisposable
{
    public void Dispose() => Features.Dispose();
}

/// <summary>
/// The real images a scoring compares with, computed once per image count by <see cref="GeneratorScorer.Reference"/>:
/// the mean and covariance of the held-out images' classifier features (float64; all the Fréchet distance needs of them)
/// and their class histogram, and the real-against-real floor of each random training sample. Owns tensors: dispose it.
/// <see cref="Save"/> and <see cref="Load"/> keep it in a file, so that a resumed training run or a second <c>eval</c>
/// does not compute it again (<see cref="Evaluator.Reference"/>).
/// </summary>
public sealed class RealReference(int count, int heldOutCount, Tensor mean, Tensor covariance, int[] histogram, IReadOnlyList<double> floors, double classAccuracy) : IDisposable
{
    /// <summary>How many generated (and training) images a scoring uses.</summary>
    public int Count { get; } = count;
    /// <summary>How many held-out images they are compared with.</summary>
    public int HeldOutCount { get; } = heldOutCount;
    /// <summary>The mean of the held-out images' features [d], float64.</summary>
    public Tensor Mean { get; } = mean;
    /// <summary>The covariance of the held-out images' features [d, d], float64.</summary>
    public Tensor Covariance { get; } = covariance;
    /// <summary>The classes the classifier gives the held-out images.</summary>
    public IReadOnlyList<int> Histogram { get; } = histogram;
    /// <summary>
    /// The classifier's balanced accuracy on all held-out images (<see cref="Classifier.BalancedAccuracy"/>): the class
    /// accuracy a conditional generator whose images were as recognisable as the real ones would score.
    /// </summary>
    public double ClassAccuracy { get; } = classAccuracy;
    /// <summary>The Fréchet distance of each random sample of <see cref="Count"/> training images to the held-out images.</summary>
    public IReadOnlyList<double> Floors { get; } = floors;
    /// <summary>The floor: the mean of <see cref="Floors"/>.</summary>
    public double Floor => Floors.Average();
    /// <summary>The standard deviation of one draw's floor (0 with one draw): how far a single sample could have put it.</summary>
    public double FloorSd
    {
        get
        {
            if (Floors.Count < 2) return 0;
            var mean = Floor;
            return Math.Sqrt(Floors.Sum(f => (f - mean) * (f - mean)) / (Floors.Count - 1));
        }
    }

    private const string Magic = "ganonnx-real-reference/1";

    /// <summary>
    /// Writes it to <paramref name="path"/> (atomically) under <paramref name="key"/>, the digest of everything it was
    /// computed from (<see cref="Evaluator"/>: the classifier's weights, the images, the sampling constants).
    /// </summary>
    public void Save(string path, string key)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(key);
            writer.Write(Count);
            writer.Write(HeldOutCount);
            var mean = Mean.data<double>().ToArray();
            writer.Write(mean.Length);
            foreach (var v in mean) writer.Write(v);
            foreach (var v in Covariance.data<double>().ToArray()) writer.Write(v);
            writer.Write(Histogram.Count);
            foreach (var c in Histogram) writer.Write(c);
            writer.Write(Floors.Count);
            foreach (var f in Floors) writer.Write(f);
            writer.Write(ClassAccuracy);
        }
        AtomicFile.Write(path, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>
    /// Reads what <see cref="Save"/> wrote for <paramref name="count"/> images under <paramref name="key"/>; null when the
    /// file is missing, was written for other inputs (another key or count), or cannot be read (then it is computed again
    /// and rewritten).
    /// </summary>
    public static RealReference? Load(string path, string key, int count)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), System.Text.Encoding.UTF8);
            if (reader.ReadString() != Magic || reader.ReadString() != key || reader.ReadInt32() != count) return null;
            var heldOut = reader.ReadInt32();
            var d = reader.ReadInt32();
            if (heldOut < 2 || d < 1 || d > 65_536) return null;
            var mean = ReadDoubles(reader, d);
            var covariance = ReadDoubles(reader, checked(d * d));
            var histogram = new int[ReadLength(reader)];
            for (var i = 0; i < histogram.Length; i++) histogram[i] = reader.ReadInt32();
            var floors = ReadDoubles(reader, ReadLength(reader));
            var accuracy = reader.ReadDouble();
            if (reader.BaseStream.Position != reader.BaseStream.Length || floors.Length == 0 || floors.Any(f => !double.IsFinite(f))) return null;
            return new RealReference(count, heldOut, tensor(mean).DetachFromDisposeScope(), tensor(covariance, [d, d]).DetachFromDisposeScope(), histogram, floors, accuracy);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OverflowException or FormatException)
        {
            return null;
        }
    }

    private static int ReadLength(BinaryReader reader)
    {
        var n = reader.ReadInt32();
        return n is >= 0 and <= 1_000_000 ? n : throw new IOException($"Bad length {n}.");
    }

    private static double[] ReadDoubles(BinaryReader reader, int n)
    {
        var values = new double[n];
        for (var i = 0; i < n; i++) values[i] = reader.ReadDouble();
        return values;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Mean.Dispose();
        Covariance.Dispose();
    }
}
