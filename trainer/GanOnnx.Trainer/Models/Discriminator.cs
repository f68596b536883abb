using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A GAN discriminator (critic): images [B, C, H, W] (and labels for a conditional model) → one logit per image, [B].
/// A conditional discriminator adds a learned per-class image plane as an extra input channel, or, with
/// <see cref="ModelConfig.Projection"/>, adds to the logit the inner product of a learned per-class vector with the
/// features before the last layer; a self-conditioned one (<see cref="ModelConfig.Clustered"/>) does the same for the
/// images' clusters. For a model with an InfoGAN code
/// (<see cref="ModelConfig.LatentClasses"/> without clusters), a linear head on the features before the last layer
/// predicts the code's category (<see cref="ForwardWithCode"/>). With <see cref="ModelConfig.AuxiliaryClassifier"/> such a
/// head predicts the class (<see cref="ForwardWithClasses"/>), and the layers before it see the image only. With
/// <see cref="ModelConfig.MinibatchStdGroup"/> a <see cref="MinibatchStd"/> layer before the last layer appends how much
/// the images of a group differ, so an image's logit also depends on the others in its group.
/// </summary>
public sealed class Discriminator : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Embedding? label_plane;
    private readonly Embedding? projection;
    private readonly Linear? code_head;
    private readonly Linear? class_head;
    private readonly int size;

    /// <summary>Builds the discriminator of <paramref name="config"/> with fresh weights.</summary>
    public Discriminator(ModelConfig config) : base("Discriminator")
    {
        config.Validate();
        size = config.ImageSize;
        var classes = config.DiscriminatorClasses;
        // The class plane is the default conditioning; a projection replaces it, and so does an auxiliary classifier,
        // whose head would otherwise read the label from the plane instead of the image.
        var plane = classes > 0 && !config.Projection && !config.AuxiliaryClassifier;
        var channels = config.Channels + (plane ? 1 : 0);
        if (plane) label_plane = Embedding(classes, size * size);
        body = Sequential(config.Architecture switch
        {
            GanArchitecture.Mlp => MlpLayers(config, channels),
            GanArchitecture.KerasDcgan => KerasLayers(config, channels),
            _ => DcganLayers(config, channels),
        });
        var features = body.children().Last() switch
        {
            Linear linear => linear.in_features,
            SpectralLinear linear => linear.InFeatures,
            var other => throw new InvalidOperationException($"The discriminator ends in {other.GetName()}, not a linear layer."),
        };
        if (config.LatentClasses > 0 && !config.Clustered) code_head = Linear(features, config.LatentClasses);
        if (classes > 0 && config.Projection) projection = Embedding(classes, features);
        if (config.AuxiliaryClassifier) class_head = Linear(features, config.NumClasses);
        RegisterComponents();
        if (config.Architecture == GanArchitecture.Dcgan) DcganInit.Apply(this);
        if (projection is not null)
        {
            // Xavier-uniform, as in the projection discriminator's reference code: the initial class term stays of the
            // order of the unconditional logit instead of swamping it (N(0, 1) rows over thousands of features would).
            using var _ = no_grad();
            var bound = Math.Sqrt(6.0 / (classes + features));
            projection.weight!.uniform_(-bound, bound);
        }
    }

    /// <summary>Whether this discriminator reads its classes (or clusters) as a learned input plane, so that every pass,
    /// <see cref="Features"/> included, needs the labels.</summary>
    public bool ReadsLabelPlane => label_plane is not null;

    /// <summary>Unconditional forward pass: logits [B].</summary>
    public override Tensor forward(Tensor images) => forward(images, null);

    /// <summary>Forward pass with labels (int64 [B]: classes, or clusters of a self-conditioned model) for a conditional
    /// discriminator: logits [B].</summary>
    public Tensor forward(Tensor images, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        if ((label_plane ?? projection) is not null && labels is null)
            throw new TrainerException("This discriminator is conditional: labels (or clusters) are required.");
        if (projection is not null)
        {
            return LogitsAndFeatures(images, labels).Logits.MoveToOuterDisposeScope();
        }
        return body.forward(WithLabelPlane(images, labels)).view(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The images, with the labels' learned planes as an extra channel when this discriminator has them.</summary>
    private Tensor WithLabelPlane(Tensor images, Tensor? labels) =>
        label_plane is null ? images : cat([images, label_plane.forward(labels!).view(-1, 1, size, size)], 1);

    /// <summary>Runs <paramref name="input"/> through every layer but the last: that layer and what it reads.</summary>
    private (Module<Tensor, Tensor> Last, Tensor Features) BeforeLastLayer(Tensor input)
    {
        var layers = body.children().Cast<Module<Tensor, Tensor>>().ToList();
        var x = input;
        foreach (var layer in layers.Take(layers.Count - 1)) x = layer.forward(x);
        return (layers[^1], x);
    }

    /// <summary>
    /// The features the last layer reads, [B, F], with no gradient: what a trained discriminator has learned to tell
    /// apart, used to cluster images (<see cref="Training.TrainingOptions.ClusterFeatures"/>). A discriminator that takes
    /// its classes (or clusters) as an input plane needs <paramref name="labels"/>; a projection one does not, its
    /// features come before the class term. Dropout, if any, is off for the pass.
    /// </summary>
    public Tensor Features(Tensor images, Tensor? labels = null)
    {
        if (label_plane is not null && labels is null)
            throw new TrainerException("This discriminator reads its classes (or clusters) as an input plane: labels are required for its features.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var training = this.training;
        eval();
        try
        {
            return BeforeLastLayer(WithLabelPlane(images, labels)).Features.flatten(1).MoveToOuterDisposeScope();
        }
        finally
        {
            train(training);
        }
    }

    /// <summary>
    /// Forward pass of a model with an auxiliary classifier: the logits [B] (with the projection's class term when it has
    /// one, for <paramref name="labels"/>: the classes, or the (class, cluster) pairs of a model with clusters within
    /// classes) and the class head's logits [B, classes], both from one pass.
    /// </summary>
    public (Tensor Logits, Tensor ClassLogits) ForwardWithClasses(Tensor images, Tensor labels)
    {
        if (class_head is null) throw new TrainerException("This discriminator has no auxiliary classifier (ModelConfig.AuxiliaryClassifier).");
        using var scope = NewDisposeScope();
        var (logits, features) = LogitsAndFeatures(images, labels);
        return (logits.MoveToOuterDisposeScope(), class_head.forward(features).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The logits [B] — with a projection discriminator's class term for <paramref name="labels"/> — and the features the
    /// last layer reads [B, F], from one pass.
    /// </summary>
    private (Tensor Logits, Tensor Features) LogitsAndFeatures(Tensor images, Tensor? labels = null)
    {
        var (last, x) = BeforeLastLayer(images);
        var logits = last.forward(x).view(-1);
        if (projection is not null) logits = logits.add(projection.forward(labels!).mul(x).sum(1));
        return (logits, x);
    }

    /// <summary>
    /// Unconditional forward pass of a model with an InfoGAN code: the logits [B] and the code head's logits [B, K] over
    /// the categories, both from one pass through the layers before the last.
    /// </summary>
    public (Tensor Logits, Tensor CodeLogits) ForwardWithCode(Tensor images)
    {
        if (code_head is null) throw new TrainerException("This discriminator has no InfoGAN code head (ModelConfig.LatentClasses).");
        using var scope = NewDisposeScope();
        var (logits, features) = LogitsAndFeatures(images);
        return (logits.MoveToOuterDisposeScope(), code_head.forward(features).MoveToOuterDisposeScope());
    }

    /// <summary>A linear layer, spectrally normalized when the model asks for it.</summary>
    private static Module<Tensor, Tensor> Dense(ModelConfig c, long inFeatures, long outFeatures) =>
        c.SpectralNorm ? new SpectralLinear(inFeatures, outFeatures) : Linear(inFeatures, outFeatures);

    /// <summary>Adds a dropout layer after a hidden layer when the model's discriminator has dropout (none at 0).</summary>
    private static void AddDropout(List<(string, Module<Tensor, Tensor>)> layers, ModelConfig c, int layer)
    {
        if (c.EffectiveDiscriminatorDropout > 0) layers.Add(($"drop{layer}", Dropout(c.EffectiveDiscriminatorDropout)));
    }

    /// <summary>Adds the minibatch standard deviation layer when the model asks for it; returns the channels (or features)
    /// after it: <paramref name="channels"/>, plus one with the layer.</summary>
    private static int AddMinibatchStd(List<(string, Module<Tensor, Tensor>)> layers, ModelConfig c, int channels)
    {
        if (c.MinibatchStdGroup == 0) return channels;
        layers.Add(("mbstd", new MinibatchStd(c.MinibatchStdGroup)));
        return channels + 1;
    }

    private static (string, Module<Tensor, Tensor>)[] MlpLayers(ModelConfig c, int channels)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("flatten", Flatten()),
            ("fc1", Dense(c, channels * c.ImageSize * c.ImageSize, c.EffectiveDiscriminatorWidth)),
            ("act1", LeakyReLU(0.2)),
        };
        AddDropout(layers, c, 1);
        var features = AddMinibatchStd(layers, c, c.EffectiveDiscriminatorWidth);
        layers.Add(("fc2", Dense(c, features, 1)));
        return layers.ToArray();
    }

    private static (string, Module<Tensor, Tensor>)[] KerasLayers(ModelConfig c, int channels)
    {
        // 5×5 stride-2 convolutions with LeakyReLU 0.2 and Dropout 0.4 (ModelConfig.DiscriminatorDropout); the last one stride 1.
        var w = c.EffectiveDiscriminatorWidth;
        var s = c.ImageSize;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var inCh = channels;
        int[] widths = [w, w * 2, w * 4, w * 8];
        for (var i = 0; i < 4; i++)
        {
            var stride = i < 3 ? 2 : 1;
            layers.Add(($"conv{i + 1}", new VerifiedConv2d(inCh, widths[i], 5, stride: stride, padding: 2, spectralNorm: c.SpectralNorm)));
            layers.Add(($"act{i + 1}", LeakyReLU(0.2)));
            AddDropout(layers, c, i + 1);
            inCh = widths[i];
            if (stride == 2) s = (s - 1) / 2 + 1;
        }
        inCh = AddMinibatchStd(layers, c, inCh);
        layers.Add(("flatten", Flatten()));
        layers.Add(("fc", Dense(c, inCh * s * s, 1)));
        return layers.ToArray();
    }

    private static (string, Module<Tensor, Tensor>)[] DcganLayers(ModelConfig c, int channels)
    {
        var (start, blocks) = ModelConfig.DcganLayout(c.ImageSize)!.Value;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var inCh = channels;
        var outCh = c.EffectiveDiscriminatorWidth;
        for (var b = 1; b <= blocks; b++)
        {
            layers.Add(($"conv{b}", new VerifiedConv2d(inCh, outCh, 4, stride: 2, padding: 1, spectralNorm: c.SpectralNorm)));
            layers.Add(($"act{b}", LeakyReLU(0.2)));
            AddDropout(layers, c, b);
            inCh = outCh;
            outCh *= 2;
        }
        inCh = AddMinibatchStd(layers, c, inCh);
        layers.Add(("flatten", Flatten()));
        layers.Add(("fc", Dense(c, inCh * start * start, 1)));
        return layers.ToArray();
    }
}
