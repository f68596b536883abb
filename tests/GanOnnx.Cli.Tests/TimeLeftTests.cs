namespace GanOnnx.Cli.Tests;

public class TimeLeftTests
{
    [TestCase(5.0, "00:00:05")]
    [TestCase(3 * 3600 + 61.4, "03:01:01")]
    [TestCase(4.5 * 86400 + 3 * 3600 + 18 * 60 + 44, "4d 15:18:44")]
    [TestCase(1e15, "more than 999 days")]
    [TestCase(double.NaN, "unknown")]
    public void TimeLeftKeepsItsDays(double seconds, string expected) => Assert.That(TimeLeft.Format(seconds), Is.EqualTo(expected));
}
