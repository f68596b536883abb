using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests;

public class BatchNormCalibrationTests
{
    private static ModelConfig Dcgan => new() { Architecture = GanArchitecture.Dcgan, LatentDim = 16, Width = 8, ImageSize = 28, Channels = 1 };

    [Test]
    public void RunningStatisticsBecomeThoseOfTheGeneratorsOwnActivations()
    {
        manual_seed(1);
        using var generator = new Generator(Dcgan);
        var fc = generator.modules().OfType<Linear>().First();
        var bn = generator.modules().OfType<BatchNorm1d>().First();
        using (no_grad())
        {
            bn.running_mean!.fill_(5);   // statistics that belong to some other generator
            bn.running_var!.fill_(100);
        }

        BatchNormCalibration.Recalibrate(generator, seed: 3);

        // fc has no bias and z ~ N(0, I): its outputs have mean 0 and variance ‖row‖² per feature.
        using var scope = NewDisposeScope();
        var expectedVar = fc.weight!.detach().square().sum(1);
        var relativeVarError = ((bn.running_var! - expectedVar).abs() / expectedVar).max().item<float>();
        var meanError = (bn.running_mean!.abs() / expectedVar.sqrt()).max().item<float>();
        Assert.That(relativeVarError, Is.LessThan(0.15), "variance ≈ ‖row‖² (5,120 samples)");
        Assert.That(meanError, Is.LessThan(0.15), "mean ≈ 0 (in standard deviations)");
        Assert.That(generator.training, Is.True, "the module's mode is restored");
        Assert.That(bn.momentum, Is.EqualTo(0.1), "the momentum is restored");
    }

    [Test]
    public void ItIsDeterministicAndLeavesTheGlobalRandomStateAlone()
    {
        manual_seed(2);
        using var a = new Generator(Dcgan with { NumClasses = 10 });
        using var b = new Generator(Dcgan with { NumClasses = 10 });
        b.load_state_dict(a.state_dict());
        using var stateBefore = torch.random.get_rng_state();

        BatchNormCalibration.Recalibrate(a, seed: 9);
        BatchNormCalibration.Recalibrate(b, seed: 9);

        using var stateAfter = torch.random.get_rng_state();
        Assert.That(stateAfter.data<byte>().ToArray(), Is.EqualTo(stateBefore.data<byte>().ToArray()));
        foreach (var (x, y) in a.buffers().Zip(b.buffers(), (p, q) => (p, q)))
            Assert.That(x.to_type(ScalarType.Float64).data<double>().ToArray(), Is.EqualTo(y.to_type(ScalarType.Float64).data<double>().ToArray()));
    }

    [Test]
    public void GivenTheTrainingLabelsAConditionalGeneratorIsCalibratedOnTheirClassMix()
    {
        manual_seed(5);
        var config = Dcgan with { NumClasses = 4 };
        using var pooled = new Generator(config);
        using var uniform = new Generator(config);
        uniform.load_state_dict(pooled.state_dict());
        using var onlyClass2 = full([300], 2L, dtype: ScalarType.Int64);

        BatchNormCalibration.Recalibrate(pooled, seed: 3, classPool: onlyClass2);
        BatchNormCalibration.Recalibrate(uniform, seed: 3);

        // The first layer sees [z; e(label)] with z ~ N(0, I) and no bias: for class 2 alone its outputs' mean is
        // W_e · e(2), their standard deviation ‖W_z row‖.
        using var scope = NewDisposeScope();
        var fc = pooled.modules().OfType<Linear>().First();
        var embedding = pooled.LabelEmbedding!.weight!.detach()[2];
        var w = fc.weight!.detach();
        var expectedMean = w.narrow(1, config.LatentDim, 4).matmul(embedding);
        var sd = w.narrow(1, 0, config.LatentDim).square().sum(1).sqrt();
        float Error(Generator g) => ((g.modules().OfType<BatchNorm1d>().First().running_mean! - expectedMean).abs() / sd).max().item<float>();
        Assert.That(Error(pooled), Is.LessThan(0.15), "the mean of class 2's activations (in standard deviations)");
        Assert.That(Error(uniform), Is.GreaterThan(0.3), "uniformly drawn labels give the mean over the four classes");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void TheSavedEmaIsCalibratedOnTheClassMixTheGeneratorsStepsAskFor(bool fromData)
    {
        var model = Dcgan with { NumClasses = 10 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange, classes: 3);   // classes 0–2 only, of 10
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 2, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0, GeneratorClassesFromData = fromData };
        var path = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);

        var checkpoint = Checkpoint.Load(path);
        using var saved = new Generator(model);
        checkpoint.LoadInto(saved, "generator_ema", path);
        using var pooled = new Generator(model);
        using var uniform = new Generator(model);
        pooled.load_state_dict(saved.state_dict());
        uniform.load_state_dict(saved.state_dict());
        BatchNormCalibration.Recalibrate(pooled, options.Seed, data.Labels);
        BatchNormCalibration.Recalibrate(uniform, options.Seed);

        static double[] Statistics(Generator g) => [.. g.modules().OfType<NormBase>().SelectMany(n => n.running_mean!.data<float>().ToArray().Select(v => (double)v))];
        Assert.That(Statistics(saved), Is.EqualTo(Statistics(fromData ? pooled : uniform)));
        Assert.That(Statistics(saved), Is.Not.EqualTo(Statistics(fromData ? uniform : pooled)));
    }
}
