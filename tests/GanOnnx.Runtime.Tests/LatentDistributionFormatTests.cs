
namespace GanOnnx.Runtime.Tests;

public class LatentDistributionFormatTests
{
    [Test]
    public void EveryDistributionRoundTripsThroughItsMetadataValue()
    {
        foreach (var distribution in Enum.GetValues<LatentDistribution>())
        {
            Assert.That(ModelMetadataKeys.TryParse(ModelMetadataKeys.Format(distribution), out var parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(distribution));
        }
        Assert.That(ModelMetadataKeys.Format(LatentDistribution.Uniform), Is.EqualTo("uniform"));
        Assert.That(ModelMetadataKeys.TryParse("Normal", out _), Is.False, "the contract's values are lower case");
        Assert.That(ModelMetadataKeys.TryParse(null, out _), Is.False);
    }
}
