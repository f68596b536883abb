using GanOnnx.Runtime.Onnx;

namespace GanOnnx.Runtime.Tests;

public class ExternalDataCheckTests
{
    [Test]
    public void TheCheckReadsTheStructureNotTheWeights()
    {
        // A model file of 64 MB, nearly all of it one initializer's raw data, plus a tensor with an external location.
        var external = new Protobuf.Writer()
            .String(8, "w2")
            .Message(13, new Protobuf.Writer().String(1, "location").String(2, "../outside.bin"));
        var weights = new Protobuf.Writer().String(8, "w1").Bytes(9, new byte[64 << 20]);
        var graph = new Protobuf.Writer().Message(5, weights).Message(5, external);
        var path = Path.Combine(TestPaths.NewTempFolder(), "big.onnx");
        File.WriteAllBytes(path, new Protobuf.Writer().Varint(1, 8).Message(7, graph).ToArray());
        GC.Collect();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var locations = ExternalDataCheck.Locations(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(locations, Is.EqualTo(new[] { "../outside.bin" }));
        Assert.That(allocated, Is.LessThan(1 << 20), "bytes allocated to read a 64 MB model's structure");
        var ex = Assert.Throws<GanOnnxException>(() => GeneratorSession.Load(path));
        Assert.That(ex!.Message, Does.Contain("outside its own folder"));
    }
}
