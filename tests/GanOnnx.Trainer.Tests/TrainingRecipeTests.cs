using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;

namespace GanOnnx.Trainer.Tests;

public class TrainingRecipeTests
{
    [Test]
    public void ALibraryUserAskingForALossGetsItsRecipeNotTheBceDefaults()
    {
        var wgan = TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.WganGp);
        Assert.That((wgan.CriticSteps, wgan.LearningRateG, wgan.LearningRateD, wgan.Beta1, wgan.Beta2), Is.EqualTo((5, 1e-4, 1e-4, 0.0, 0.9)));
        var keras = TrainingRecipe.For(GanArchitecture.KerasDcgan, LossKind.Bce);
        Assert.That((keras.Optimizer, keras.LearningRateG, keras.LearningRateD, keras.ClipValue), Is.EqualTo((OptimizerKind.RmsProp, 4e-4, 8e-4, 1.0)));
        Assert.That(TrainingRecipe.For(GanArchitecture.Dcgan, LossKind.Bce), Is.EqualTo(new TrainingOptions()));
        Assert.That(TrainingRecipe.Get("dcgan-64-rgb").Model, Is.EqualTo(new ModelConfig { Architecture = GanArchitecture.Dcgan, ImageSize = 64, Channels = 3 }));
        Assert.That(() => TrainingRecipe.Get("stylegan"), Throws.TypeOf<TrainerException>().With.Message.Contains("mlp-gan, keras-dcgan, dcgan-64-rgb, wgan-gp, hinge"));
        foreach (var recipe in TrainingRecipe.Named)
        {
            recipe.Model.Validate();
            recipe.Options.Validate();
        }
    }

    [TestCase("keras-dcgan", "bce")]
    [TestCase("dcgan", "wgan-gp")]
    public void TheCommandLineAndALibraryUserWithTheRecipeTrainTheSameRun(string arch, string loss)
    {
        var data = TestData.IdxFolder(count: 32);
        var cliFolder = TestData.NewTempFolder();
        var (code, _, error) = TestData.RunCli("train", "--data", data, "--out", cliFolder, "--arch", arch, "--loss", loss, "--width", "8", "--latent", "8",
            "--steps", "2", "--batch-size", "8", "--seed", "3", "--sample-every", "0", "--convolutions", "exact");
        Assert.That(code, Is.Zero, error);

        var architecture = ModelConfig.ParseArchitecture(arch);
        var model = new ModelConfig { Architecture = architecture, Width = 8, LatentDim = 8 };
        var options = TrainingRecipe.For(architecture, GanLoss.Parse(loss)) with { Steps = 2, BatchSize = 8, Seed = 3, SampleEvery = 0, Convolutions = ConvolutionKernels.Exact };
        using var dataset = GanOnnx.Trainer.Data.ImageDataset.LoadIdxFolder(data, model.ValueRange);
        var libraryFolder = TestData.NewTempFolder();
        var path = new GanTrainer(model, options, libraryFolder, TextWriter.Null).Train(dataset);

        var cli = Checkpoint.Load(Path.Combine(cliFolder, "checkpoint.gockpt")).Info.Training;
        var library = Checkpoint.Load(path).Info.Training;
        Assert.That((library.Optimizer, library.LearningRateG, library.LearningRateD, library.Beta1, library.Beta2, library.ClipValue, library.CriticSteps),
            Is.EqualTo((cli.Optimizer, cli.LearningRateG, cli.LearningRateD, cli.Beta1, cli.Beta2, cli.ClipValue, cli.CriticSteps)));
        Assert.That(TestData.GeneratorWeights(path), Is.EqualTo(TestData.GeneratorWeights(Path.Combine(cliFolder, "checkpoint.gockpt"))), "the same weights after two steps");
    }

    [Test]
    public void ANamedRecipeOnTheCommandLineGivesItsModelAndSettingsAndFlagsGivenWin()
    {
        var data = TestData.IdxFolder(count: 32);
        var keras = TestData.NewTempFolder();
        var (code, output, error) = TestData.RunCli("train", "--data", data, "--out", keras, "--recipe", "keras-dcgan", "--width", "8", "--latent", "8",
            "--steps", "1", "--sample-every", "0", "--lr-g", "1e-4");
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("Training keras-dcgan"));
        var info = Checkpoint.Load(Path.Combine(keras, "checkpoint.gockpt")).Info;
        var recipe = TrainingRecipe.Get("keras-dcgan").Options;
        Assert.That(info.Model.Architecture, Is.EqualTo(GanArchitecture.KerasDcgan));
        Assert.That((info.Training.Optimizer, info.Training.LearningRateD, info.Training.ClipValue), Is.EqualTo((recipe.Optimizer, recipe.LearningRateD, recipe.ClipValue)));
        Assert.That(info.Training.LearningRateG, Is.EqualTo(1e-4), "--lr-g given on the command line wins over the recipe's 4e-4");

        var mlp = TestData.NewTempFolder();
        (code, _, error) = TestData.RunCli("train", "--data", data, "--out", mlp, "--recipe", "mlp-gan", "--steps", "1", "--sample-every", "0");
        Assert.That(code, Is.Zero, error);
        info = Checkpoint.Load(Path.Combine(mlp, "checkpoint.gockpt")).Info;
        Assert.That((info.Model.Architecture, info.Training.BatchSize), Is.EqualTo((GanArchitecture.Mlp, 128)), "the recipe's batch of 128");

        (code, _, error) = TestData.RunCli("train", "--data", data, "--out", TestData.NewTempFolder(), "--recipe", "stylegan");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("no recipe 'stylegan'").And.Contain("keras-dcgan"));
    }
}
