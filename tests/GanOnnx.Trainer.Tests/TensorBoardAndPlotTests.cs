using System.Buffers.Binary;
using System.Text;
using GanOnnx.Trainer.Models;
using GanOnnx.Trainer.Training;
using Google.Protobuf;

namespace GanOnnx.Trainer.Tests;

public class TensorBoardAndPlotTests
{
    [Test]
    public void Crc32CMatchesTheStandardCheckValue()
    {
        Assert.That(TensorBoardWriter.Crc32C(Encoding.ASCII.GetBytes("123456789")), Is.EqualTo(0xE3069283u));
    }

    /// <summary>Reads TFRecords, checking both CRCs, and returns (step, tag → value) of each event with scalars.</summary>
    private static List<(long Step, Dictionary<string, float> Values, string? FileVersion)> ReadEvents(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<(long, Dictionary<string, float>, string?)>();
        var pos = 0;
        while (pos < bytes.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(pos));
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 8)), Is.EqualTo(TensorBoardWriter.MaskedCrc(bytes.AsSpan(pos, 8))), "length CRC");
            var data = bytes.AsSpan(pos + 12, length).ToArray();
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 12 + length)), Is.EqualTo(TensorBoardWriter.MaskedCrc(data)), "data CRC");
            pos += 16 + length;

            long step = 0;
            string? version = null;
            var values = new Dictionary<string, float>();
            var input = new CodedInputStream(data);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: input.ReadDouble(); break;
                    case 2: step = input.ReadInt64(); break;
                    case 3: version = input.ReadString(); break;
                    case 5:
                        var summary = new CodedInputStream(input.ReadBytes().ToByteArray());
                        uint sTag;
                        while ((sTag = summary.ReadTag()) != 0)
                        {
                            var value = new CodedInputStream(summary.ReadBytes().ToByteArray());
                            string name = "";
                            float v = float.NaN;
                            uint vTag;
                            while ((vTag = value.ReadTag()) != 0)
                            {
                                if (WireFormat.GetTagFieldNumber(vTag) == 1) name = value.ReadString();
                                else if (WireFormat.GetTagFieldNumber(vTag) == 2) v = value.ReadFloat();
                                else value.SkipLastField();
                            }
                            values[name] = v;
                        }
                        break;
                    default: input.SkipLastField(); break;
                }
            }
            events.Add((step, values, version));
        }
        return events;
    }

    [Test]
    public void ATrainingRunWritesTensorBoardEventsAndALossPlot()
    {
        var folder = TestData.TrainTinyMlp(steps: 4);

        var eventFile = Directory.GetFiles(Path.Combine(folder, "tensorboard"), "events.out.tfevents.*").Single();
        var events = ReadEvents(eventFile);
        Assert.That(events[0].FileVersion, Is.EqualTo("brain.Event:2"));
        var scalars = events.Skip(1).ToList();
        Assert.That(scalars.Select(e => e.Step), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
        var logged = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => System.Text.Json.JsonSerializer.Deserialize<StepMetrics>(l)!).ToList();
        for (var i = 0; i < 4; i++)
        {
            Assert.That(scalars[i].Values["loss/discriminator"], Is.EqualTo(logged[i].LossD));
            Assert.That(scalars[i].Values["loss/generator"], Is.EqualTo(logged[i].LossG));
        }

        using var plot = SkiaSharp.SKBitmap.Decode(Path.Combine(folder, "losses.png"));
        Assert.That((plot.Width, plot.Height), Is.EqualTo((720, 480)));

        // `plot --out` writes the format its name asks for and refuses one the encoder does not write.
        Assert.That(MetricsPlot.Save(logged, Path.Combine(folder, "losses.webp")), Is.True);
        using (var codec = SkiaSharp.SKCodec.Create(Path.Combine(folder, "losses.webp")))
            Assert.That(codec.EncodedFormat, Is.EqualTo(SkiaSharp.SKEncodedImageFormat.Webp));
        Assert.That(() => MetricsPlot.Save(logged, Path.Combine(folder, "losses.bmp")), Throws.ArgumentException.With.Message.Contains("'.bmp'"));
        Assert.That(File.Exists(Path.Combine(folder, "losses.bmp")), Is.False);

        var (code, output, error) = TestData.RunCli("plot", "--run", folder, "--out", Path.Combine(folder, "plot.jpg"));
        Assert.That(code, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("plot.jpg (4 logged steps)"));
        using (var codec = SkiaSharp.SKCodec.Create(Path.Combine(folder, "plot.jpg")))
            Assert.That(codec.EncodedFormat, Is.EqualTo(SkiaSharp.SKEncodedImageFormat.Jpeg));
        (code, _, error) = TestData.RunCli("plot", "--run", folder, "--out", Path.Combine(folder, "plot.svg"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--out: ").And.Contain("ends in '.svg'"));
        Assert.That(File.Exists(Path.Combine(folder, "plot.svg")), Is.False);
    }
}
