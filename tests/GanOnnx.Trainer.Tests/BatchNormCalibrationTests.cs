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
}
