using GanOnnx.Runtime;
using GanOnnx.Trainer.Data;
using GanOnnx.Trainer.Onnx;
using GanOnnx.Trainer.Training;
using Google.Protobuf;

namespace GanOnnx.Trainer.Evaluation;

/// <summary>
/// Scores generators against an IDX dataset folder: loads (or trains and saves) the folder's classifier, loads the train
/// and t10k splits in [0, 1], and scores an exported model or a checkpoint's generator. Owns tensors: dispose it.
/// </summary>
public sealed class Evaluator : IDisposable
{
    /// <summary>The classifier file an IDX folder keeps beside its data.</summary>
    public const string ClassifierFileName = "classifier.gockpt";

    private Evaluator(Classifier classifier, double accuracy, ImageDataset train, ImageDataset test, string dataFolder, TextWriter? log)
    {
        Classifier = classifier;
        ClassifierAccuracy = accuracy;
        Train = train;
        Test = test;
        CacheFolder = Path.Combine(dataFolder, CacheFolderName);
        _log = log;
    }

    /// <summary>The folder beside the data where <see cref="Reference"/> keeps the real side of each scoring.</summary>
    public const string CacheFolderName = "eval-cache";

    /// <summary>Where <see cref="Reference"/> keeps and looks for the real side of scorings (null: computed every time it is opened).</summary>
    public string? CacheFolder { get; set; }

    private readonly TextWriter? _log;

    /// <summary>The classifier.</summary>
    public Classifier Classifier { get; }
    /// <summary>Its accuracy on the held-out split.</summary>
    public double ClassifierAccuracy { get; }
    /// <summary>Training images in [0, 1].</summary>
    public ImageDataset Train { get; }
    /// <summary>Held-out images in [0, 1].</summary>
    public ImageDataset Test { get; }

