namespace GanOnnx.Runtime;

/// <summary>
/// How the latent's first value selects one of a model's latent classes (<see cref="ModelContract.LatentClasses"/>): class
/// k is the one whose first value is above exactly k of the K − 1 increasing float32 thresholds, which are quantiles of
/// the latent distribution at the cumulative class shares. The trainer, the exported graph and the runtime all use this
/// rule, so that a class is the same in each.
/// </summary>
public static class LatentClassRule
{
    // Acklam's rational approximation of the inverse normal CDF: relative error below 1.2e-9, far finer than the float32
    // the thresholds are stored in.
    private static readonly double[] A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
    private static readonly double[] B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
    private static readonly double[] C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
    private static readonly double[] D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

    /// <summary>The value below which a standard normal variable falls with probability <paramref name="p"/> (0 &lt; p &lt; 1).</summary>
    public static double NormalQuantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "A probability strictly between 0 and 1 is needed.");
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
        }
        if (p > 1 - low) return -NormalQuantile(1 - p);
        var r = p - 0.5;
        var s = r * r;
        return (((((A[0] * s + A[1]) * s + A[2]) * s + A[3]) * s + A[4]) * s + A[5]) * r / (((((B[0] * s + B[1]) * s + B[2]) * s + B[3]) * s + B[4]) * s + 1);
    }

    /// <summary>
    /// The probability that a standard normal variable is at most <paramref name="x"/>, as ½·erfc(−x/√2) with a Chebyshev
    /// fit of erfc (fractional error below 1.2e-7).
    /// </summary>
    public static double NormalCdf(double x)
    {
        var z = Math.Abs(x) / Math.Sqrt(2);
        var t = 1 / (1 + 0.5 * z);
        var erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
    }

    /// <summary>The quantile of one latent component's distribution (normal, or uniform in [−1, 1]) at <paramref name="p"/>.</summary>
    public static double Quantile(LatentDistribution distribution, double p) =>
        distribution == LatentDistribution.Uniform ? 2 * p - 1 : NormalQuantile(p);

    /// <summary>The cumulative distribution of one latent component (normal, or uniform in [−1, 1]) at <paramref name="x"/>.</summary>
    public static double Cdf(LatentDistribution distribution, double x) =>
        distribution == LatentDistribution.Uniform ? Math.Clamp((x + 1) / 2, 0, 1) : NormalCdf(x);

    /// <summary>
    /// The K − 1 thresholds of <paramref name="classes"/> classes whose shares are <paramref name="prior"/> (equal shares
    /// when null): the quantiles at the cumulative shares, as float32.
    /// </summary>
    public static float[] Thresholds(LatentDistribution distribution, int classes, IReadOnlyList<double>? prior = null)
    {
        if (classes < 2) return [];
        if (prior is not null && prior.Count != classes)
            throw new ArgumentException($"prior has {prior.Count} shares; {classes} classes need {classes}.", nameof(prior));
        var cumulative = 0.0;
        var thresholds = new float[classes - 1];
        for (var k = 0; k < thresholds.Length; k++)
        {
            cumulative += prior?[k] ?? 1.0 / classes;
            thresholds[k] = (float)Quantile(distribution, cumulative);
        }
        return thresholds;
    }

    /// <summary>The class a latent whose first value is <paramref name="first"/> selects: how many thresholds are below it.</summary>
    public static int ClassOf(float first, IReadOnlyList<float> thresholds)
    {
        var k = 0;
        foreach (var t in thresholds)
            if (t < first) k++;
        return k;
    }

    /// <summary>
    /// Moves a latent's first value into class <paramref name="latentClass"/>: the value's place in its distribution
    /// (its CDF, a uniform number) is mapped onto the class's share of that distribution, so that a first value drawn
    /// from the latent distribution comes out drawn from that distribution restricted to the class. The result is
    /// clamped into the class's float32 interval, so <see cref="ClassOf"/> of it is exactly <paramref name="latentClass"/>.
    /// </summary>
    public static float Place(float first, int latentClass, IReadOnlyList<float> thresholds, LatentDistribution distribution)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(latentClass);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(latentClass, thresholds.Count);
        if (thresholds.Count == 0) return first;
        var below = latentClass > 0 ? thresholds[latentClass - 1] : float.NegativeInfinity;
        var above = latentClass < thresholds.Count ? thresholds[latentClass] : float.PositiveInfinity;
        var lo = latentClass > 0 ? Cdf(distribution, below) : 0.0;
        var hi = latentClass < thresholds.Count ? Cdf(distribution, above) : 1.0;
        var u = Math.Clamp(lo + Cdf(distribution, first) * (hi - lo), 1e-300, 1 - 1e-16);
        var placed = (float)Quantile(distribution, u);
        // Class k is below < value ≤ above (the graph counts thresholds strictly below the value).
        if (!(placed > below)) placed = MathF.BitIncrement(below);
        if (placed > above) placed = above;
        return placed;
    }
}
