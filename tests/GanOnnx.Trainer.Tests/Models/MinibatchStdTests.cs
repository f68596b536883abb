using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests.Models;

/// <summary>Minibatch standard deviation in the discriminator (<see cref="MinibatchStd"/>,
/// <see cref="ModelConfig.MinibatchStdGroup"/>, <c>--minibatch-std</c>).</summary>
public class MinibatchStdTests
{
    /// <summary>The layer's extra feature by hand: for each group (images i with i mod M equal), the population standard
    /// deviation of every feature over the group's images, averaged over the features.</summary>
    private static double[] SpreadByHand(float[,] rows, int group)
    {
        var batch = rows.GetLength(0);
        var features = rows.GetLength(1);
        var groups = batch / group;
        var result = new double[batch];
        for (var m = 0; m < groups; m++)
        {
            var members = Enumerable.Range(0, group).Select(k => k * groups + m).ToArray();
            var total = 0.0;
            for (var f = 0; f < features; f++)
            {
                var mean = members.Average(i => rows[i, f]);
                total += Math.Sqrt(members.Average(i => (rows[i, f] - mean) * (rows[i, f] - mean)) + 1e-8);
            }
            foreach (var i in members) result[i] = total / features;
        }
        return result;
    }

    [TestCase(8, 4, 4)]
    [TestCase(6, 4, 3)]
    [TestCase(7, 4, 1)]
    [TestCase(2, 4, 2)]
    public void TheExtraChannelIsTheSpreadOfEachImagesGroup(int batch, int groupSize, int used)
    {
        using var layer = new MinibatchStd(groupSize);
        Assert.That(layer.GroupFor(batch), Is.EqualTo(used));
        manual_seed(5);
        using var x = randn(batch, 3, 2, 2);
        using var y = layer.forward(x);
        Assert.That(y.shape, Is.EqualTo(new long[] { batch, 4, 2, 2 }));
        Assert.That(y.narrow(1, 0, 3).data<float>().ToArray(), Is.EqualTo(x.data<float>().ToArray()), "the input passes through unchanged");

        var flat = x.reshape(batch, 12).data<float>().ToArray();
        var rows = new float[batch, 12];
        for (var i = 0; i < batch; i++) for (var f = 0; f < 12; f++) rows[i, f] = flat[i * 12 + f];
        var expected = SpreadByHand(rows, used);
        var extra = y.select(1, 3).data<float>().ToArray();
        for (var i = 0; i < batch; i++)
            Assert.That(extra.Skip(i * 4).Take(4), Is.All.EqualTo(expected[i]).Within(1e-5), $"image {i}: one constant plane holding its group's spread");
        if (used == 1) Assert.That(expected, Is.All.EqualTo(1e-4).Within(1e-5), "a group of one has no spread (the epsilon's square root)");
    }

    [Test]
    public void FlatFeaturesGainOneFeature()
    {
        using var layer = new MinibatchStd(2);
        using var x = tensor(new float[] { 0, 0, 1, 1, 2, 4, 4, 7 }).reshape(4, 2);
        using var y = layer.forward(x);
        Assert.That(y.shape, Is.EqualTo(new long[] { 4, 3 }));
        // Groups {0, 2} and {1, 3}: spreads (1, 2) → mean 1.5 and (1.5, 3) → 2.25.
        Assert.That(y.select(1, 2).data<float>().ToArray(), Is.EqualTo(new[] { 1.5f, 2.25f, 1.5f, 2.25f }).Within(1e-4));
    }

    [TestCase(GanArchitecture.Dcgan)]
    [TestCase(GanArchitecture.KerasDcgan)]
    [TestCase(GanArchitecture.Mlp)]
    public void WithItAnImagesScoreDependsOnTheOthersInItsGroupAndNotOnOtherGroups(GanArchitecture architecture)
    {
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 8, DiscriminatorDropout = 0, MinibatchStdGroup = 2 };
        manual_seed(2);
        using var d = new Discriminator(model);
        Assert.That(d.modules().Count(m => m is MinibatchStd), Is.EqualTo(1));
        Assert.That(model.DiscriminatorNotes, Does.Contain("minibatch std over groups of 2"));
        using var images = rand(4, 1, 28, 28);
        using var before = d.forward(images).detach();
        // Images 0 and 2 form a group, as do 1 and 3. Changing image 3 moves image 1's score and leaves 0's and 2's.
        using var changed = images.clone();
        changed[3].fill_(0.5);
        using var after = d.forward(changed).detach();
        var (b, a) = (before.data<float>().ToArray(), after.data<float>().ToArray());
        Assert.That(a[0], Is.EqualTo(b[0]).Within(1e-6));
        Assert.That(a[2], Is.EqualTo(b[2]).Within(1e-6));
        Assert.That(Math.Abs(a[1] - b[1]), Is.GreaterThan(1e-6), "image 1 shares a group with the changed image");

