using System.Globalization;
using System.Text.Json;
using GanOnnx.Trainer.Evaluation;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// What a training run writes about itself in its output folder: metrics.jsonl and the progress line every
/// <see cref="TrainingOptions.LogEvery"/> steps, TensorBoard scalars, eval.jsonl, the loss plot, and at the end the
/// best evaluation. A resumed run first drops the lines its checkpoint had not reached, so every step is logged once.
/// </summary>
internal sealed class RunLog : IDisposable
{
    private readonly string _folder;
    private readonly TrainingOptions _options;
    private readonly TextWriter _log;
    private readonly List<StepMetrics> _history;
    private readonly StreamWriter _metrics;
    private readonly TrainingProgress _progress;
    private readonly TensorBoardWriter _tensorBoard;
    private readonly string _headName;
    private readonly string _divergenceHint;

    /// <summary>What a diverged run's error advises unless the run says otherwise.</summary>
    public const string DefaultDivergenceHint = "Lower the learning rates or try another seed.";

    /// <summary>Opens the logs of a run that starts at <paramref name="firstStep"/> (after <paramref name="resumedAt"/> when it
    /// resumes); <paramref name="headName"/> names what the discriminator's head tells ("code" or "class"), and
    /// <paramref name="divergenceHint"/> ends the error of a step whose loss is not finite.</summary>
    public RunLog(string folder, TrainingOptions options, TextWriter log, int firstStep, long? resumedAt, string headName = "code", string divergenceHint = DefaultDivergenceHint)
    {
        _headName = headName;
        _divergenceHint = divergenceHint;
        _folder = folder;
        _options = options;
        _log = log;
        if (resumedAt is { } step)
        {
            // A run resumed from an earlier checkpoint (after a crash, or a kept one) logs its later steps again: drop them
            // from the logs first, so that every step is there once and in order.
            var dropped = JsonLines.KeepThroughStep(MetricsPath, step) + JsonLines.KeepThroughStep(EvalPath, step);
            if (dropped > 0)
                log.WriteLine($"Dropped {dropped} lines logged after step {step} from metrics.jsonl and eval.jsonl; this run logs those steps again.");
        }
        _history = resumedAt is null ? [] : StepMetrics.ReadAll(MetricsPath);
        _metrics = new StreamWriter(MetricsPath, append: resumedAt is not null);
        _progress = new TrainingProgress(log, options.Steps, firstStep, headName);
        _tensorBoard = new TensorBoardWriter(Path.Combine(folder, "tensorboard"));
    }

    private string MetricsPath => Path.Combine(_folder, "metrics.jsonl");
    private string EvalPath => Path.Combine(_folder, "eval.jsonl");

    /// <summary>Whether <paramref name="step"/> is logged.</summary>
    public bool Due(int step) => step % _options.LogEvery == 0 || step == _options.Steps;

    /// <summary>
    /// Logs a step from its last discriminator update's loss and scores and its generator update's loss (and which fakes
    /// the head of an InfoGAN code or an auxiliary classifier named right). Throws <see cref="TrainerException"/> when a loss is not finite.
    /// </summary>
    public void Step(int step, Tensor lossD, Tensor dReal, Tensor dFake, Tensor lossG, Tensor? codeHits, double seconds)
    {
        var probabilities = _options.Loss == LossKind.Bce;
        var line = new StepMetrics(step, lossD.item<float>(), lossG.item<float>(),
            (probabilities ? sigmoid(dReal) : dReal).mean().item<float>(), (probabilities ? sigmoid(dFake) : dFake).mean().item<float>(), seconds)
        {
            CodeAccuracy = codeHits?.to_type(ScalarType.Float32).mean().item<float>(),
        };
        if (!float.IsFinite(line.LossD) || !float.IsFinite(line.LossG))
            throw new TrainerException($"Training diverged at step {step}: loss D = {line.LossD}, loss G = {line.LossG}. {_divergenceHint}");
        _metrics.WriteLine(JsonSerializer.Serialize(line));
        _metrics.Flush();
        _history.Add(line);
        _tensorBoard.Scalars(step, [new("loss/discriminator", line.LossD), new("loss/generator", line.LossG), new("D/real", line.DReal), new("D/fake", line.DFake),
            .. line.CodeAccuracy is { } accuracy ? [new KeyValuePair<string, double>(_headName + "/accuracy", accuracy)] : Array.Empty<KeyValuePair<string, double>>()]);
        _progress.Report(line);
    }

    /// <summary>Logs the scores of the generator and its EMA at <paramref name="step"/> (eval.jsonl, TensorBoard, a line).</summary>
    public void Evaluation(int step, QualityScores raw, QualityScores averaged)
    {
        _tensorBoard.Scalars(step, raw.ToMetadata().Select(kv => new KeyValuePair<string, double>("eval/" + kv.Key, kv.Value))
            .Concat(averaged.ToMetadata().Select(kv => new KeyValuePair<string, double>("eval_ema/" + kv.Key, kv.Value))));
        var line = JsonSerializer.Serialize(new { step, generator = raw, ema = averaged });
        File.AppendAllText(EvalPath, line + Environment.NewLine);
        var accuracy = raw.ClassAccuracy is { } a
            ? string.Create(CultureInfo.InvariantCulture, $", class accuracy {a:P1} (EMA {averaged.ClassAccuracy:P1}, real images {raw.RealClassAccuracy:P1})")
            : "";
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"eval at step {step}: Fréchet {raw.FrechetDistance:F2} (EMA {averaged.FrechetDistance:F2}, floor {raw.FrechetFloor:F2}), class entropy {raw.ClassEntropy:F3} (EMA {averaged.ClassEntropy:F3}), confidence {raw.MeanConfidence:F3}{accuracy}"));
    }

    /// <summary>Draws losses.png from every logged step, resumed parts included.</summary>
    public void PlotLosses() => MetricsPlot.Save(_history, Path.Combine(_folder, "losses.png"));

    /// <summary>
    /// After a run that evaluated itself, names the evaluation with the lowest Fréchet distance (raw or EMA, over the
    /// whole of eval.jsonl, resumed parts included) and where its checkpoint is (<paramref name="checkpointOf"/>: null when it was not kept).
    /// </summary>
    public void ReportBestEvaluation(Func<long, string?> checkpointOf)
    {
        if (!File.Exists(EvalPath)) return;
        var best = EvalLog.Best(EvalPath);
        if (best is null) return;
        var where = checkpointOf(best.Step) is { } path ? $"; its checkpoint: {path}" : "; its checkpoint was not kept (TrainingOptions.KeepCheckpoints keeps every one)";
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Best evaluation: step {best.Step}, {(best.Ema ? "EMA" : "raw")} weights, Fréchet {best.Scores.FrechetDistance:F2} ({best.Scores.FrechetRatio:F2}× the floor), class entropy {best.Scores.ClassEntropy:F3}{where}."));
    }

    public void Dispose()
    {
        _tensorBoard.Dispose();
        _metrics.Dispose();
    }
}
