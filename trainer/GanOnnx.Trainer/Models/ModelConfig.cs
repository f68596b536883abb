using System.Globalization;
using System.Text.Json.Serialization;
using GanOnnx.Runtime;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// The shape of a GAN: architecture, latent size, image size and widths. Everything needed to rebuild the modules of a
/// checkpoint. Validated by <see cref="Validate"/> with messages that say which values work.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Architecture family. Default <see cref="GanArchitecture.Dcgan"/>.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<GanArchitecture>))]
    public GanArchitecture Architecture { get; init; } = GanArchitecture.Dcgan;

    /// <summary>Latent vector length. Default 100.</summary>
    public int LatentDim { get; init; } = 100;

    /// <summary>Image channels: 1 (grayscale) or 3 (RGB). Default 1.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Image height and width in pixels. Default 28.</summary>
    public int ImageSize { get; init; } = 28;

    /// <summary>
    /// Base width: hidden units of the MLP (default 128 there), or feature maps of the last convolutional block of the
    /// DCGANs (64 gives the write-ups' 256/512-channel first blocks). 0 picks the architecture's default. The discriminator
    /// uses it too unless <see cref="DiscriminatorWidth"/> is set.
    /// </summary>
    public int Width { get; init; }

    /// <summary>Number of classes for a conditional GAN; 0 = unconditional. Default 0.</summary>
    public int NumClasses { get; init; }

    /// <summary>
    /// Categories read from the latent of an unconditional model; 0 = none. Default 0. The generator reads a category from
    /// its own noise — which of K intervals the latent's first value falls into, with the intervals' probabilities given
    /// by <see cref="LatentClassPrior"/> (equal when null) — and concatenates that category's learned embedding to its
    /// input. What the categories mean depends on <see cref="Clustered"/>: an InfoGAN code (Chen et al. 2016), where a head
    /// on the discriminator learns to tell the category from the image and the generator is rewarded when it can, or the
    /// k-means clusters of a self-conditioned GAN. No labels are used either way, and exported models keep the plain
    /// unconditional contract (latent in, image out). A conditional model with <see cref="Clustered"/> has clusters within
    /// its classes instead (<see cref="ClassClusters"/>): then this is the number of clusters of each class.
    /// </summary>
    public int LatentClasses { get; init; }

    /// <summary>
    /// Self-conditioning (Liu et al. 2020, "Diverse image generation via self-conditioned GANs"): the latent classes are
    /// k-means clusters of the training images. The discriminator is told each real image's cluster and each fake's drawn
    /// category, as a conditional one is told labels, so the generator must cover every cluster. Default false (an
    /// InfoGAN code). Set by --clusters. With <see cref="NumClasses"/> as well, see <see cref="ClassClusters"/>.
    /// </summary>
    public bool Clustered { get; init; }

    /// <summary>
    /// Clusters within classes: a conditional model (<see cref="NumClasses"/>) that is also <see cref="Clustered"/>. Each
    /// class's training images are split into <see cref="LatentClasses"/> k-means clusters; the generator reads the
    /// cluster from its latent's first value by that class's thresholds, and embeds the pair (class, cluster), as does
    /// the discriminator. For classes that mix looks (emoji categories: faces in five skin tones, hands, couples), where a
    /// class alone lets the generator settle on one look per class. The exported model keeps the conditional contract
    /// (latent and class in, image out); the thresholds are inside its graph.
    /// </summary>
    [JsonIgnore]
    public bool ClassClusters => NumClasses > 0 && Clustered;

    /// <summary>
    /// The probability of each latent class (K values summing to 1); null = all equal. A self-conditioned run sets it to
    /// the clusters' shares of the training images, so that generated images come in the data's proportions. With
    /// <see cref="ClassClusters"/> it holds <see cref="NumClasses"/> rows of K shares, each row summing to 1: the shares
    /// of the clusters within each class.
    /// </summary>
    public double[]? LatentClassPrior { get; init; }

    /// <summary>
    /// Spectral normalization (Miyato et al. 2018) of every weight layer of the discriminator. Default false. The
    /// generator, and so the exported model, is unchanged.
    /// </summary>
    public bool SpectralNorm { get; init; }

    /// <summary>
    /// A projection discriminator (Miyato &amp; Koyama 2018, "cGANs with projection discriminator") for conditional and
    /// self-conditioned models: instead of a learned class plane as an extra input channel, the logit gains the inner
    /// product of the class's learned embedding with the discriminator's last features. Default false. The generator,
    /// and so the exported model, is unchanged.
    /// </summary>
    public bool Projection { get; init; }

    /// <summary>
    /// An auxiliary classifier (Odena et al. 2017, AC-GAN) for conditional models: a linear head on the discriminator's
    /// last features learns the real images' labels, and the generator is also trained to make images that head
    /// classifies as the class it was asked for. The discriminator's features then see the image only (no class plane);
    /// with <see cref="Projection"/> the logit keeps its class term. With clusters within classes (<see cref="ClassClusters"/>)
    /// the head learns the classes and the projection, if any, is told the (class, cluster) pairs. Default false. The
    /// generator, and so the exported model, is unchanged.
    /// </summary>
    public bool AuxiliaryClassifier { get; init; }

    /// <summary>
    /// Extra layers in the DCGAN generator: this many 3×3 stride-1 convolutions (each with BatchNorm and ReLU, same
    /// channels) at every resolution before the output layer (after the Dense layer's reshape and after each hidden 4×4
    /// stride-2 block), so the generator is deeper at the same width. 0 = the write-up's generator (the default); at
    /// most 4. They are ConvTranspose layers of kernel 3, stride 1 and padding 1 (the same map as a 3×3 convolution), so
    /// the exported model uses only the operators every DCGAN export already has. DCGAN only.
    /// </summary>
    public int GeneratorDepth { get; init; }

    /// <summary>
    /// Base width of the discriminator alone (hidden units of the MLP, feature maps of the first convolution of the
    /// DCGANs, doubled at each block); 0 = the same as <see cref="Width"/>. A wider discriminator is a stronger one. The
    /// generator, and so the exported model, is unchanged.
    /// </summary>
    public int DiscriminatorWidth { get; init; }

    /// <summary>The discriminator's base width actually used (<see cref="DiscriminatorWidth"/>, or <see cref="EffectiveWidth"/>).</summary>
    [JsonIgnore]
    public int EffectiveDiscriminatorWidth => DiscriminatorWidth > 0 ? DiscriminatorWidth : EffectiveWidth;

    /// <summary>
    /// Dropout probability after each hidden layer of the discriminator; null = the architecture's own (0.3 for the
    /// DCGAN, 0.4 for the Keras DCGAN, as their write-ups have it; none for the MLP). 0 leaves the layers out: a stronger
    /// discriminator, which usually wants a penalty such as R1 beside it. The generator, and so the exported model, is
    /// unchanged.
    /// </summary>
    public double? DiscriminatorDropout { get; init; }

    /// <summary>
    /// Minibatch standard deviation in the discriminator (<see cref="MinibatchStd"/>; Karras et al. 2018): the size of the
    /// groups of images whose spread is appended as one more feature before the last layer; 0 = none (the default), else
    /// at least 2 (StyleGAN uses 4). It lets the discriminator see a generator that makes too little variety. The
    /// generator, and so the exported model, is unchanged.
    /// </summary>
    public int MinibatchStdGroup { get; init; }

    /// <summary>The discriminator's dropout actually used (<see cref="DiscriminatorDropout"/>, or the architecture's).</summary>
    [JsonIgnore]
    public double EffectiveDiscriminatorDropout => DiscriminatorDropout ?? DefaultDropout(Architecture);

    /// <summary>The dropout of an architecture's discriminator in its write-up: 0.3 (DCGAN), 0.4 (Keras DCGAN), 0 (MLP).</summary>
    public static double DefaultDropout(GanArchitecture architecture) => architecture switch
    {
        GanArchitecture.Mlp => 0,
        GanArchitecture.KerasDcgan => 0.4,
        _ => 0.3,
    };

    /// <summary>", projection discriminator, auxiliary classifier, spectral norm, discriminator width w, discriminator dropout p,
    /// minibatch std over groups of g"
    /// as they apply (empty for none; the width and dropout only when they are not the defaults), for the training log.</summary>
    [JsonIgnore]
    public string DiscriminatorNotes => (Projection ? ", projection discriminator" : "") + (AuxiliaryClassifier ? ", auxiliary classifier" : "") + (SpectralNorm ? ", spectral norm" : "")
        + (EffectiveDiscriminatorWidth != EffectiveWidth ? $", discriminator width {EffectiveDiscriminatorWidth}" : "")
        + (EffectiveDiscriminatorDropout != DefaultDropout(Architecture) ? string.Create(CultureInfo.InvariantCulture, $", discriminator dropout {EffectiveDiscriminatorDropout:G4}") : "")
        + (MinibatchStdGroup > 0 ? $", minibatch std over groups of {MinibatchStdGroup}" : "");

    /// <summary>Rows of the generator's embedding table: the label classes, or the (class, cluster) pairs of
    /// <see cref="ClassClusters"/>, or the InfoGAN code's categories or clusters, or 0.</summary>
    [JsonIgnore]
    public int EmbeddedClasses => ClassClusters ? NumClasses * LatentClasses : NumClasses > 0 ? NumClasses : LatentClasses;

    /// <summary>Classes the discriminator is conditioned on: the labels, or the (class, cluster) pairs of
    /// <see cref="ClassClusters"/>, or the clusters of a self-conditioned model, or 0.</summary>
    [JsonIgnore]
    public int DiscriminatorClasses => ClassClusters ? NumClasses * LatentClasses : NumClasses > 0 ? NumClasses : Clustered ? LatentClasses : 0;

    /// <summary>
    /// Where the latent's first value splits the latent classes: K − 1 increasing float32 values; category k holds the
    /// latents whose first value is above exactly k of them. They are quantiles of the latent distribution (normal, or
    /// uniform in [−1, 1]) at the cumulative <see cref="LatentClassPrior"/>. Empty without latent classes. With
    /// <see cref="ClassClusters"/>, one such row per class (<see cref="NumClasses"/> × (K − 1) values, row-major).
    /// </summary>
    public float[] LatentClassThresholds()
    {
        if (!ClassClusters) return LatentClassRule.Thresholds(LatentDistribution, LatentClasses, LatentClassPrior);
        var k = LatentClasses;
        return Enumerable.Range(0, NumClasses)
            .SelectMany(c => LatentClassRule.Thresholds(LatentDistribution, k, LatentClassPrior is { } prior ? prior.AsSpan(c * k, k).ToArray() : null))
            .ToArray();
    }

    /// <summary>This configuration as a resume compares it with its checkpoint's: without <see cref="LatentClassPrior"/>,
    /// which a resumed run takes from its checkpoint (records compare arrays by reference, so two equal priors would
    /// otherwise differ), without <see cref="DiscriminatorDropout"/>, which has no weights and may change at a resume
    /// (the run says so), without <see cref="MinibatchStdGroup"/>, which a resume may change or add (not remove: the
    /// trainer checks that), and with the discriminator's width spelt out (unset means the generator's width, as in
    /// checkpoints written before the setting existed).</summary>
    public ModelConfig ForComparison() => this with
    {
        LatentClassPrior = null, DiscriminatorDropout = null, DiscriminatorWidth = EffectiveDiscriminatorWidth, MinibatchStdGroup = 0,
    };

    /// <summary>
    /// How <paramref name="other"/> differs from this configuration, one phrase per difference ("width 8 in the checkpoint,
    /// width 16 here"), in terms of what it builds (the effective width, not an unset one). Empty when they build the same model.
    /// <paramref name="mine"/> and <paramref name="theirs"/> say where each configuration comes from.
    /// </summary>
    public List<string> DifferencesFrom(ModelConfig other, string mine = "here", string theirs = "in the checkpoint")
    {
        var differences = new List<string>();
        void Compare<T>(string what, T myValue, T theirValue)
        {
            if (!EqualityComparer<T>.Default.Equals(myValue, theirValue))
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{what} {theirValue} {theirs}, {what} {myValue} {mine}"));
        }
        Compare("architecture", ArchitectureName, other.ArchitectureName);
        Compare("latent", LatentDim, other.LatentDim);
        Compare("channels", Channels, other.Channels);
        Compare("image size", ImageSize, other.ImageSize);
        Compare("width", EffectiveWidth, other.EffectiveWidth);
        Compare("classes", NumClasses, other.NumClasses);
        Compare(Clustered || other.Clustered ? "clusters/latent classes" : "latent classes", LatentClasses, other.LatentClasses);
        Compare("self-conditioning (ModelConfig.Clustered)", Clustered ? "on" : "off", other.Clustered ? "on" : "off");
        Compare("spectral norm", SpectralNorm ? "on" : "off", other.SpectralNorm ? "on" : "off");
        Compare("projection discriminator", Projection ? "on" : "off", other.Projection ? "on" : "off");
        Compare("auxiliary classifier", AuxiliaryClassifier ? "on" : "off", other.AuxiliaryClassifier ? "on" : "off");
        Compare("discriminator width", EffectiveDiscriminatorWidth, other.EffectiveDiscriminatorWidth);
        Compare("generator depth", GeneratorDepth, other.GeneratorDepth);
        return differences;
    }

    /// <summary>How messages name <see cref="LatentClasses"/> (the command line says --clusters or --latent-classes).</summary>
    private string LatentClassesOption => Clustered ? "ModelConfig.LatentClasses (clustered)" : "ModelConfig.LatentClasses";

    /// <summary>The width actually used (the architecture default when <see cref="Width"/> is 0).</summary>
    [JsonIgnore]
    public int EffectiveWidth => Width > 0 ? Width : Architecture == GanArchitecture.Mlp ? 128 : 64;

    /// <summary>Latent distribution: uniform in [-1, 1] for the Keras DCGAN, normal otherwise.</summary>
    [JsonIgnore]
    public LatentDistribution LatentDistribution => Architecture == GanArchitecture.KerasDcgan ? LatentDistribution.Uniform : LatentDistribution.Normal;

    /// <summary>Output range: [0, 1] (sigmoid) for the MLP and Keras DCGAN, [-1, 1] (tanh) for the DCGAN.</summary>
    [JsonIgnore]
    public ValueRange ValueRange => Architecture == GanArchitecture.Dcgan ? ValueRange.Tanh : ValueRange.Sigmoid;

    /// <summary>Architecture name as written in metadata and on the command line.</summary>
    [JsonIgnore]
    public string ArchitectureName => NameOf(Architecture);

    /// <summary>The command-line / metadata name of an architecture.</summary>
    public static string NameOf(GanArchitecture architecture) => architecture switch
    {
        GanArchitecture.Mlp => "mlp",
        GanArchitecture.KerasDcgan => "keras-dcgan",
        _ => "dcgan",
    };

    /// <summary>Parses "mlp", "keras-dcgan" or "dcgan".</summary>
    public static GanArchitecture ParseArchitecture(string name) => name.ToLowerInvariant() switch
    {
        "mlp" => GanArchitecture.Mlp,
        "keras-dcgan" or "kerasdcgan" => GanArchitecture.KerasDcgan,
        "dcgan" => GanArchitecture.Dcgan,
        _ => throw new TrainerException($"Unknown architecture '{name}'; choose mlp, keras-dcgan or dcgan."),
    };

    /// <summary>
    /// For the DCGAN: the starting size s0 (4…7) and the number of stride-2 blocks k with s0·2^k = image size, or null.
    /// </summary>
    public static (int Start, int Blocks)? DcganLayout(int imageSize)
    {
        var blocks = 0;
        var size = imageSize;
        while (size > 7 && size % 2 == 0)
        {
            size /= 2;
            blocks++;
        }
        return size is >= 4 and <= 7 && blocks >= 1 ? (size, blocks) : null;
    }

    /// <summary>Image sizes the architecture can make, up to 128, for messages.</summary>
    public static IEnumerable<int> SupportedSizes(GanArchitecture architecture) => architecture switch
    {
        GanArchitecture.Mlp => Enumerable.Range(4, 125),
        GanArchitecture.KerasDcgan => Enumerable.Range(1, 32).Select(i => i * 4).Where(s => s >= 8),
        _ => Enumerable.Range(8, 121).Where(s => DcganLayout(s) is not null),
    };

    /// <summary>Throws <see cref="TrainerException"/> naming the first value that does not work and the values that do.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Architecture))
            throw new TrainerException($"Architecture {(int)Architecture} is unknown; choose mlp, keras-dcgan or dcgan.");
        if (LatentDim is < 1 or > 4096)
            throw new TrainerException($"Latent size {LatentDim} is out of range; it must be between 1 and 4096.");
        if (Channels is not (1 or 3))
            throw new TrainerException($"Channels {Channels} is not supported; use 1 (grayscale) or 3 (RGB).");
        if (Width < 0 || Width > 4096)
            throw new TrainerException($"Width {Width} is out of range; it must be between 1 and 4096, or 0 for the default.");
        if (NumClasses is < 0 or > 10000)
            throw new TrainerException($"Number of classes {NumClasses} is out of range; it must be between 0 (unconditional) and 10000.");
        if (LatentClasses is < 0 or > 1000)
            throw new TrainerException($"{LatentClassesOption} is {LatentClasses}; it must be between 0 (none) and 1000.");
        if (LatentClasses == 1)
            throw new TrainerException($"{LatentClassesOption} is 1; it needs at least 2 categories (or 0 for none).");
        if (LatentClasses > LatentDim)
            throw new TrainerException($"{LatentClassesOption} is {LatentClasses} but the latent has only {LatentDim} values; a model may have at most as many latent classes as latent values.");
        if (LatentClasses > 0 && NumClasses > 0 && !Clustered)
            throw new TrainerException($"{LatentClassesOption} is for unconditional models; a conditional model already has its classes (clusters within its classes are ModelConfig.LatentClasses (clustered)).");
        if (ClassClusters && (long)NumClasses * LatentClasses > 10000)
            throw new TrainerException($"{LatentClassesOption} is {LatentClasses} clusters in each of {NumClasses} classes: {(long)NumClasses * LatentClasses} (class, cluster) pairs; at most 10000 are supported.");
        if (GeneratorDepth is < 0 or > 4)
            throw new TrainerException($"ModelConfig.GeneratorDepth is {GeneratorDepth}; it must be between 0 (the write-up's generator) and 4 extra layers per resolution.");
        if (GeneratorDepth > 0 && Architecture != GanArchitecture.Dcgan)
            throw new TrainerException($"ModelConfig.GeneratorDepth is for the dcgan architecture; {ArchitectureName} has its write-up's layers only.");
        if (DiscriminatorWidth < 0 || DiscriminatorWidth > 4096)
            throw new TrainerException($"ModelConfig.DiscriminatorWidth is {DiscriminatorWidth}; it must be between 1 and 4096, or 0 for the generator's width.");
        if (DiscriminatorDropout is { } dropout && !(dropout >= 0 && dropout < 1))
            throw new TrainerException(string.Create(CultureInfo.InvariantCulture, $"ModelConfig.DiscriminatorDropout is {dropout}; it must be at least 0 (no dropout) and below 1."));
        if (MinibatchStdGroup is < 0 or 1 or > 256)
            throw new TrainerException($"ModelConfig.MinibatchStdGroup is {MinibatchStdGroup}; it must be 0 (none) or a group of 2 to 256 images.");
        if (Projection && DiscriminatorClasses == 0)
            throw new TrainerException("ModelConfig.Projection is for conditional (ModelConfig.NumClasses) or self-conditioned (ModelConfig.LatentClasses (clustered)) models; this one has no classes for the discriminator.");
        if (AuxiliaryClassifier && NumClasses == 0)
            throw new TrainerException("ModelConfig.AuxiliaryClassifier is for conditional models (ModelConfig.NumClasses): its head learns the real images' labels, and this model has none.");
        if (Clustered && LatentClasses == 0)
            throw new TrainerException("A self-conditioned model needs ModelConfig.LatentClasses (clustered) 2 or more.");
        if (LatentClassPrior is { } prior)
        {
            var rows = ClassClusters ? NumClasses : 1;
            if (prior.Length != rows * LatentClasses)
                throw new TrainerException(ClassClusters
                    ? $"The latent class prior has {prior.Length} values but the model has {LatentClasses} clusters in each of {NumClasses} classes ({rows * LatentClasses})."
                    : $"The latent class prior has {prior.Length} values but the model has {LatentClasses} latent classes.");
            for (var row = 0; row < rows; row++)
            {
                var shares = prior.AsSpan(row * LatentClasses, LatentClasses).ToArray();
                if (shares.Any(p => !(p > 0)) || Math.Abs(shares.Sum() - 1) > 1e-6)
                    throw new TrainerException($"The latent class prior ({string.Join(", ", shares)}{(ClassClusters ? $", class {row}" : "")}) must hold positive shares that sum to 1.");
            }
        }
        var ok = Architecture switch
        {
            GanArchitecture.Mlp => ImageSize is >= 4 and <= 128,
            GanArchitecture.KerasDcgan => ImageSize >= 8 && ImageSize % 4 == 0 && ImageSize <= 128,
            _ => DcganLayout(ImageSize) is not null && ImageSize <= 128,
        };
        if (!ok)
        {
            var sizes = string.Join(", ", SupportedSizes(Architecture).Where(s => s <= 64));
            throw new TrainerException($"The {ArchitectureName} architecture cannot make {ImageSize}×{ImageSize} images. Sizes that work (up to 64): {sizes}{(Architecture == GanArchitecture.Mlp ? "" : ", …")}.");
        }
        if (Architecture == GanArchitecture.KerasDcgan && EffectiveWidth < 8)
            throw new TrainerException($"Width {EffectiveWidth} is too small for keras-dcgan; it needs at least 8 (its blocks use width×4, ×2, ×1 and ×½ channels).");
    }
}
