using System.Text.Json;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Evaluation;

namespace GanOnnx.Trainer.Tests;

/// <summary><c>ganonnx-train record-quality</c>: a model scored again records its new scores without being re-exported.</summary>
public class RecordQualityTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => TestData.RunCli(args);

    private static string ExportedTinyModel()
    {
        var run = TestData.TrainTinyMlp(steps: 2);
        var onnx = Path.Combine(run, "model.onnx");
        var (code, _, error) = Run("export", "--checkpoint", Path.Combine(run, "checkpoint.gockpt"), "--out", onnx);
        Assert.That(code, Is.EqualTo(0), error);
        return onnx;
    }

    private static string QualityFile(double frechet)
    {
        var path = Path.Combine(TestData.NewTempFolder(), "eval.json");
        var scores = new QualityScores
        {
            Count = 5000, FrechetDistance = frechet, FrechetFloor = 1.25, ClassEntropy = 0.99, MeanConfidence = 0.9, ClassifierAccuracy = 0.8928,
            ClassHistogram = [500, 500, 500, 500, 500, 500, 500, 500, 500, 500],
        };
        File.WriteAllText(path, JsonSerializer.Serialize(scores));
        return path;
    }

    [Test]
    public void TheNewScoresReplaceTheOldOnesAndTheImagesStayTheSame()
    {
        var onnx = ExportedTinyModel();
        float[] before;
        using (var session = GeneratorSession.Load(onnx))
        {
            Assert.That(session.Contract.Quality, Is.Empty, "exported without --quality");
            before = session.Generate(8, seed: 3).Pixels.ToArray();
        }

        var (code, output, error) = Run("record-quality", "--model", onnx, "--quality", QualityFile(3.4567));
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("was: {}").And.Contain("\"frechet_distance\":3.4567"));

        using var updated = GeneratorSession.Load(onnx);
        Assert.That(updated.Contract.Quality["frechet_distance"], Is.EqualTo(3.4567));
        Assert.That(updated.Contract.Quality["classifier_accuracy"], Is.EqualTo(0.8928));
        Assert.That(updated.Contract.Quality["eval_count"], Is.EqualTo(5000));
        Assert.That(updated.Contract.TrainingSteps, Is.EqualTo(2), "the rest of the metadata is kept");
        Assert.That(updated.Generate(8, seed: 3).Pixels.ToArray(), Is.EqualTo(before), "graph and weights are unchanged");
    }

    [Test]
    public void AFileThatIsNotAGanOnnxModelIsRefusedAndLeftAlone()
    {
        var garbage = Path.Combine(TestData.NewTempFolder(), "model.onnx");
        File.WriteAllBytes(garbage, [0xFF, 0xFF, 0xFF, 0x01, 0x02]);
        var (code, _, error) = Run("record-quality", "--model", garbage, "--quality", QualityFile(1));
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(garbage).And.Contain("not an ONNX model"));
        Assert.That(File.ReadAllBytes(garbage), Is.EqualTo(new byte[] { 0xFF, 0xFF, 0xFF, 0x01, 0x02 }));

        (code, _, error) = Run("record-quality", "--model", "/nonexistent/model.onnx", "--quality", QualityFile(1));
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("'/nonexistent/model.onnx' does not exist"));
    }

    [Test]
    public void AnOnnxModelWithoutGanOnnxMetadataIsRefusedAndLeftAlone()
    {
        var onnx = ExportedTinyModel();
        var model = Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        model.MetadataProps.Clear();
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
        File.WriteAllBytes(onnx, bytes);
        var (code, _, error) = Run("record-quality", "--model", onnx, "--quality", QualityFile(1));
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(onnx).And.Contain("has no GanOnnx metadata"));
        Assert.That(File.ReadAllBytes(onnx), Is.EqualTo(bytes));
    }

    [Test]
    public void ABadQualityFileIsRefusedAndTheModelIsLeftAlone()
    {
        var onnx = ExportedTinyModel();
        var bytes = File.ReadAllBytes(onnx);
        var bad = Path.Combine(TestData.NewTempFolder(), "eval.json");
        File.WriteAllText(bad, "{ not json");
        var (code, _, error) = Run("record-quality", "--model", onnx, "--quality", bad);
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(bad));
        Assert.That(File.ReadAllBytes(onnx), Is.EqualTo(bytes));
    }
}
