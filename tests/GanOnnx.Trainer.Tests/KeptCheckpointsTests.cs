using GanOnnx.Trainer.Cli;
using GanOnnx.Trainer.Evaluation;
using GanOnnx.Trainer.Training;

namespace GanOnnx.Trainer.Tests;

/// <summary>--keep-checkpoints, scores logged during training (--eval-every), and the best evaluation named at the end.</summary>
public class KeptCheckpointsTests
{
    [Test]
    public void ARunThatEvaluatesItselfKeepsEveryCheckpointAndNamesTheBestStep()
    {
        var data = TestData.IdxFolder(count: 256, testCount: 100);
        var run = TestData.NewTempFolder();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = TrainerCli.Run(["train", "--data", data, "--out", run, "--arch", "mlp", "--width", "8", "--latent", "16", "--batch-size", "16",
            "--steps", "5", "--checkpoint-every", "2", "--keep-checkpoints", "--eval-every", "2", "--eval-count", "40", "--sample-every", "0"], output, error);
        Assert.That(code, Is.EqualTo(0), error.ToString());

        var evaluations = EvalLog.Read(Path.Combine(run, "eval.jsonl"));
        Assert.That(evaluations.Select(e => e.Step), Is.EqualTo(new long[] { 2, 4, 5 }), "every 2 steps and at the end");
        Assert.That(evaluations.Select(e => e.Generator!.Count).Concat(evaluations.Select(e => e.Ema!.Count)), Is.All.EqualTo(40));
        Assert.That(evaluations.Select(e => e.Generator!.FrechetDistance), Is.All.GreaterThan(0));

        var kept = Directory.GetFiles(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order().ToArray();
        Assert.That(kept, Is.EqualTo(new[] { "step-000002.gockpt", "step-000004.gockpt", "step-000005.gockpt" }));
        foreach (var step in new[] { 2, 4, 5 })
            Assert.That(Checkpoint.Load(Path.Combine(run, "checkpoints", $"step-{step:D6}.gockpt")).Info.Step, Is.EqualTo(step));
        Assert.That(TestData.GeneratorWeights(Path.Combine(run, "checkpoints", "step-000005.gockpt")),
            Is.EqualTo(TestData.GeneratorWeights(Path.Combine(run, "checkpoint.gockpt"))), "the last kept checkpoint is the final one");
        Assert.That(TestData.GeneratorWeights(Path.Combine(run, "checkpoints", "step-000002.gockpt")),
            Is.Not.EqualTo(TestData.GeneratorWeights(Path.Combine(run, "checkpoints", "step-000004.gockpt"))), "each step's own weights");

        var best = EvalLog.Best(Path.Combine(run, "eval.jsonl"))!;
        var lowest = evaluations.SelectMany(e => new[] { e.Generator!.FrechetDistance, e.Ema!.FrechetDistance }).Min();
        Assert.That(best.Scores.FrechetDistance, Is.EqualTo(lowest));
        var text = output.ToString();
        Assert.That(text, Does.Contain($"Best evaluation: step {best.Step}, {(best.Ema ? "EMA" : "raw")} weights"));
        Assert.That(text, Does.Contain(best.Step == 5 ? Path.Combine(run, "checkpoint.gockpt") : Path.Combine(run, "checkpoints", $"step-{best.Step:D6}.gockpt")));
    }

    [Test]
    public void ResumingFromAnEarlierCheckpointLogsEveryStepOnceAndInOrder()
    {
        var data = TestData.IdxFolder(count: 256, testCount: 100);
        var run = TestData.NewTempFolder();
        string[] Options(string steps) => ["train", "--data", data, "--out", run, "--arch", "mlp", "--width", "8", "--latent", "16", "--batch-size", "16",
            "--steps", steps, "--log-every", "1", "--checkpoint-every", "2", "--keep-checkpoints", "--eval-every", "2", "--eval-count", "40", "--sample-every", "0"];
        var (code, _, error) = TestData.RunCli(Options("5"));
        Assert.That(code, Is.EqualTo(0), error);
        File.AppendAllText(Path.Combine(run, "metrics.jsonl"), "{\"Step\":6,\"LossD\":1.3"); // a line torn by a crash

        // As after a crash at step 5: go on from the kept step-2 checkpoint.
        var (resumed, output, resumeError) = TestData.RunCli([.. Options("6"), "--resume", Path.Combine(run, "checkpoints", "step-000002.gockpt")]);

        Assert.That(resumed, Is.EqualTo(0), resumeError);
        Assert.That(output, Does.Contain("Dropped 6 lines logged after step 2"), "steps 3–5, the torn line, and the evaluations of steps 4 and 5");
        Assert.That(StepMetrics.ReadAll(Path.Combine(run, "metrics.jsonl")).Select(m => m.Step), Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(EvalLog.Read(Path.Combine(run, "eval.jsonl")).Select(e => e.Step), Is.EqualTo(new long[] { 2, 4, 6 }));
    }

    [Test]
    public void WithoutTheOptionOnlyTheLatestCheckpointIsKept()
    {
        var run = TestData.TrainTinyMlp(steps: 3);
        Assert.That(File.Exists(Path.Combine(run, "checkpoint.gockpt")), Is.True);
        Assert.That(Directory.Exists(Path.Combine(run, "checkpoints")), Is.False);
    }

    [Test]
    public void TheBestEvaluationIsTheLowestFrechetDistanceOfTheLastLineForEachStep()
    {
        var path = Path.Combine(TestData.NewTempFolder(), "eval.jsonl");
        File.WriteAllLines(path,
        [
            Line(1000, raw: 30, ema: 40),
            Line(2000, raw: 9, ema: 12), // superseded: the run was resumed from step 1000 and evaluated step 2000 again
            Line(2000, raw: 20, ema: 15),
            "{\"step\":3000,\"generator\":{\"frechet_dis", // torn by a crash
            Line(3000, raw: 18, ema: 11),
            Line(4000, raw: 13, ema: 12),
        ]);
        Assert.That(EvalLog.Read(path).Select(e => e.Step), Is.EqualTo(new long[] { 1000, 2000, 3000, 4000 }));
        var best = EvalLog.Best(path)!;
        Assert.That((best.Step, best.Ema, best.Scores.FrechetDistance), Is.EqualTo((3000L, true, 11.0)));
        Assert.That(best.Scores.FrechetRatio, Is.EqualTo(11.0 / 2).Within(1e-12));

        File.WriteAllText(path, "");
        Assert.That(EvalLog.Best(path), Is.Null, "no evaluations, no best");
    }

    private static string Line(long step, double raw, double ema) =>
        FormattableString.Invariant($"{{\"step\":{step},\"generator\":{{\"count\":100,\"frechet_distance\":{raw},\"frechet_floor\":2,\"class_entropy\":0.9}},\"ema\":{{\"count\":100,\"frechet_distance\":{ema},\"frechet_floor\":2,\"class_entropy\":0.95}}}}");
}
