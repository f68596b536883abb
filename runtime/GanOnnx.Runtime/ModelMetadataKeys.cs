namespace GanOnnx.Runtime;

/// <summary>
/// The <c>metadata_props</c> keys of the model contract (models/README.md). The trainer writes them and the runtime
/// reads them; this class is the single list of names both use.
/// </summary>
public static class ModelMetadataKeys
{
    /// <summary>Prefix of every key.</summary>
    public const string Prefix = "ganonnx.";

    /// <summary>Version of the contract, currently "1".</summary>
    public const string FormatVersion = Prefix + "format_version";
    /// <summary>Length of a latent vector.</summary>
    public const string LatentDim = Prefix + "latent_dim";
    /// <summary>"normal" or "uniform".</summary>
    public const string LatentDistribution = Prefix + "latent_distribution";
    /// <summary>"min,max" of the output values, e.g. "-1,1".</summary>
    public const string ValueRange = Prefix + "value_range";
    /// <summary>Output channels (1 grayscale, 3 RGB).</summary>
    public const string Channels = Prefix + "channels";
    /// <summary>Output height in pixels.</summary>
    public const string Height = Prefix + "height";
    /// <summary>Output width in pixels.</summary>
    public const string Width = Prefix + "width";
    /// <summary>Number of classes of a conditional model; "0" for an unconditional one.</summary>
    public const string NumClasses = Prefix + "num_classes";
    /// <summary>
    /// Latent classes of an unconditional model (a self-conditioned or InfoGAN one): how many categories the latent's
    /// first value selects among. Absent or "0" when the latent has none. Truncation leaves that first value alone.
    /// </summary>
    public const string LatentClasses = Prefix + "latent_classes";
    /// <summary>
    /// JSON array of the K − 1 increasing float32 thresholds that split the latent's first value into the latent classes
    /// (<see cref="LatentClassRule"/>); the same numbers as the graph's <c>code_thresholds</c>. Lets the runtime draw a
    /// latent of a chosen class. Written with <see cref="LatentClasses"/> when K &gt; 1.
    /// </summary>
    public const string LatentClassThresholds = Prefix + "latent_class_thresholds";
    /// <summary>
    /// How many leading latent values truncation leaves alone, because they select something (a latent class, or a
    /// cluster within a class of a conditional model whose per-class thresholds live inside the graph): "1" in models
    /// with latent classes or clusters, absent otherwise. Truncation would pull such a value towards the middle and so
    /// skew the mix of clusters.
    /// </summary>
    public const string UntruncatedLatents = Prefix + "untruncated_latents";
    /// <summary>JSON array of class names.</summary>
    public const string ClassNames = Prefix + "class_names";
    /// <summary>Architecture name (mlp, keras-dcgan, dcgan).</summary>
    public const string Architecture = Prefix + "architecture";
    /// <summary>Loss the model was trained with (bce, wgan-gp, hinge).</summary>
    public const string Loss = Prefix + "loss";
    /// <summary>Dataset the model was trained on.</summary>
    public const string Dataset = Prefix + "dataset";
    /// <summary>Generator steps trained.</summary>
    public const string TrainingSteps = Prefix + "training_steps";
    /// <summary>"true" when the weights are the exponential moving average of the generator's.</summary>
    public const string Ema = Prefix + "ema";
    /// <summary>JSON object of measured quality scores (may be "{}").</summary>
    public const string Quality = Prefix + "quality";

    /// <summary>The contract version this runtime writes and reads.</summary>
    public const string CurrentFormatVersion = "1";

    /// <summary>The <see cref="LatentDistribution"/> key's value for <paramref name="distribution"/>: "normal" or "uniform".</summary>
    public static string Format(Runtime.LatentDistribution distribution) => distribution switch
    {
        Runtime.LatentDistribution.Normal => "normal",
        Runtime.LatentDistribution.Uniform => "uniform",
        _ => throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "distribution must be Normal or Uniform."),
    };

    /// <summary>Reads the <see cref="LatentDistribution"/> key's value; false for anything but "normal" and "uniform".</summary>
    public static bool TryParse(string? text, out Runtime.LatentDistribution distribution)
    {
        foreach (var candidate in Enum.GetValues<Runtime.LatentDistribution>())
        {
            if (text == Format(candidate))
            {
                distribution = candidate;
                return true;
            }
        }
        distribution = default;
        return false;
    }
}
