namespace GanOnnx.Runtime.Tests;

/// <summary>The rule by which a latent's first value picks a latent class, and drawing a latent of a chosen class.</summary>
public class LatentClassRuleTests
{
    private static readonly double[] Prior = [0.1, 0.3, 0.2, 0.25, 0.15];

    [TestCase(0.5, 0.0)]
    [TestCase(0.975, 1.959963985)]
    [TestCase(0.01, -2.326347874)]
    [TestCase(0.999, 3.090232306)]
    [TestCase(0.2, -0.841621234)]
    [TestCase(1e-6, -4.753424309)]
    public void TheNormalQuantileMatchesTabulatedValues(double p, double expected) =>
        Assert.That(LatentClassRule.NormalQuantile(p), Is.EqualTo(expected).Within(1e-8));

    [Test]
    public void TheNormalCdfInvertsTheQuantile()
    {
        Assert.That(LatentClassRule.NormalCdf(0), Is.EqualTo(0.5).Within(1e-7));
        Assert.That(LatentClassRule.NormalCdf(1.959963985), Is.EqualTo(0.975).Within(2e-7));
        for (var p = 0.0005; p < 1; p += 0.0137)
            Assert.That(LatentClassRule.NormalCdf(LatentClassRule.NormalQuantile(p)), Is.EqualTo(p).Within(2e-7), $"p = {p}");
        Assert.That(LatentClassRule.Cdf(LatentDistribution.Uniform, 0.5), Is.EqualTo(0.75));
        Assert.That(LatentClassRule.Cdf(LatentDistribution.Uniform, -3), Is.EqualTo(0));
    }

    [TestCase(LatentDistribution.Normal)]
    [TestCase(LatentDistribution.Uniform)]
    public void ThresholdsAreTheQuantilesAtTheCumulativeShares(LatentDistribution distribution)
    {
        var t = LatentClassRule.Thresholds(distribution, 5, Prior);
        double[] cumulative = [0.1, 0.4, 0.6, 0.85];
        Assert.That(t, Is.EqualTo(cumulative.Select(p => (float)LatentClassRule.Quantile(distribution, p)).ToArray()));
        Assert.That(LatentClassRule.Thresholds(distribution, 4), Is.EqualTo(new[] { 0.25, 0.5, 0.75 }.Select(p => (float)LatentClassRule.Quantile(distribution, p)).ToArray()), "equal shares by default");
        Assert.That(LatentClassRule.Thresholds(distribution, 1), Is.Empty);
        Assert.That(() => LatentClassRule.Thresholds(distribution, 3, Prior), Throws.ArgumentException);
    }

    [TestCase(LatentDistribution.Normal)]
    [TestCase(LatentDistribution.Uniform)]
    public void APlacedValueIsAlwaysInTheClassAskedFor(LatentDistribution distribution)
    {
        var t = LatentClassRule.Thresholds(distribution, 5, Prior);
        var values = new List<float> { 0, -6.75f, 6.75f, -1, 1, float.Epsilon, -float.Epsilon };
        foreach (var x in t) values.AddRange([x, MathF.BitIncrement(x), MathF.BitDecrement(x)]);
        for (var i = -300; i <= 300; i++) values.Add(i / 100f);
        for (var k = 0; k < 5; k++)
        {
            var previous = float.NegativeInfinity;
            foreach (var v in values.Order())
            {
                var placed = LatentClassRule.Place(v, k, t, distribution);
                Assert.That(LatentClassRule.ClassOf(placed, t), Is.EqualTo(k), $"value {v} placed in class {k} gave {placed}");
                Assert.That(placed, Is.GreaterThanOrEqualTo(previous - 1e-6f), "placing keeps the order of values (up to the approximations' last bits)");
                previous = placed;
            }
        }
        Assert.That(() => LatentClassRule.Place(0, 5, t, distribution), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => LatentClassRule.Place(0, -1, t, distribution), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void PlacedLatentsFollowTheDistributionRestrictedToTheClass()
    {
        // A normal first value placed in class 3 (cumulative 0.6 … 0.85) must land below the quantile at 0.725 — the
        // middle of the class's share — half the time, and below the quantile at 0.6625 a quarter of the time.
        var t = LatentClassRule.Thresholds(LatentDistribution.Normal, 5, Prior);
        var sampler = new LatentSampler(1);
        var placed = Enumerable.Range(0, 20_000).Select(i => LatentClassRule.Place(sampler.Sample(5, i)[0], 3, t, LatentDistribution.Normal)).ToArray();
        var median = LatentClassRule.NormalQuantile(0.725);
        var quarter = LatentClassRule.NormalQuantile(0.6625);
        Assert.That(placed.Count(v => v < median) / 20_000.0, Is.EqualTo(0.5).Within(0.015));
        Assert.That(placed.Count(v => v < quarter) / 20_000.0, Is.EqualTo(0.25).Within(0.015));
    }
}
