using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// A GAN discriminator (critic): images [B, C, H, W] (and labels for a conditional model) → one logit per image, [B].
/// A conditional discriminator adds a learned per-class image plane as an extra input channel; a self-conditioned one
/// (<see cref="ModelConfig.Clustered"/>) does the same for the images' clusters. For a model with an InfoGAN code
/// (<see cref="ModelConfig.LatentClasses"/> without clusters), a linear head on the features before the last layer
/// predicts the code's category (<see cref="ForwardWithCode"/>).
/// </summary>
public sealed class Discriminator : Module<Tensor, Tensor>
{
    private readonly Sequential body;
    private readonly Embedding? label_plane;
    private readonly Linear? code_head;
    private readonly int size;

    /// <summary>Builds the discriminator of <paramref name="config"/> with fresh weights.</summary>
    public Discriminator(ModelConfig config) : base("Discriminator")
    {
        config.Validate();
        size = config.ImageSize;
        var classes = config.DiscriminatorClasses;
        var channels = config.Channels + (classes > 0 ? 1 : 0);
        if (classes > 0) label_plane = Embedding(classes, size * size);
        body = Sequential(config.Architecture switch
        {
            GanArchitecture.Mlp => MlpLayers(config, channels),
            GanArchitecture.KerasDcgan => KerasLayers(config, channels),
            _ => DcganLayers(config, channels),
        });
        if (config.LatentClasses > 0 && !config.Clustered)
        {
            var features = body.children().Last() switch
            {
                Linear linear => linear.in_features,
                SpectralLinear linear => linear.InFeatures,
                var other => throw new InvalidOperationException($"The discriminator ends in {other.GetName()}, not a linear layer."),
            };
            code_head = Linear(features, config.LatentClasses);
        }
        RegisterComponents();
        if (config.Architecture == GanArchitecture.Dcgan) DcganInit.Apply(this);
    }

    /// <summary>Unconditional forward pass: logits [B].</summary>
    public override Tensor forward(Tensor images) => forward(images, null);

    /// <summary>Forward pass with labels (int64 [B]: classes, or clusters of a self-conditioned model) for a conditional
    /// discriminator: logits [B].</summary>
    public Tensor forward(Tensor images, Tensor? labels)
    {
        using var scope = NewDisposeScope();
        var input = images;
        if (label_plane is not null)
        {
            if (labels is null) throw new TrainerException("This discriminator is conditional: labels (or clusters) are required.");
            var plane = label_plane.forward(labels).view(-1, 1, size, size);
            input = cat([images, plane], 1);
        }
        return body.forward(input).view(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Unconditional forward pass of a model with an InfoGAN code: the logits [B] and the code head's logits [B, K] over
    /// the categories, both from one pass through the layers before the last.
    /// </summary>
    public (Tensor Logits, Tensor CodeLogits) ForwardWithCode(Tensor images)
    {
        if (code_head is null) throw new TrainerException("This discriminator has no InfoGAN code head (ModelConfig.LatentClasses).");
        using var scope = NewDisposeScope();
        var layers = body.children().Cast<Module<Tensor, Tensor>>().ToList();
        var x = images;
        foreach (var layer in layers.Take(layers.Count - 1)) x = layer.forward(x);
        var logits = layers[^1].forward(x).view(-1).MoveToOuterDisposeScope();
        var code = code_head.forward(x).MoveToOuterDisposeScope();
        return (logits, code);
    }

    /// <summary>A linear layer, spectrally normalized when the model asks for it.</summary>
    private static Module<Tensor, Tensor> Dense(ModelConfig c, long inFeatures, long outFeatures) =>
        c.SpectralNorm ? new SpectralLinear(inFeatures, outFeatures) : Linear(inFeatures, outFeatures);

    private static (string, Module<Tensor, Tensor>)[] MlpLayers(ModelConfig c, int channels) =>
    [
        ("flatten", Flatten()),
        ("fc1", Dense(c, channels * c.ImageSize * c.ImageSize, c.EffectiveWidth)),
        ("act1", LeakyReLU(0.2)),
        ("fc2", Dense(c, c.EffectiveWidth, 1)),
    ];

    private static (string, Module<Tensor, Tensor>)[] KerasLayers(ModelConfig c, int channels)
    {
        // 5×5 stride-2 convolutions with LeakyReLU 0.2 and Dropout 0.4; the last one stride 1.
        var w = c.EffectiveWidth;
        var s = c.ImageSize;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var inCh = channels;
        int[] widths = [w, w * 2, w * 4, w * 8];
        for (var i = 0; i < 4; i++)
        {
            var stride = i < 3 ? 2 : 1;
            layers.Add(($"conv{i + 1}", new VerifiedConv2d(inCh, widths[i], 5, stride: stride, padding: 2, spectralNorm: c.SpectralNorm)));
            layers.Add(($"act{i + 1}", LeakyReLU(0.2)));
            layers.Add(($"drop{i + 1}", Dropout(0.4)));
            inCh = widths[i];
            if (stride == 2) s = (s - 1) / 2 + 1;
        }
        layers.Add(("flatten", Flatten()));
        layers.Add(("fc", Dense(c, inCh * s * s, 1)));
        return layers.ToArray();
    }

    private static (string, Module<Tensor, Tensor>)[] DcganLayers(ModelConfig c, int channels)
    {
        var (start, blocks) = ModelConfig.DcganLayout(c.ImageSize)!.Value;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var inCh = channels;
        var outCh = c.EffectiveWidth;
        for (var b = 1; b <= blocks; b++)
        {
            layers.Add(($"conv{b}", new VerifiedConv2d(inCh, outCh, 4, stride: 2, padding: 1, spectralNorm: c.SpectralNorm)));
            layers.Add(($"act{b}", LeakyReLU(0.2)));
            layers.Add(($"drop{b}", Dropout(0.3)));
            inCh = outCh;
            outCh *= 2;
        }
        layers.Add(("flatten", Flatten()));
        layers.Add(("fc", Dense(c, inCh * start * start, 1)));
        return layers.ToArray();
    }
}
