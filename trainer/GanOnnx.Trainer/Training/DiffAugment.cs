using static TorchSharp.torch;

namespace GanOnnx.Trainer.Training;

/// <summary>The differentiable augmentations of <see cref="DiffAugment"/>.</summary>
[Flags]
public enum Augmentations
{
    /// <summary>No augmentation.</summary>
    None = 0,
    /// <summary>Random brightness, saturation (RGB only) and contrast.</summary>
    Color = 1,
    /// <summary>A random shift of up to 1/8 of the image size in each direction, filling with zeros.</summary>
    Translation = 2,
    /// <summary>A random square of half the image size set to zero.</summary>
    Cutout = 4,
}

/// <summary>
/// Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"): every
/// image the discriminator sees during training — real and generated alike, in its own steps and in the generator's — is
/// randomly transformed by operations the generator's gradient flows through. The discriminator can then no longer
/// memorise a small training set, which is what makes GANs on a few thousand images collapse or degrade. Each image gets
/// its own draw, from the global random state, so a resumed run stays exact.
/// </summary>
public static class DiffAugment
{
    /// <summary>Parses a comma-separated list: color, translation, cutout (or none).</summary>
    public static Augmentations Parse(string text)
    {
        var result = Augmentations.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= part.ToLowerInvariant() switch
            {
                "none" => Augmentations.None,
                "color" or "colour" => Augmentations.Color,
                "translation" => Augmentations.Translation,
                "cutout" => Augmentations.Cutout,
                _ => throw new TrainerException($"TrainingOptions.Augment has '{part}'; choose from color, translation and cutout (comma-separated), or none."),
            };
        }
        return result;
    }

    /// <summary>The names of <paramref name="augmentations"/>, comma-separated, for logs.</summary>
    public static string NameOf(Augmentations augmentations) => augmentations == Augmentations.None
        ? "none"
        : string.Join(",", new[] { Augmentations.Color, Augmentations.Translation, Augmentations.Cutout }.Where(a => augmentations.HasFlag(a)).Select(a => a.ToString().ToLowerInvariant()));

    /// <summary>Applies <paramref name="augmentations"/> to a batch [B, C, H, W] (the batch itself when there are none).</summary>
    public static Tensor Apply(Tensor images, Augmentations augmentations)
    {
        if (augmentations == Augmentations.None) return images;
        using var scope = NewDisposeScope();
        var x = images;
        if (augmentations.HasFlag(Augmentations.Color)) x = Color(x);
        if (augmentations.HasFlag(Augmentations.Translation)) x = Translate(x, 0.125);
        if (augmentations.HasFlag(Augmentations.Cutout)) x = Cutout(x, 0.5);
        return x.MoveToOuterDisposeScope();
    }

    private static Tensor Color(Tensor x)
    {
        var b = x.shape[0];
        var device = x.device;
        x = x + (rand([b, 1, 1, 1], device: device) - 0.5);
        if (x.shape[1] > 1)
        {
            var mean = x.mean([1L], keepdim: true);
            x = (x - mean) * (rand([b, 1, 1, 1], device: device) * 2) + mean;
        }
        var overall = x.mean([1L, 2L, 3L], keepdim: true);
        return (x - overall) * (rand([b, 1, 1, 1], device: device) + 0.5) + overall;
    }

    /// <summary>Shifts each image by a whole number of pixels in [−r, r] (r = ratio · size, rounded) on each axis; what
    /// is shifted in is zero.</summary>
    private static Tensor Translate(Tensor x, double ratio)
    {
        var (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var device = x.device;
        var sh = (long)(h * ratio + 0.5);
        var sw = (long)(w * ratio + 0.5);
        var dy = randint(-sh, sh + 1, [b, 1, 1], dtype: ScalarType.Int64, device: device);
        var dx = randint(-sw, sw + 1, [b, 1, 1], dtype: ScalarType.Int64, device: device);
        // Read pixel (y − dy, x − dx) of the image padded by one zero pixel on every side, clamped into the padding.
        var rows = (arange(h, dtype: ScalarType.Int64, device: device).view(1, h, 1) - dy + 1).clamp(0, h + 1);
        var cols = (arange(w, dtype: ScalarType.Int64, device: device).view(1, 1, w) - dx + 1).clamp(0, w + 1);
        var batch = arange(b, dtype: ScalarType.Int64, device: device).view(b, 1, 1);
        var flat = ((batch * (h + 2) + rows) * (w + 2) + cols).view(-1);
        var padded = nn.functional.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1).reshape(-1, c);
        return padded.index_select(0, flat).view(b, h, w, c).permute(0, 3, 1, 2);
    }

    /// <summary>Sets a square of side ratio · size (rounded) at a random centre of each image to zero; near an edge
    /// the square is cut off by it.</summary>
    private static Tensor Cutout(Tensor x, double ratio)
    {
        var (b, h, w) = (x.shape[0], x.shape[2], x.shape[3]);
        var device = x.device;
        var sh = (long)(h * ratio + 0.5);
        var sw = (long)(w * ratio + 0.5);
        var top = randint(0, h + (1 - sh % 2), [b, 1, 1], dtype: ScalarType.Int64, device: device) - sh / 2;
        var left = randint(0, w + (1 - sw % 2), [b, 1, 1], dtype: ScalarType.Int64, device: device) - sw / 2;
        var rows = arange(h, dtype: ScalarType.Int64, device: device).view(1, h, 1);
        var cols = arange(w, dtype: ScalarType.Int64, device: device).view(1, 1, w);
        var inside = rows.ge(top).logical_and(rows.lt(top + sh)).logical_and(cols.ge(left)).logical_and(cols.lt(left + sw));
        return x * inside.logical_not().unsqueeze(1).to_type(x.dtype);
    }
}
