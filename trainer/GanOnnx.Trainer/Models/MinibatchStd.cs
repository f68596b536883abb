using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanOnnx.Trainer.Models;

/// <summary>
/// Minibatch standard deviation (Karras et al. 2018, "Progressive growing of GANs"; StyleGAN's <c>mbstd</c> layer): a
/// layer of the discriminator that appends one feature saying how much the images of a group differ from each other.
/// The batch is split into groups of <see cref="GroupSize"/> images (image i joins group i mod N/G, as in StyleGAN); for
/// each group the standard deviation of every feature over its images is averaged into one number, which is appended to
/// each of its images as a constant extra channel ([B, C, H, W] → [B, C + 1, H, W]) or an extra feature ([B, F] →
/// [B, F + 1]). A generator that makes the same image for every latent gives groups of zero spread, which real images never
/// have, so the discriminator can tell collapse apart. No weights. When the batch does not divide into groups of
/// <see cref="GroupSize"/>, the largest group size that divides it is used (1 for a single image: a spread of 0).
/// </summary>
public sealed class MinibatchStd : Module<Tensor, Tensor>
{
    /// <summary>Builds the layer for groups of <paramref name="groupSize"/> images (2 or more).</summary>
    public MinibatchStd(int groupSize) : base("MinibatchStd")
    {
        if (groupSize < 2) throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "A group needs at least 2 images.");
        GroupSize = groupSize;
    }

    /// <summary>Images per group.</summary>
    public int GroupSize { get; }

    /// <summary>The group size used for a batch of <paramref name="batch"/> images: the largest divisor of the batch not above <see cref="GroupSize"/>.</summary>
    public long GroupFor(long batch)
    {
        var g = Math.Min(GroupSize, batch);
        while (g > 1 && batch % g != 0) g--;
        return Math.Max(g, 1);
    }

    /// <summary>[B, C, H, W] → [B, C + 1, H, W], or [B, F] → [B, F + 1].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var batch = x.shape[0];
        var g = GroupFor(batch);
        var groups = batch / g;
        // [G, M, rest…]: image i is row i / M of group i mod M.
        var grouped = x.reshape([g, groups, .. x.shape[1..]]);
        var spread = grouped.sub(grouped.mean([0], keepdim: true)).square().mean([0]).add(1e-8).sqrt();
        var perGroup = spread.flatten(1).mean([1]);                              // [M]
        var shape = x.shape.ToArray();
        shape[1] = 1;
        var column = perGroup.repeat(g).reshape([batch, .. Enumerable.Repeat(1L, shape.Length - 1)]).expand(shape);
        return cat([x, column], 1).MoveToOuterDisposeScope();
    }
}
