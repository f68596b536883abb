using Google.Protobuf;
using GanOnnx.Runtime;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Onnx;
using GanOnnx.Trainer.Onnx.Proto;
using Generator = GanOnnx.Trainer.Models.Generator;

namespace GanOnnx.Trainer.Tests;

public class ExternalDataTests
{
    [TestCase("../outside.bin")]
    [TestCase("/etc/passwd")]
    [TestCase("sub/../../outside.bin")]
    public void AModelWhoseExternalDataLeavesItsFolderIsRefused(string location)
    {
        using var generator = new Generator(new ModelConfig { Architecture = GanArchitecture.Mlp, Width = 4, LatentDim = 4 });
        var model = OnnxExporter.Build(generator, new ExportOptions());
        var weight = model.Graph.Initializer[0];
        weight.RawData = ByteString.Empty;
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        var path = Path.Combine(TestData.NewTempFolder(), "model.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        Assert.That(() => GeneratorSession.Load(path),
            Throws.TypeOf<GanOnnxException>().With.Message.Contains("outside its own folder").And.Message.Contains(location));
    }
}
