using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// Spectral normalization (Miyato et al. 2018): a layer uses W / σ(W), where σ(W) is the largest singular value of its
/// weight viewed as a matrix [out, in·k·k], estimated by power iteration with a persistent vector u (one iteration per
/// training forward pass, as in PyTorch's <c>spectral_norm</c>). It bounds each layer's Lipschitz constant, which keeps a
/// discriminator from growing sharp enough to starve the generator of gradient.
/// </summary>
internal static class SpectralNorm
{
    /// <summary>A random unit vector of length <paramref name="rows"/> to start the power iteration from.</summary>
    public static Tensor InitialVector(long rows) => F.normalize(randn(rows), p: 2, dim: 0);

    /// <summary>
    /// W / σ(W). In training mode one power-iteration step first updates <paramref name="u"/> in place. σ = uᵀ W v is
    /// differentiable in W (u and v are constants), so the gradient sees the normalization.
    /// </summary>
    public static Tensor Apply(Tensor weight, Tensor u, bool training)
    {
        var matrix = weight.view(weight.shape[0], -1);
        Tensor v, uNow;
        using (no_grad())
        {
            v = F.normalize(matrix.t().mv(u), p: 2, dim: 0);
            if (training)
            {
                u.copy_(F.normalize(matrix.mv(v), p: 2, dim: 0));
                v = F.normalize(matrix.t().mv(u), p: 2, dim: 0);
            }
            // A copy: the next forward pass (a discriminator sees real and fake batches in one graph) updates u in
            // place, which must not change what this pass's backward reads.
            uNow = u.clone();
        }
        var sigma = uNow.dot(matrix.mv(v));
        return weight / sigma;
    }
}

/// <summary><c>Linear(in, out)</c> — same parameter names and initialisation — with a spectrally normalized weight.</summary>
public sealed class SpectralLinear : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor weight_u;

    /// <summary>Creates the layer with PyTorch's default initialisation of Linear.</summary>
    public SpectralLinear(long inFeatures, long outFeatures) : base(nameof(SpectralLinear))
    {
        InFeatures = inFeatures;
        using var template = Linear(inFeatures, outFeatures);
        weight = new Parameter(template.weight!.detach().clone());
        bias = new Parameter(template.bias!.detach().clone());
        weight_u = SpectralNorm.InitialVector(outFeatures);
        RegisterComponents();
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }

    /// <summary>The normalized weight W / σ(W) (advances the power iteration in training mode).</summary>
    public Tensor NormalizedWeight() => SpectralNorm.Apply(weight, weight_u, training);

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => F.linear(input, NormalizedWeight(), bias);
}
