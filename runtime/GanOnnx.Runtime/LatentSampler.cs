namespace GanOnnx.Runtime;

/// <summary>
/// Draws latent vectors as a pure function of (seed, index): vector <c>k</c> of seed <c>s</c> is the same whatever the
/// batch size, thread, shard or machine. Uses Philox4x32-10 keyed by the seed with the index in the counter, and
/// Box–Muller for the normal distribution. Stateless and thread-safe.
/// </summary>
public sealed class LatentSampler
{
    private const double TwoPi = 2 * Math.PI;
    private const double Inv2Pow32 = 1.0 / 4294967296.0;

    /// <summary>Creates a sampler for vectors of <paramref name="latentDim"/> components.</summary>
    /// <param name="latentDim">Length of a latent vector; positive.</param>
    /// <param name="distribution">Distribution of each component.</param>
    /// <param name="truncation">Truncation ψ in (0, 1]; every component is scaled by ψ (1 = no truncation).</param>
    /// <param name="untruncated">Leading components that truncation leaves alone (a model's latent class selector,
    /// <see cref="ModelContract.LatentClasses"/>); 0 by default.</param>
    /// <remarks>
    /// Truncation follows the "truncation trick": a normal latent is scaled by ψ (ψ = 1 leaves it as it is), trading
    /// variety for fidelity. A uniform latent is scaled the same way.
    /// </remarks>
    public LatentSampler(int latentDim, LatentDistribution distribution = LatentDistribution.Normal, float truncation = 1f, int untruncated = 0)
    {
        Guard.Positive(latentDim);
        Guard.InRange(truncation, 1e-6, 1.0);
        Guard.InRange(untruncated, 0, latentDim);
        if (!Enum.IsDefined(distribution))
            throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "distribution must be Normal or Uniform.");
        LatentDim = latentDim;
        Distribution = distribution;
        Truncation = truncation;
        Untruncated = untruncated;
    }

    /// <summary>Length of a latent vector.</summary>
    public int LatentDim { get; }

    /// <summary>Distribution of each component.</summary>
    public LatentDistribution Distribution { get; }

    /// <summary>Truncation ψ (1 = none).</summary>
    public float Truncation { get; }

    /// <summary>Leading components that truncation leaves alone.</summary>
    public int Untruncated { get; }

    /// <summary>Writes latent vector <paramref name="index"/> of <paramref name="seed"/> into <paramref name="destination"/>.</summary>
    public void Fill(long seed, long index, Span<float> destination)
    {
        Guard.NonNegative(index);
        if (destination.Length != LatentDim)
            throw new ArgumentException($"destination has {destination.Length} elements; a latent vector has {LatentDim}.", nameof(destination));
        FillOne(seed, index, destination);
    }

    /// <summary>Writes vectors <paramref name="startIndex"/> … <paramref name="startIndex"/> + count − 1 back to back.</summary>
    public void FillBatch(long seed, long startIndex, int count, Span<float> destination)
    {
        Guard.NonNegative(count);
        Guard.IndexRange(startIndex, count);
        if (destination.Length < (long)count * LatentDim)
            throw new ArgumentException($"destination has {destination.Length} elements; {count} latent vectors need {(long)count * LatentDim}.", nameof(destination));
        var chunk = Math.Max(1, ValuesPerTask / LatentDim);
        if (count < 2 * chunk || Environment.ProcessorCount < 2)
        {
            for (var i = 0; i < count; i++)
                FillOne(seed, startIndex + i, destination.Slice(i * LatentDim, LatentDim));
            return;
        }
        // Each vector is a pure function of (seed, index), so the vectors can be drawn on all cores in any order with the
        // same result. On a GPU one thread's sampling was what limited a large batch: one core draws about 14 million values
        // a second (60 ms for 8,192 latents of 100), while an H200 turns those latents into images in under 6 ms.
        unsafe
        {
            fixed (float* start = destination)
            {
                var pointer = (IntPtr)start;
                Parallel.For(0, (count + chunk - 1) / chunk, task =>
                {
                    var first = task * chunk;
                    var n = Math.Min(chunk, count - first);
                    var slice = new Span<float>((float*)pointer + (long)first * LatentDim, n * LatentDim);
                    for (var i = 0; i < n; i++)
                        FillOne(seed, startIndex + first + i, slice.Slice(i * LatentDim, LatentDim));
                });
            }
        }
    }

    /// <summary>
    /// Values one parallel task of <see cref="FillBatch"/> draws (about 0.1 ms of work on one core, well above the cost of
    /// handing out a task); a batch of under two tasks' worth stays on the caller's thread.
    /// </summary>
    internal const int ValuesPerTask = 2048;

    /// <summary>A new array holding latent vector <paramref name="index"/> of <paramref name="seed"/>.</summary>
    public float[] Sample(long seed, long index)
    {
        var result = new float[LatentDim];
        Fill(seed, index, result);
        return result;
    }

    /// <summary>Linear interpolation (1 − t)·a + t·b into <paramref name="destination"/>.</summary>
    public static void Lerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float t, Span<float> destination)
    {
        CheckSameLength(a, b, destination);
        for (var i = 0; i < a.Length; i++) destination[i] = a[i] + t * (b[i] - a[i]);
    }

    /// <summary>
    /// Spherical interpolation between a and b (along the great circle, with the norm interpolated linearly), the usual
    /// path through a normal latent space; falls back to <see cref="Lerp"/> when a and b are (anti)parallel.
    /// </summary>
    public static void Slerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float t, Span<float> destination)
    {
        CheckSameLength(a, b, destination);
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        na = Math.Sqrt(na);
        nb = Math.Sqrt(nb);
        if (na == 0 || nb == 0)
        {
            Lerp(a, b, t, destination);
            return;
        }
        var cos = Math.Clamp(dot / (na * nb), -1.0, 1.0);
        var omega = Math.Acos(cos);
        var sin = Math.Sin(omega);
        if (sin < 1e-6)
        {
            Lerp(a, b, t, destination);
            return;
        }
        var wa = Math.Sin((1 - t) * omega) / sin;
        var wb = Math.Sin(t * omega) / sin;
        for (var i = 0; i < a.Length; i++) destination[i] = (float)(wa * a[i] + wb * b[i]);
    }

    private static void CheckSameLength(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination)
    {
        if (a.Length != b.Length || destination.Length != a.Length)
            throw new ArgumentException($"a ({a.Length}), b ({b.Length}) and destination ({destination.Length}) must have the same length.");
    }

    private void FillOne(long seed, long index, Span<float> destination)
    {
        var k0 = (uint)seed;
        var k1 = (uint)((ulong)seed >> 32);
        var c0 = (uint)index;
        var c1 = (uint)((ulong)index >> 32);
        var scale = Truncation;
        Span<float> values = stackalloc float[4];
        for (var block = 0; block * 4 < destination.Length; block++)
        {
            var (r0, r1, r2, r3) = Philox4x32.Block(c0, c1, (uint)block, 0, k0, k1);
            if (Distribution == LatentDistribution.Normal)
            {
                BoxMuller(r0, r1, out values[0], out values[1]);
                BoxMuller(r2, r3, out values[2], out values[3]);
            }
            else
            {
                values[0] = UniformSigned(r0);
                values[1] = UniformSigned(r1);
                values[2] = UniformSigned(r2);
                values[3] = UniformSigned(r3);
            }
            var offset = block * 4;
            var n = Math.Min(4, destination.Length - offset);
            for (var j = 0; j < n; j++) destination[offset + j] = offset + j < Untruncated ? values[j] : values[j] * scale;
        }
    }

    private static double Unit(uint bits) => (bits + 0.5) * Inv2Pow32; // in (0, 1), never 0 or 1

    private static float UniformSigned(uint bits) => (float)(2.0 * Unit(bits) - 1.0);

    private static void BoxMuller(uint a, uint b, out float z0, out float z1)
    {
        var radius = Math.Sqrt(-2.0 * Math.Log(Unit(a)));
        var angle = TwoPi * Unit(b);
        z0 = (float)(radius * Math.Cos(angle));
        z1 = (float)(radius * Math.Sin(angle));
    }
}
