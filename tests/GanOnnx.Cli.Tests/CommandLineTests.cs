using System.Globalization;

namespace GanOnnx.Cli.Tests;

/// <summary>
/// A command line that does not parse is reported like any other bad input (an <c>error:</c> line naming the flag, the
/// nearest flag or command, exit code 1, nothing written), and numbers are read the same under every locale.
/// </summary>
public class CommandLineTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => CliRunner.Run(args);

    [TestCase("--count", "abc", "error: --count is 'abc'; it must be a whole number.")]
    [TestCase("--seed", "99999999999999999999", "error: --seed is '99999999999999999999'; it must be a whole number.")]
    [TestCase("--truncation", "half", "error: --truncation is 'half'; it must be a number (with '.' for decimals).")]
    public void AValueOfTheWrongKindIsNamedInTheFlagsWords(string flag, string value, string expected)
    {
        var folder = Path.Combine(TestPaths.NewTempFolder(), "out");
        var (code, output, error) = Run("generate", "--model", TestPaths.ShippedModel, "--out", folder, flag, value);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain(expected));
        Assert.That(error, Does.Not.Contain("System.").And.Not.Contain("Description:"), "no .NET type names and no whole help page");
        Assert.That(error, Does.Contain("Run 'ganonnx generate --help' for the options."));
        Assert.That(output, Is.Empty);
        Assert.That(Directory.Exists(folder), Is.False);
    }

    [Test]
    public void AMisspeltFlagOrCommandGetsTheNearestName()
    {
        var (code, _, error) = Run("generate", "--model", TestPaths.ShippedModel, "--out", TestPaths.NewTempFolder(), "--cont", "5");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: '--cont' is not an option of 'ganonnx generate'; did you mean --count?"));
        Assert.That(error, Does.Contain("error: '5' is not expected here"));

        (code, _, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch", "4");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("did you mean --batch-sizes?"), "a prefix of a longer flag");

        (code, _, error) = Run("generat", "--model", TestPaths.ShippedModel);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: 'generat' is not a command of 'ganonnx'; did you mean generate?"));
        Assert.That(error, Does.Contain("Run 'ganonnx --help' for the options."));

        (code, _, error) = Run();
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: 'ganonnx' needs a command: generate, info, bench, interpolate, doctor, dump."));
    }

    [Test]
    public void AMissingOrRepeatedFlagIsNamed()
    {
        var (code, _, error) = Run("generate", "--out", TestPaths.NewTempFolder());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: --model is required."));

        (code, _, error) = Run("generate", "--model", TestPaths.ShippedModel, "--out", TestPaths.NewTempFolder(), "--count", "3", "--count", "4");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("error: --count was given 2 times; it takes one value."));
    }

    [Test]
    public void HelpStillWinsOverBadValues()
    {
        var (code, output, _) = Run("generate", "--help", "--count", "abc", "--truncation", "0,5");
        Assert.That(code, Is.EqualTo(0));
        Assert.That(output, Does.Contain("--truncation"));
    }

    /// <summary>
    /// Under a locale with a decimal comma, .NET reads "0.5" as 5 (the dot groups thousands there), and under the
    /// invariant culture it reads "0,5" as 5. The command line reads '.' as the decimal point everywhere and refuses a comma.
    /// </summary>
    [Test]
    public void NumbersReadTheSameUnderALocaleWithADecimalComma()
    {
        var commaCulture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        commaCulture.NumberFormat.NumberDecimalSeparator = ",";
        commaCulture.NumberFormat.NumberGroupSeparator = ".";
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = commaCulture;
        try
        {
            Assert.That(double.Parse("0.5", commaCulture), Is.EqualTo(5), "the trap: this locale reads 0.5 as 5");
            var folder = TestPaths.NewTempFolder();
            var (code, _, error) = Run("generate", "--model", TestPaths.ShippedModel, "--out", folder, "--count", "2", "--truncation", "0.5", "--quiet", "--no-grid");
            Assert.That(code, Is.EqualTo(0), error);
            Assert.That(File.ReadAllText(Path.Combine(folder, "manifest.jsonl")), Does.Contain("\"truncation\":0.5"));
            Assert.That(CultureInfo.CurrentCulture, Is.SameAs(commaCulture), "the caller's culture is restored");

            var refused = Path.Combine(TestPaths.NewTempFolder(), "out");
            (code, _, error) = Run("generate", "--model", TestPaths.ShippedModel, "--out", refused, "--count", "2", "--truncation", "0,5");
            Assert.That(code, Is.EqualTo(1));
            Assert.That(error, Does.Contain("error: --truncation is '0,5'; write decimals with '.' (e.g. 0.5)"));
            Assert.That(Directory.Exists(refused), Is.False);

            (code, _, error) = Run("bench", "--model", TestPaths.ShippedModel, "--batch-sizes", "1", "--duration", "0,1");
            Assert.That(code, Is.EqualTo(1));
            Assert.That(error, Does.Contain("error: --duration is '0,1'"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Test]
    public void AModelFolderIsAnsweredWithTheFileInIt()
    {
        var folder = Path.GetDirectoryName(TestPaths.ShippedModel)!;
        var (code, _, error) = Run("generate", "--model", folder, "--out", TestPaths.NewTempFolder());
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"'{folder}' is a folder; give the file in it: '{Path.Combine(folder, "model.onnx")}'."));

        var empty = TestPaths.NewTempFolder();
        (code, _, error) = Run("bench", "--model", empty);
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain($"'{empty}' is a folder, and it holds no .onnx file"));
    }
}
