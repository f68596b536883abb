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
    /// DCGANs (64 gives the write-ups' 256/512-channel first blocks). 0 picks the architecture's default.
    /// </summary>
    public int Width { get; init; }

    /// <summary>Number of classes for a conditional GAN; 0 = unconditional. Default 0.</summary>
    public int NumClasses { get; init; }

    /// <summary>
    /// Categories of an InfoGAN code (Chen et al. 2016) in an unconditional model; 0 = none. Default 0. The generator reads
    /// a category from its own noise — the index of the largest of the latent's first K values, uniform over the K
    /// categories for normal and uniform latents alike — and adds that category's learned embedding to its input; during
    /// training, a head on the discriminator learns to tell the category from the image and the generator is rewarded
    /// when it can. No labels are used: the generator learns K distinct modes, which keeps it from blending them.
    /// Exported models keep the plain unconditional contract (latent in, image out).
    /// </summary>
    public int LatentClasses { get; init; }

    /// <summary>
    /// Spectral normalization (Miyato et al. 2018) of every weight layer of the discriminator. Default false. The
    /// generator, and so the exported model, is unchanged.
    /// </summary>
    public bool SpectralNorm { get; init; }

    /// <summary>Rows of the generator's embedding table: the label classes, or the InfoGAN code's categories, or 0.</summary>
    [JsonIgnore]
    public int EmbeddedClasses => NumClasses > 0 ? NumClasses : LatentClasses;

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
            throw new TrainerException($"--latent-classes is {LatentClasses}; it must be between 0 (none) and 1000.");
        if (LatentClasses == 1)
            throw new TrainerException("--latent-classes is 1; a code needs at least 2 categories (or 0 for none).");
        if (LatentClasses > LatentDim)
            throw new TrainerException($"--latent-classes is {LatentClasses} but the latent has only {LatentDim} values; the code is read from the first {LatentClasses}.");
        if (LatentClasses > 0 && NumClasses > 0)
            throw new TrainerException("--latent-classes is for unconditional models; a conditional model already has its classes.");
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
