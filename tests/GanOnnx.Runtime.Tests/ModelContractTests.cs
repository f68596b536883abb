using GanOnnx.Runtime;

namespace GanOnnx.Runtime.Tests;

public class ModelContractTests
{
    private static readonly TensorDescription Z = new("z", typeof(float), [-1, 100]);
    private static readonly TensorDescription Image = new("image", typeof(float), [-1, 1, 28, 28]);

    private static Dictionary<string, string> Metadata(params (string Key, string Value)[] extra)
    {
        var metadata = new Dictionary<string, string>
        {
            [ModelMetadataKeys.FormatVersion] = "1",
            [ModelMetadataKeys.LatentDim] = "100",
            [ModelMetadataKeys.LatentDistribution] = "uniform",
            [ModelMetadataKeys.ValueRange] = "0,1",
            [ModelMetadataKeys.Channels] = "1",
            [ModelMetadataKeys.Height] = "28",
            [ModelMetadataKeys.Width] = "28",
            [ModelMetadataKeys.NumClasses] = "0",
            [ModelMetadataKeys.Quality] = "{\"fid\": 12.5}",
        };
        foreach (var (k, v) in extra) metadata[k] = v;
        return metadata;
    }

    [Test]
    public void MetadataIsReadIntoTheContract()
    {
        var c = ModelContract.Create("m", [Z], [Image], Metadata());
        Assert.That(c.LatentDim, Is.EqualTo(100));
        Assert.That(c.LatentDistribution, Is.EqualTo(LatentDistribution.Uniform));
        Assert.That(c.ValueRange, Is.EqualTo(ValueRange.Sigmoid));
        Assert.That((c.Channels, c.Height, c.Width), Is.EqualTo((1, 28, 28)));
        Assert.That(c.Quality["fid"], Is.EqualTo(12.5));
        Assert.That(c.InferredFromShapes, Is.False);
        Assert.That(c.LatentClasses, Is.EqualTo(0), "no latent classes unless the metadata says so");
        Assert.That(ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "50"))).LatentClasses, Is.EqualTo(50));
    }

    [Test]
    public void AClassIsParsedFromAnIndexOrANameInAnyCase()
    {
        var c = ModelContract.Create("m", [Z], [Image], Metadata()) with { ClassNames = ["T-shirt/top", "Ankle boot"] };
        Assert.That(c.ParseClass(" 1 "), Is.EqualTo(1));
        Assert.That(c.ParseClass("ANKLE BOOT"), Is.EqualTo(1));
        Assert.That(c.ParseClass("t-shirt/top"), Is.EqualTo(0));
        Assert.That(c.ParseClass("7"), Is.EqualTo(7), "indices are range-checked where they are used");
        Assert.That(c.ParseClass("hat"), Is.Null);
    }

    [Test]
    public void TheLatentValuesThatTruncationLeavesAloneAreReadAndChecked()
    {
        Assert.That(ModelContract.Create("m", [Z], [Image], Metadata()).UntruncatedLatents, Is.EqualTo(0));
        Assert.That(ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "5"))).UntruncatedLatents, Is.EqualTo(1), "a latent class selector, also from models exported before the key");
        Assert.That(ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.UntruncatedLatents, "1"))).UntruncatedLatents, Is.EqualTo(1), "a cluster selector inside the graph");
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.UntruncatedLatents, "101"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("untruncated_latents").And.Message.Contains("101"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.UntruncatedLatents, "-1"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("untruncated_latents"));
    }

    [Test]
    public void AModelWithoutMetadataLoadsFromItsShapes()
    {
        var c = ModelContract.Create("m", [Z], [Image], new Dictionary<string, string>());
        Assert.That(c.InferredFromShapes, Is.True);
        Assert.That(c.LatentDim, Is.EqualTo(100));
        Assert.That(c.ValueRange, Is.EqualTo(ValueRange.Tanh));
    }

    [Test]
    public void MetadataThatContradictsTheShapesIsRefusedNamingTheMismatch()
    {
        Assert.That(() => ModelContract.Create("m.onnx", [Z], [Image], Metadata((ModelMetadataKeys.Height, "32"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("ganonnx.height = 32").And.Message.Contains("28").And.Message.Contains("m.onnx"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentDim, "64"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("latent_dim"));
    }

    [Test]
    public void ShapesThatDoNotFitAGeneratorAreRefused()
    {
        var classifierOut = new TensorDescription("logits", typeof(float), [-1, 10]);
        Assert.That(() => ModelContract.Create("m", [Z], [classifierOut], Metadata()),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("[batch, channels, height, width]").And.Message.Contains("logits"));
        var imageIn = new TensorDescription("x", typeof(float), [-1, 1, 28, 28]);
        Assert.That(() => ModelContract.Create("m", [imageIn], [Image], Metadata()),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("[batch, latent_dim]"));
        var fourChannels = new TensorDescription("image", typeof(float), [-1, 4, 28, 28]);
        Assert.That(() => ModelContract.Create("m", [Z], [fourChannels], Metadata()),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("1 or 3 channels"));
    }

    [Test]
    public void ConditionalModelsNeedALabelInputAndAClassCount()
    {
        var label = new TensorDescription("label", typeof(long), [-1]);
        var c = ModelContract.Create("m", [Z, label], [Image], Metadata((ModelMetadataKeys.NumClasses, "10")));
        Assert.That(c.IsConditional, Is.True);
        Assert.That(c.LabelInputName, Is.EqualTo("label"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.NumClasses, "10"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("no int64 label input"));
        Assert.That(() => ModelContract.Create("m", [Z, label], [Image], Metadata()),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("no classes"));
    }

    [Test]
    public void BadMetadataValuesAreRefusedNamingTheKey()
    {
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentDistribution, "cauchy"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("latent_distribution"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.ValueRange, "1,0"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("value_range"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.FormatVersion, "9"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("version"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "101"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("latent_classes").And.Message.Contains("101"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "-1"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("latent_classes"));
    }

    [Test]
    public void LatentClassThresholdsAreReadAndCheckedAgainstTheClassCount()
    {
        var c = ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "3"), (ModelMetadataKeys.LatentClassThresholds, "[-0.5,0.25]")));
        Assert.That(c.LatentClassThresholds, Is.EqualTo(new[] { -0.5f, 0.25f }));
        Assert.That(c.CanRequestLatentClass, Is.True);
        var older = ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "3")));
        Assert.That((older.LatentClassThresholds.Count, older.CanRequestLatentClass), Is.EqualTo((0, false)), "an export from before the key: classes cannot be asked for");
        Assert.That(ModelContract.Create("m", [Z], [Image], Metadata()).CanRequestLatentClass, Is.False);

        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "3"), (ModelMetadataKeys.LatentClassThresholds, "[0.1]"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("latent_class_thresholds").And.Message.Contains("has 1 values; 3 latent classes need 2"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "3"), (ModelMetadataKeys.LatentClassThresholds, "[0.5,0.5]"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("increasing"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClasses, "3"), (ModelMetadataKeys.LatentClassThresholds, "[0.5,\"x\"]"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("latent_class_thresholds").And.Message.Contains("JSON"));
        Assert.That(() => ModelContract.Create("m", [Z], [Image], Metadata((ModelMetadataKeys.LatentClassThresholds, "[0.5]"))),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("0 latent classes need 0"));
    }
}