        using var plain = new Discriminator(model with { MinibatchStdGroup = 0 });
        using var p0 = plain.forward(images).detach();
        using var p1 = plain.forward(changed).detach();
        Assert.That(p1.data<float>()[1], Is.EqualTo(p0.data<float>()[1]), "without the layer, images are scored alone");
        Assert.That(d.parameters().Sum(p => p.numel()) - plain.parameters().Sum(p => p.numel()), Is.EqualTo(architecture == GanArchitecture.Mlp ? 1 : architecture == GanArchitecture.Dcgan ? 49 : 16),
            "one more input channel for the last layer: its weights grow by the positions of that channel");
    }

    [Test]
    public void ARunWithItResumesExactlyAndAResumeMayChangeTheGroupButNotTakeItOut()
    {
        var model = new ModelConfig { Architecture = GanArchitecture.Dcgan, Width = 8, LatentDim = 8, DiscriminatorDropout = 0, MinibatchStdGroup = 4 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 4, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0, R1Weight = 1, R1Every = 2 };
        var (straight, _) = TestData.AssertResumeIsExact(model, data, options);
        Assert.That(Checkpoint.Load(straight).Info.Model.MinibatchStdGroup, Is.EqualTo(4));

        var log = new StringWriter();
        var regrouped = new GanTrainer(model with { MinibatchStdGroup = 2 }, options with { Steps = 5 }, TestData.NewTempFolder(), log).Train(data, straight);
        Assert.That(log.ToString(), Does.Contain("changed training settings: ModelConfig.MinibatchStdGroup 4 → 2"));
        Assert.That(Checkpoint.Load(regrouped).Info.Model.MinibatchStdGroup, Is.EqualTo(2));

        var without = new GanTrainer(model with { MinibatchStdGroup = 0 }, options with { Steps = 5 }, TestData.NewTempFolder(), TextWriter.Null);
        Assert.That(() => without.Train(data, straight), Throws.TypeOf<TrainerException>()
            .With.Message.Contains("has minibatch standard deviation (groups of 4) in its discriminator; a resume can keep it or change the group size (--minibatch-std), not take it out"));
    }

    [TestCase(GanArchitecture.Dcgan)]
    [TestCase(GanArchitecture.Mlp)]
    public void AResumeMayAddItTheSavedDiscriminatorScoringAsBefore(GanArchitecture architecture)
    {
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 8, DiscriminatorDropout = 0 };
        using var data = TestData.Dataset(40, 28, 1, model.ValueRange);
        var options = new TrainingOptions { Convolutions = ConvolutionKernels.Exact, Steps = 3, BatchSize = 8, SampleEvery = 0, CheckpointEvery = 0 };
        var saved = new GanTrainer(model, options, TestData.NewTempFolder(), TextWriter.Null).Train(data);
        var grownModel = model with { MinibatchStdGroup = 4 };
        var log = new StringWriter();
        var grown = new GanTrainer(grownModel, options with { Steps = 4 }, TestData.NewTempFolder(), log).Train(data, saved);
        Assert.That(log.ToString(), Does.Contain("Adding minibatch standard deviation (groups of 4) to the saved discriminator")
            .And.Contain("ModelConfig.MinibatchStdGroup 0 → 4"));
        Assert.That(Checkpoint.Load(grown).Info.Model.MinibatchStdGroup, Is.EqualTo(4));

        // What the grown discriminator starts from: the saved weights, zeros for the new input, the same scores.
        var before = Checkpoint.Load(saved);
        using var old = new Discriminator(model);
        before.LoadInto(old, "discriminator", saved);
        using var trainingRun = new TrainingRun(grownModel, options with { Steps = 4 }, CPU, data, null);
        Assert.That(trainingRun.Restore(before, saved, grownModel), Is.True, "the restore says it grew the discriminator");
        var start = trainingRun.Discriminator;
        old.eval();
        start.eval();
        manual_seed(9);
        using var images = rand(8, 1, 28, 28);
        using var a = old.forward(images);
        using var b = start.forward(images);
        Assert.That(b.data<float>().ToArray(), Is.EqualTo(a.data<float>().ToArray()).Within(1e-5));
        var last = start.state_dict().Where(kv => kv.Value.dim() == 2).Last().Value;
        var savedColumns = old.state_dict().Where(kv => kv.Value.dim() == 2).Last().Value.shape[1];
        Assert.That(last.shape[1] - savedColumns, Is.EqualTo(architecture == GanArchitecture.Mlp ? 1 : 49), "one more input channel");
        Assert.That(last.narrow(1, savedColumns, last.shape[1] - savedColumns).abs().max().item<float>(), Is.EqualTo(0f), "the new input's weights start at zero");
        Assert.That(TestData.DiscriminatorWeights(grown).All(float.IsFinite), Is.True);
    }

    [TestCase("--minibatch-std 1", "--minibatch-std is 1")]
    [TestCase("--minibatch-std -2", "--minibatch-std is -2")]
    [TestCase("--minibatch-std 257", "--minibatch-std is 257")]
    public void ABadGroupSizeIsRefusedByName(string options, string named)
    {
        Assert.That(TestData.RefusedTraining(options), Does.Contain(named));
    }
}
