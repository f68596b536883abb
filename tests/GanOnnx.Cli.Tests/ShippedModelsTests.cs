using System.Globalization;
using System.Text.Json;
using GanOnnx.Runtime;
using GanOnnx.Tests;

namespace GanOnnx.Cli.Tests;

/// <summary>
/// Every model in models/ agrees with what ships beside it: the quality its metadata records is its eval.json, its card
/// quotes those figures, and samples.png is exactly what <c>ganonnx generate --seed 42</c> writes today.
/// </summary>
public class ShippedModelsTests
{
    public static IEnumerable<TestCaseData> Models() =>
        TestPaths.ShippedModelNames().Select(name => new TestCaseData(name).SetName($"models/{name}"));

    [TestCaseSource(nameof(Models))]
    public void ModelMetadataCardAndSamplesAgree(string name)
    {
        var folder = Path.Combine(TestPaths.RepositoryRoot, "models", name);
        using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "eval.json")));
        var frechet = eval.RootElement.GetProperty("frechet_distance").GetDouble();
        var entropy = eval.RootElement.GetProperty("class_entropy").GetDouble();

        using var session = GeneratorSession.Load(Path.Combine(folder, "model.onnx"));
        Assert.That(session.Contract.Quality["frechet_distance"], Is.EqualTo(frechet).Within(1e-4), "metadata = eval.json (rounded to 4 decimals)");
        Assert.That(session.Contract.Quality["class_entropy"], Is.EqualTo(entropy).Within(1e-4), "metadata = eval.json (rounded to 4 decimals)");

        var card = File.ReadAllText(Path.Combine(folder, "README.md"));
        Assert.That(card, Does.StartWith($"# {name}"));
        Assert.That(card, Does.Contain(frechet.ToString("F2", CultureInfo.InvariantCulture)), "the card quotes eval.json's Fréchet distance");

        // A conditional model's grid has one column per class: eight rows of them (80 images for ten classes, 72 for nine).
        var count = session.Contract.IsConditional ? 8 * session.Contract.NumClasses : 64;
        var output = Path.Combine(Path.GetTempPath(), "ganonnx-shipped-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, _, error) = CliRunner.Run("generate", "--model", Path.Combine(folder, "model.onnx"), "--count", count.ToString(CultureInfo.InvariantCulture),
                "--seed", "42", "--out", output, "--quiet");
            Assert.That(code, Is.EqualTo(0), error);
            Assert.That(File.ReadAllBytes(Path.Combine(output, "grid.png")), Is.EqualTo(File.ReadAllBytes(Path.Combine(folder, "samples.png"))),
                "samples.png is the grid of seed 42");
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}
