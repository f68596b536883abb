using System.Text.Json.Serialization;
using GanOnnx.Trainer.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GanOnnx.Trainer.Training;

/// <summary>The adversarial losses the trainer offers.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LossKind>))]
public enum LossKind
{
    /// <summary>Binary cross-entropy from logits, non-saturating generator loss (the DCGAN papers).</summary>
    Bce,
    /// <summary>Wasserstein loss with gradient penalty (Gulrajani et al. 2017): the write-ups' cure for mode collapse.</summary>
    WganGp,
    /// <summary>Hinge loss (Miyato et al. 2018; Zhang et al. 2019).</summary>
    Hinge,
}

/// <summary>Loss formulas. Every function returns a scalar tensor in the current dispose scope.</summary>
public static class GanLoss
{
    /// <summary>The name written in checkpoints, metadata and on the command line.</summary>
    public static string NameOf(LossKind loss) => loss switch
    {
        LossKind.WganGp => "wgan-gp",
        LossKind.Hinge => "hinge",
        _ => "bce",
    };

    /// <summary>Parses "bce", "wgan-gp" or "hinge".</summary>
    public static LossKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "bce" => LossKind.Bce,
        "wgan-gp" or "wgangp" => LossKind.WganGp,
        "hinge" => LossKind.Hinge,
        _ => throw new TrainerException($"TrainingOptions.Loss is '{name}'; choose bce, wgan-gp or hinge."),
    };

    /// <summary>Discriminator (critic) loss on real and fake scores; <paramref name="realTarget"/> is 1 − label smoothing (BCE only).</summary>
    public static Tensor Discriminator(LossKind loss, Tensor real, Tensor fake, double realTarget) => loss switch
    {
        LossKind.WganGp => fake.mean() - real.mean(),
        LossKind.Hinge => F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean(),
        _ => F.binary_cross_entropy_with_logits(real, full_like(real, realTarget))
             + F.binary_cross_entropy_with_logits(fake, zeros_like(fake)),
    };

    /// <summary>Generator loss on the scores of its images.</summary>
    public static Tensor Generator(LossKind loss, Tensor fake) => loss switch
    {
        LossKind.WganGp or LossKind.Hinge => -fake.mean(),
        _ => F.binary_cross_entropy_with_logits(fake, ones_like(fake)),
    };

    /// <summary>
    /// The <paramref name="k"/> highest of a batch's <paramref name="scores"/> (flattened), for top-k generator updates
    /// (<see cref="TrainingOptions.TopK"/>): a loss over them gives the other images no gradient. All of them when k is
    /// the batch or more.
    /// </summary>
    public static Tensor TopScores(Tensor scores, int k) => k >= scores.shape[0] ? scores : scores.flatten().topk(k).values;

    /// <summary>
    /// WGAN-GP's penalty E[(‖∇ₓ D(x̂)‖₂ − 1)²] at random interpolates x̂ between real and fake images (same labels as the
    /// real ones for a conditional critic). The graph is kept so that the penalty trains the critic.
    /// </summary>
    public static Tensor GradientPenalty(Discriminator critic, Tensor real, Tensor fake, Tensor? labels)
    {
        var alpha = rand([real.shape[0], 1, 1, 1], device: real.device);
        var mixed = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(true);
        var scores = critic.forward(mixed, labels);
        var gradients = autograd.grad([scores.sum()], [mixed], retain_graph: true, create_graph: true)[0];
        // ‖g‖ with a small epsilon: the norm's own gradient is NaN at g = 0.
        var norms = (gradients.flatten(1).square().sum(1) + 1e-12).sqrt();
        return (norms - 1).square().mean();
    }

    /// <summary>
    /// The consistency penalty of bCR (Zhao et al. 2021, "Improved Consistency Regularization for GANs"): the mean squared
    /// difference between the discriminator's <paramref name="scores"/> of a batch and its <paramref name="transformedScores"/>
    /// of the same images transformed, which teaches it to give an image and its shifted copy the same score. Both
    /// sides keep their graphs, so the penalty trains the discriminator through each; the caller weighs it (λ).
    /// </summary>
    public static Tensor Consistency(Tensor scores, Tensor transformedScores) => (scores - transformedScores).square().mean();

    /// <summary>
    /// The R1 penalty (Mescheder et al. 2018) E[‖∇ₓ D(x)‖²] of the <paramref name="scores"/> a discriminator gave the real
    /// images <paramref name="input"/>, which must have been made to require gradients before they were scored. The graph
    /// is kept so that the penalty trains the discriminator; the caller weighs it (γ/2 in the paper).
    /// </summary>
    public static Tensor R1Penalty(Tensor scores, Tensor input)
    {
        var gradients = autograd.grad([scores.sum()], [input], retain_graph: true, create_graph: true)[0];
        return gradients.flatten(1).square().sum(1).mean();
    }
}
