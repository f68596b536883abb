namespace GanOnnx.Trainer.Models;

/// <summary>The generator/discriminator families the trainer builds.</summary>
public enum GanArchitecture
{
    /// <summary>The plain MLP GAN: latent → 128 LeakyReLU(0.2) → pixels, sigmoid.</summary>
    Mlp,
    /// <summary>The Keras-style DCGAN: Dense → 7×7×256, BatchNorm(0.9), ReLU, Dropout 0.4, UpSampling + 5×5 ConvTranspose, sigmoid; uniform latent.</summary>
    KerasDcgan,
    /// <summary>The classic DCGAN: Dense → s×s×F, BatchNorm, 4×4 stride-2 ConvTranspose blocks with BatchNorm, tanh.</summary>
    Dcgan,
}
