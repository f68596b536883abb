using GanOnnx.Runtime;

namespace GanOnnx.Runtime.Tests;

public class LatentSamplerTests
{
    [Test]
    public void PhiloxMatchesTheRandom123KnownAnswers()
    {
        // Known-answer vectors of Random123's kat_vectors for philox4x32_10.
        Assert.That(Philox4x32.Block(0, 0, 0, 0, 0, 0), Is.EqualTo((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)));
        Assert.That(Philox4x32.Block(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff),
            Is.EqualTo((0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)));
        Assert.That(Philox4x32.Block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0),
            Is.EqualTo((0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)));
    }

    [Test]
    public void SameSeedAndIndexGiveTheSameVectorWhateverTheBatch()
    {
        var sampler = new LatentSampler(37);
        var batch = new float[10 * 37];
        sampler.FillBatch(seed: 5, startIndex: 100, count: 10, batch);
        for (var k = 0; k < 10; k++)
            Assert.That(sampler.Sample(5, 100 + k), Is.EqualTo(batch.AsSpan(k * 37, 37).ToArray()), $"vector {k}");
    }

    [TestCase(LatentDistribution.Normal, 1f)]
    [TestCase(LatentDistribution.Uniform, 0.7f)]
    public void ALargeBatchDrawnOnAllCoresEqualsVectorByVector(LatentDistribution distribution, float truncation)
    {
        // 3,000 vectors of 100 are 150 parallel tasks of 20 (LatentSampler.ValuesPerTask): they must be exactly the vectors one
        // thread draws, each in its own place, for any start index.
        var sampler = new LatentSampler(100, distribution, truncation, untruncated: 1);
        var batch = new float[3000 * 100];
        sampler.FillBatch(seed: 9, startIndex: 1_000_003, count: 3000, batch);
        Assert.That(batch, Has.Length.GreaterThan(4 * LatentSampler.ValuesPerTask), "the batch must take the parallel path");
        var one = new float[100];
        for (var k = 0; k < 3000; k++)
        {
            sampler.Fill(9, 1_000_003 + k, one);
            if (!batch.AsSpan(k * 100, 100).SequenceEqual(one)) Assert.Fail($"vector {k} differs from the one drawn alone");
        }
    }

    [Test]
    public void DifferentSeedsAndIndicesGiveDifferentVectors()
    {
        var sampler = new LatentSampler(8);
        Assert.That(sampler.Sample(1, 0), Is.Not.EqualTo(sampler.Sample(2, 0)));
        Assert.That(sampler.Sample(1, 0), Is.Not.EqualTo(sampler.Sample(1, 1)));
    }

    [Test]
    public void NormalLatentsHaveZeroMeanAndUnitVariance()
    {
        var sampler = new LatentSampler(100);
        var values = new float[2000 * 100];
        sampler.FillBatch(3, 0, 2000, values);
        var mean = values.Average();
        var variance = values.Select(v => (v - mean) * (v - mean)).Average();
        Assert.That(mean, Is.EqualTo(0).Within(0.01));
        Assert.That(variance, Is.EqualTo(1).Within(0.02));
    }

    [Test]
    public void UniformLatentsStayInsideMinusOneToOne()
    {
        var sampler = new LatentSampler(100, LatentDistribution.Uniform);
        var values = new float[1000 * 100];
        sampler.FillBatch(3, 0, 1000, values);
        Assert.That(values.Min(), Is.GreaterThanOrEqualTo(-1f).And.LessThan(-0.99f));
        Assert.That(values.Max(), Is.LessThanOrEqualTo(1f).And.GreaterThan(0.99f));
        Assert.That(values.Average(), Is.EqualTo(0).Within(0.01));
    }

    [Test]
    public void TruncationScalesTheVector()
    {
        var full = new LatentSampler(16).Sample(9, 4);
        var half = new LatentSampler(16, truncation: 0.5f).Sample(9, 4);
        Assert.That(half, Is.EqualTo(full.Select(v => v * 0.5f).ToArray()));
    }

    [Test]
    public void TruncationLeavesALatentClassSelectorAlone()
    {
        var full = new LatentSampler(16).Sample(9, 4);
        var half = new LatentSampler(16, truncation: 0.5f, untruncated: 1).Sample(9, 4);
        Assert.That(half[0], Is.EqualTo(full[0]), "the value that picks the latent class");
        Assert.That(half[1..], Is.EqualTo(full[1..].Select(v => v * 0.5f).ToArray()));
        Assert.That(() => new LatentSampler(4, untruncated: 5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("untruncated"));
    }

    [Test]
    public void BadArgumentsAreRefusedWithTheirNames()
    {
        Assert.That(() => new LatentSampler(0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("latentDim"));
        Assert.That(() => new LatentSampler(4, truncation: 0f), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("truncation"));
        Assert.That(() => new LatentSampler(4).Sample(1, -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("index"));
        Assert.That(() => new LatentSampler(4).Fill(1, 0, new float[3]), Throws.ArgumentException.With.Message.Contains("4"));
    }
}

public class LatentInterpolationTests
{
    [Test]
    public void SlerpStartsAtAEndsAtBAndKeepsTheNormBetween()
    {
        var sampler = new LatentSampler(64);
        var a = sampler.Sample(1, 0);
        var b = sampler.Sample(1, 1);
        var result = new float[64];
        LatentSampler.Slerp(a, b, 0f, result);
        Assert.That(result, Is.EqualTo(a).Within(1e-5f));
        LatentSampler.Slerp(a, b, 1f, result);
        Assert.That(result, Is.EqualTo(b).Within(1e-5f));
        LatentSampler.Slerp(a, b, 0.5f, result);
        static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));
        var lerp = new float[64];
        LatentSampler.Lerp(a, b, 0.5f, lerp);
        Assert.That(Norm(result), Is.GreaterThan(Norm(lerp)), "slerp does not shrink through the middle as lerp does");
        Assert.That(Norm(result), Is.InRange(Math.Min(Norm(a), Norm(b)) * 0.95, Math.Max(Norm(a), Norm(b)) * 1.05));
    }

    [Test]
    public void MismatchedLengthsAreRefused()
    {
        Assert.That(() => LatentSampler.Slerp(new float[3], new float[4], 0.5f, new float[3]), Throws.ArgumentException);
    }
}
