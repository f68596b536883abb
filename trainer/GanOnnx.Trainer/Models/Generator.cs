using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A GAN generator: latent [B, L] (and labels [B] for a conditional model) → images [B, C, H, W].
/// The layers are one flat <see cref="Body"/> sequence of named standard modules, which is what the ONNX exporter walks.
/// A conditional generator concatenates a learned class embedding to the latent before the body; one with latent classes
/// (an InfoGAN code or self-conditioning clusters, <see cref="ModelConfig.LatentClasses"/>) does the same with the
/// category it reads from its latent, and one with clusters within classes with the (class, cluster) pair.
/// </summary>
public sealed class Generator : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Embedding? label_embedding;

    /// <summary>Builds the generator of <paramref name="config"/> with fresh weights.</summary>
    public Generator(ModelConfig config) : base("Generator")
    {
        config.Validate();
        Config = config;
        var classes = config.EmbeddedClasses;
        if (classes > 0) label_embedding = Embedding(classes, classes);
        var input = config.LatentDim + classes;
        body = Sequential(config.Architecture switch
        {
            GanArchitecture.Mlp => MlpLayers(config, input),
            GanArchitecture.KerasDcgan => KerasLayers(config, input),
            _ => DcganLayers(config, input),
        });
        RegisterComponents();
        if (config.Architecture == GanArchitecture.Dcgan) DcganInit.Apply(this);
    }

    /// <summary>The configuration the generator was built from.</summary>
    public ModelConfig Config { get; }

    /// <summary>The layers after the (optional) label concatenation, in order.</summary>
    public Sequential Body => body;

    /// <summary>The class embedding of a conditional generator (or the embedding of the latent classes), or null.</summary>
    public Embedding? LabelEmbedding => label_embedding;

    /// <summary>
    /// A batch of latents from the model's distribution (normal, or uniform in [−1, 1]) on <paramref name="device"/>:
    /// drawn there from the global random state, or on the CPU from <paramref name="random"/> when one is given.
    /// </summary>
    public static Tensor SampleLatents(ModelConfig config, long batch, Device device, torch.Generator? random = null)
    {
        var on = random is null ? device : CPU;
        var z = config.LatentDistribution == Runtime.LatentDistribution.Uniform
            ? rand([batch, config.LatentDim], generator: random, device: on).mul_(2).sub_(1)
            : randn([batch, config.LatentDim], generator: random, device: on);
        return random is null ? z : z.to(device);
    }

    /// <summary>
    /// The latent class each latent of <paramref name="z"/> [B, L] selects, int64 [B]: how many of
    /// <see cref="ModelConfig.LatentClassThresholds"/> its first value exceeds, so that class k comes up with probability
    /// <see cref="ModelConfig.LatentClassPrior"/>[k]. The exported graph compares the same float32 values.
    /// With <see cref="ModelConfig.ClassClusters"/> the thresholds are those of each latent's class in
    /// <paramref name="labels"/>, and the result is the (class, cluster) pair's row, class·K + cluster.
    /// </summary>
    public static Tensor LatentCode(ModelConfig config, Tensor z, Tensor? labels = null)
    {
        if (config.LatentClasses < 2) throw new TrainerException("This model has no latent classes (ModelConfig.LatentClasses).");
        using var scope = NewDisposeScope();
        var thresholds = tensor(config.LatentClassThresholds(), device: z.device);
        var first = z.narrow(1, 0, 1);
        if (!config.ClassClusters) return first.gt(thresholds).sum(1, type: ScalarType.Int64).MoveToOuterDisposeScope();
        if (labels is null) throw new TrainerException("This generator has clusters within classes: labels are required.");
        var k = config.LatentClasses;
        var rows = thresholds.view(config.NumClasses, k - 1).index_select(0, labels);
        return first.gt(rows).sum(1, type: ScalarType.Int64).add_(labels * k).MoveToOuterDisposeScope();
    }

    /// <summary>Unconditional forward pass.</summary>
    public override Tensor forward(Tensor z)
    {
        if (Config.NumClasses > 0)
            throw new TrainerException("This generator is conditional: call forward(z, labels).");
        return forward(z, null);
    }

    /// <summary>Forward pass with class labels (int64 [B]); for an unconditional generator the labels must be null.</summary>
    public Tensor forward(Tensor z, Tensor? labels)
    {
        if (Config.NumClasses == 0 && labels is not null) throw new TrainerException("This generator is unconditional; it takes no labels.");
        if (Config.NumClasses > 0 && labels is null) throw new TrainerException("This generator is conditional: labels are required.");
        if (label_embedding is null) return body.forward(z);
        // The class asked for, or the latent class read from the latent, or the (class, cluster) pair.
        using var scope = NewDisposeScope();
        var embedded = label_embedding.forward(Config.ClassClusters || labels is null ? LatentCode(Config, z, labels) : labels);
        return body.forward(cat([z, embedded], 1)).MoveToOuterDisposeScope();
    }

    private static (string, Module<Tensor, Tensor>)[] MlpLayers(ModelConfig c, int input)
    {
        var pixels = c.Channels * c.ImageSize * c.ImageSize;
        return
        [
            ("fc1", Linear(input, c.EffectiveWidth)),
            ("act1", LeakyReLU(0.2)),
            ("fc2", Linear(c.EffectiveWidth, pixels)),
            ("out", Sigmoid()),
            ("reshape", Unflatten(1, [c.Channels, c.ImageSize, c.ImageSize])),
        ];
    }

    private static (string, Module<Tensor, Tensor>)[] KerasLayers(ModelConfig c, int input)
    {
        // Atienza's Keras DCGAN: depth 256 at 7×7, two UpSampling2D + Conv2DTranspose(5×5, 'same') blocks,
        // BatchNorm(momentum 0.9 in Keras = 0.1 in PyTorch, epsilon 1e-3 as in Keras), Dropout 0.4 once.
        var start = c.ImageSize / 4;
        var depth = c.EffectiveWidth * 4;
        const double momentum = 0.1, eps = 1e-3;
        return
        [
            ("fc", Linear(input, start * start * depth)),
            ("fc_bn", BatchNorm1d(start * start * depth, eps, momentum)),
            ("fc_relu", ReLU()),
            ("reshape", Unflatten(1, [depth, start, start])),
            ("dropout", Dropout(0.4)),
            ("up1", Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest)),
            ("deconv1", new VerifiedConvTranspose2d(depth, depth / 2, 5, stride: 1, padding: 2)),
            ("bn1", BatchNorm2d(depth / 2, eps, momentum)),
            ("relu1", ReLU()),
            ("up2", Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest)),
            ("deconv2", new VerifiedConvTranspose2d(depth / 2, depth / 4, 5, stride: 1, padding: 2)),
            ("bn2", BatchNorm2d(depth / 4, eps, momentum)),
            ("relu2", ReLU()),
            ("deconv3", new VerifiedConvTranspose2d(depth / 4, depth / 8, 5, stride: 1, padding: 2)),
            ("bn3", BatchNorm2d(depth / 8, eps, momentum)),
            ("relu3", ReLU()),
            ("deconv4", new VerifiedConvTranspose2d(depth / 8, c.Channels, 5, stride: 1, padding: 2)),
            ("out", Sigmoid()),
        ];
    }

    private static (string, Module<Tensor, Tensor>)[] DcganLayers(ModelConfig c, int input)
    {
        var (start, blocks) = ModelConfig.DcganLayout(c.ImageSize)!.Value;
        var features = c.EffectiveWidth << (blocks - 1); // 64 → 512 at 4×4 for 64×64 images
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("fc", Linear(input, start * start * features, hasBias: false)),
            ("fc_bn", BatchNorm1d(start * start * features)),
            ("fc_relu", ReLU()),
            ("reshape", Unflatten(1, [features, start, start])),
        };
        // ModelConfig.GeneratorDepth: 3×3 stride-1 layers at this resolution, named after the block they follow (extra0_1 after the reshape).
        void AddExtra(int block)
        {
            for (var d = 1; d <= c.GeneratorDepth; d++)
            {
                layers.Add(($"extra{block}_{d}", new VerifiedConvTranspose2d(features, features, 3, stride: 1, padding: 1, hasBias: false)));
                layers.Add(($"extra{block}_{d}_bn", BatchNorm2d(features)));
                layers.Add(($"extra{block}_{d}_relu", ReLU()));
            }
        }
        AddExtra(0);
        for (var b = 1; b < blocks; b++)
        {
            layers.Add(($"deconv{b}", new VerifiedConvTranspose2d(features, features / 2, 4, stride: 2, padding: 1, hasBias: false)));
            layers.Add(($"bn{b}", BatchNorm2d(features / 2)));
            layers.Add(($"relu{b}", ReLU()));
            features /= 2;
            AddExtra(b);
        }
        layers.Add(($"deconv{blocks}", new VerifiedConvTranspose2d(features, c.Channels, 4, stride: 2, padding: 1, hasBias: false)));
        layers.Add(("out", Tanh()));
        return layers.ToArray();
    }
}
