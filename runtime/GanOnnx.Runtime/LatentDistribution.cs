namespace GanOnnx.Runtime;

/// <summary>The distribution a generator's latent vectors were drawn from in training.</summary>
public enum LatentDistribution
{
    /// <summary>Standard normal, N(0, 1) per component (the default of most GANs).</summary>
    Normal,

    /// <summary>Uniform in [-1, 1] per component (as in the Keras DCGAN write-up).</summary>
    Uniform,
}
