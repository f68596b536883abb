using GanOnnx.Trainer.Models;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// The training settings each model and loss is meant to be trained with, in one place for the command line, the training
/// benchmark and library users: <see cref="For"/> gives the optimizer defaults of an architecture and a loss (the Keras
/// DCGAN's RMSprop 8e-4/4e-4 with clipping at 1; WGAN-GP's five critic steps with Adam 1e-4, β 0/0.9), and
/// <see cref="Named"/> the write-ups' three models and the two other losses as ready-made runs, like nanoGPT's config files.
/// </summary>
public static class TrainingRecipe
{
    /// <summary>A named model and its training settings.</summary>
    /// <param name="Name">The name (<c>ganonnx-train train --recipe</c>).</param>
    /// <param name="Description">Where it comes from.</param>
    /// <param name="Model">The model (image size and channels as the write-up has them; a dataset of another shape overrides them).</param>
    /// <param name="Options">The training settings.</param>
    public sealed record Recipe(string Name, string Description, ModelConfig Model, TrainingOptions Options);

    /// <summary>
    /// <paramref name="options"/> (default: <see cref="TrainingOptions"/>' own defaults) with <paramref name="loss"/> and
    /// the optimizer settings that <paramref name="architecture"/> and <paramref name="loss"/> call for. The Keras DCGAN's
    /// optimizer wins over the loss's where both set one.
    /// </summary>
    public static TrainingOptions For(GanArchitecture architecture, LossKind loss, TrainingOptions? options = null)
    {
        var result = (options ?? new TrainingOptions()) with { Loss = loss };
        if (loss == LossKind.WganGp)
            result = result with { CriticSteps = 5, LearningRateG = 1e-4, LearningRateD = 1e-4, Beta1 = 0, Beta2 = 0.9 };
        if (architecture == GanArchitecture.KerasDcgan)
            result = result with { Optimizer = OptimizerKind.RmsProp, LearningRateG = 4e-4, LearningRateD = 8e-4, ClipValue = 1.0 };
        return result;
    }

    /// <summary>The write-ups' models and the other losses, by name.</summary>
    public static IReadOnlyList<Recipe> Named { get; } =
    [
        new("mlp-gan", "The plain GAN on MNIST: MLP generator 100 → 128 LeakyReLU → 784 sigmoid, MLP discriminator, Adam, BCE, batch 128.",
            new ModelConfig { Architecture = GanArchitecture.Mlp },
            For(GanArchitecture.Mlp, LossKind.Bce) with { BatchSize = 128 }),
        new("keras-dcgan", "The Keras DCGAN on MNIST: Dense → 7×7×256, UpSampling + 5×5 ConvTranspose, sigmoid, uniform latent; RMSprop 8e-4 (D) / 4e-4 (adversarial), clip 1.0.",
            new ModelConfig { Architecture = GanArchitecture.KerasDcgan },
            For(GanArchitecture.KerasDcgan, LossKind.Bce)),
        new("dcgan-64-rgb", "The 64×64 RGB DCGAN: Dense → 4×4×512 → 4×4 stride-2 ConvTranspose blocks with BatchNorm → 3 channels tanh; BCE from logits, Adam 1e-4, β1 0.5.",
            new ModelConfig { Architecture = GanArchitecture.Dcgan, ImageSize = 64, Channels = 3 },
            For(GanArchitecture.Dcgan, LossKind.Bce) with { LearningRateG = 1e-4, LearningRateD = 1e-4 }),
        new("wgan-gp", "The 64×64 RGB DCGAN trained as a WGAN-GP critic (the cure the third write-up names): 5 critic steps, λ 10, Adam 1e-4, β 0/0.9.",
            new ModelConfig { Architecture = GanArchitecture.Dcgan, ImageSize = 64, Channels = 3 },
            For(GanArchitecture.Dcgan, LossKind.WganGp)),
        new("hinge", "A 28×28 DCGAN with the hinge loss (Adam 2e-4, β1 0.5).",
            new ModelConfig { Architecture = GanArchitecture.Dcgan },
            For(GanArchitecture.Dcgan, LossKind.Hinge)),
    ];

    /// <summary>The recipe named <paramref name="name"/>; a name it does not know is refused with the names it does.</summary>
    public static Recipe Get(string name) =>
        Named.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new TrainerException($"There is no recipe '{name}'; the recipes are {string.Join(", ", Named.Select(r => r.Name))}.");
}