    /// <summary>
    /// Opens <paramref name="dataFolder"/>: the classifier at <paramref name="classifierPath"/> (default: the folder's
    /// classifier.gockpt), trained for <paramref name="epochs"/> epochs and saved there when it does not exist yet.
    /// </summary>
    public static Evaluator Open(string dataFolder, string? classifierPath = null, int epochs = 3, TextWriter? log = null)
    {
        if (ImageFolderLoader.IsImageFolder(dataFolder))
            throw new TrainerException($"'{dataFolder}' is a folder of images; scoring needs a dataset with held-out images. Prepare one with " +
                $"'ganonnx-train data --from-folder {dataFolder} --out data' (it holds out every {DatasetPreparer.HeldOutEvery}th image of each class) and train and score on data/{ImageDataset.NameOf(dataFolder)}.");
        var train = ImageDataset.LoadIdxFolder(dataFolder, ValueRange.Sigmoid);
        if (train.ClassNames.Count < 2)
        {
            train.Dispose();
            throw new TrainerException($"'{dataFolder}' has one class; scoring needs at least two, since its features come from a classifier trained to tell " +
                "the classes apart (put the images in class sub-folders before preparing the dataset).");
        }
        ImageDataset? test = null;
        try
        {
            test = ImageDataset.LoadIdxFolder(dataFolder, ValueRange.Sigmoid, testSplit: true);
            classifierPath ??= Path.Combine(dataFolder, ClassifierFileName);
            Classifier classifier;
            double accuracy;
            if (File.Exists(classifierPath))
            {
                string dataset;
                (classifier, dataset, accuracy) = Classifier.Load(classifierPath);
                if (dataset != train.Name || classifier.Config.Channels != train.Channels || classifier.Config.ImageSize != train.Height)
                {
                    classifier.Dispose();
                    throw new TrainerException($"The classifier '{classifierPath}' was trained on '{dataset}' ({classifier.Config.Channels}×{classifier.Config.ImageSize}²), not on '{train.Name}'; delete it or pass --classifier.");
                }
                log?.WriteLine($"classifier: {classifierPath} (test accuracy {accuracy:P2})");
            }
            else
            {
                log?.WriteLine($"classifier: training one on {train.Name} ({train.Count} images), saved to {classifierPath}");
                (classifier, accuracy) = Classifier.Train(train, test, epochs, log: log);
                classifier.Save(classifierPath, train.Name, accuracy);
            }
            return new Evaluator(classifier, accuracy, train, test, dataFolder, log);
        }
        catch
        {
            train.Dispose();
            test?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes <paramref name="classifierFile"/> (a classifier shipped with the project) <paramref name="dataFolder"/>'s
    /// classifier.gockpt, so that <c>eval</c> and the evaluations during training score with it and their figures compare
    /// with the model cards. It is installed only when it was trained on a dataset of the folder's name and image shape and
    /// classifies the folder's held-out images as well as its recorded accuracy says, to within
    /// <see cref="InstallTolerance"/>: then the folder holds the held-out split it was measured on. An existing
    /// classifier.gockpt is kept. Returns what was done, as a line for the user.
    /// </summary>
    public static string InstallClassifier(string dataFolder, string classifierFile)
    {
        var target = Path.Combine(dataFolder, ClassifierFileName);
        if (File.Exists(target)) return $"kept its {ClassifierFileName}";
        using var test = ImageDataset.LoadIdxFolder(dataFolder, ValueRange.Sigmoid, testSplit: true);
        var (classifier, dataset, recorded) = Classifier.Load(classifierFile);
        using (classifier)
        {
            if (dataset != test.Name || classifier.Config.Channels != test.Channels || classifier.Config.ImageSize != test.Height || classifier.Config.NumClasses < test.ClassNames.Count)
                return $"did not install '{classifierFile}': it was trained on '{dataset}' ({classifier.Config.Channels}×{classifier.Config.ImageSize}², {classifier.Config.NumClasses} classes), not on this folder's data";
            var measured = Classifier.Accuracy(classifier, test);
            if (Math.Abs(measured - recorded) > InstallTolerance)
                return $"did not install '{classifierFile}': it classifies {measured:P2} of this folder's held-out images correctly, not the {recorded:P2} it was measured at, so these are other images; eval will train a classifier of its own";
            AtomicFile.Write(target, File.ReadAllBytes(classifierFile));
            return $"evaluation classifier: '{classifierFile}' ({recorded:P2} of the held-out images) → {target}";
        }
    }

    /// <summary>How far (as a fraction) a shipped classifier's accuracy on a folder's held-out images may be from the
    /// accuracy it records for <see cref="InstallClassifier"/> to install it: 0.1 %, room for a few borderline images whose
    /// prediction another processor or thread count tips the other way.</summary>
    public const double InstallTolerance = 0.001;

    /// <summary>
    /// Scores <paramref name="count"/> images of an ONNX generator (as the runtime makes them); with
    /// <paramref name="perClass"/> the same images are also scored class by class (<see cref="QualityScores.PerClass"/>,
    /// <see cref="PerClassScores"/>): a conditional model's by the class asked for, an unconditional one's by the class
    /// the classifier sees.
    /// </summary>
    public QualityScores Score(GeneratorSession session, int count, bool perClass = false)
    {
        using var generated = GeneratorScorer.Generate(Classifier, Source(session, count), count);
        var scores = GeneratorScorer.Score(generated, Classifier.Config.NumClasses, Reference(count), ClassifierAccuracy);
        // A session that truncates its latents makes other images than the model samples: the record says so.
        if (session.Options.Truncation < 1f) scores = scores with { Truncation = Math.Round((double)session.Options.Truncation, 6) };
        return perClass ? scores with { PerClass = PerClassScores.Score(Classifier, generated, Train, Test) } : scores;
    }

    /// <summary>The images a scoring of <paramref name="count"/> images takes from <paramref name="session"/>, after checking
    /// that the generator makes this data's images and classes.</summary>
    private GeneratorScorer.ImageSource Source(GeneratorSession session, int count)
    {
        var c = session.Contract;
        if (c.Channels != Train.Channels || c.Height != Train.Height || c.Width != Train.Width)
            throw new TrainerException($"The generator makes {c.Channels}×{c.Height}×{c.Width} images but '{Train.Name}' has {Train.Channels}×{Train.Height}×{Train.Width}.");
        if (c.IsConditional && c.NumClasses != Classifier.Config.NumClasses)
            throw new TrainerException($"The generator has {c.NumClasses} classes but the classifier of '{Train.Name}' has {Classifier.Config.NumClasses}.");
        var asked = c.IsConditional ? AskedClasses(c.NumClasses, count) : null;
        return GeneratorScorer.FromSession(session, askedClasses: asked);
    }

    /// <summary>The classes a conditional generator of <paramref name="classes"/> classes is asked for when scored with <paramref name="count"/> images: the training set's shares (<see cref="GeneratorScorer.AskedClasses"/>).</summary>
    internal long[] AskedClasses(int classes, int count) => GeneratorScorer.AskedClasses(ImagesPerClass(classes), count);

    /// <summary>How many training images each of <paramref name="classes"/> classes has.</summary>
    private long[] ImagesPerClass(int classes)
    {
        var counts = new long[classes];
        foreach (var label in Train.Labels.data<long>().ToArray())
        {
            if (label < 0 || label >= classes) throw new TrainerException($"Dataset '{Train.Name}' has label {label}; the generator has classes 0 to {classes - 1}.");
            counts[label]++;
        }
        return counts;
    }

    /// <summary>
    /// The real side of a scoring with <paramref name="count"/> images, computed on first use and kept: evaluations
    /// during training score the raw and the EMA generator against the same real images every time. It is also kept in
    /// <see cref="CacheFolder"/> under a digest of the classifier's weights, the training and held-out images and labels,
    /// and the sampling constants, and read back from there by the next evaluator that would compute the same thing: a
    /// resumed run or another <c>eval</c> of the same data and classifier (the emoji's real side takes minutes on a
    /// 2-core CPU). A file made from other inputs is not used; one that cannot be read or written costs only the time.
    /// </summary>
    public RealReference Reference(int count)
    {
        if (_references.TryGetValue(count, out var reference)) return reference;
        var key = CacheFolder is null ? null : ReferenceKey();
        var path = key is null ? null : Path.Combine(CacheFolder!, $"real-{count}-{key[..16]}.bin");
        reference = path is null ? null : RealReference.Load(path, key!, count);
        if (reference is not null)
        {
            _log?.WriteLine($"real images: the floor and held-out statistics for {count} images from {path}");
        }
        else
        {
            var started = DateTime.UtcNow;
            reference = GeneratorScorer.Reference(Classifier, count, Train, Test);
            if (path is not null)
            {
                try
                {
                    reference.Save(path, key!);
                    _log?.WriteLine($"real images: the floor and held-out statistics for {count} images computed in {(DateTime.UtcNow - started).TotalSeconds:F0} s, kept in {path}");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _log?.WriteLine($"real images: could not keep the floor and held-out statistics in {path} ({e.Message}); they are computed again next time");
                }
            }
        }
        _references.Add(count, reference);
        return reference;
    }

    private readonly Dictionary<int, RealReference> _references = [];

    /// <summary>
    /// The SHA-256 of everything <see cref="GeneratorScorer.Reference"/> computes from but the image count: the
    /// classifier's weights and buffers, the training and held-out images and labels, and the sampling constants.
    /// </summary>
    private string ReferenceKey()
    {
        if (_key is not null) return _key;
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"floor draws {GeneratorScorer.FloorDraws}, held-out {GeneratorScorer.HeldOutImages}, seed {GeneratorScorer.SampleSeed};"));
        foreach (var (name, t) in Classifier.state_dict())
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            Append(hash, t);
        }
        foreach (var t in new[] { Train.Images, Train.Labels, Test.Images, Test.Labels }) Append(hash, t);
        return _key = Convert.ToHexStringLower(hash.GetHashAndReset());

        static void Append(System.Security.Cryptography.IncrementalHash hash, TorchSharp.torch.Tensor t)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var c = t.detach().cpu().contiguous();
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{c.dtype}[{string.Join(",", c.shape)}]"));
            hash.AppendData(c.bytes);
        }
    }

    private string? _key;

    /// <summary>
    /// Scores a generator module by exporting it in memory and running it with ONNX Runtime; <paramref name="sampling"/>
    /// sets how the session samples (its truncation), null as the model samples.
    /// </summary>
    public QualityScores Score(Models.Generator generator, int count, bool perClass = false, GeneratorOptions? sampling = null)
    {
        var bytes = OnnxExporter.Build(generator, new ExportOptions()).ToByteArray();
        using var session = GeneratorSession.Load(bytes, sampling, name: "generator under training");
        return Score(session, count, perClass);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var reference in _references.Values) reference.Dispose();
        _references.Clear();
        Classifier.Dispose();
        Train.Dispose();
        Test.Dispose();
    }
}
