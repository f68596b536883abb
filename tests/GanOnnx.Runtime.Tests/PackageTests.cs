using System.Diagnostics;
using System.IO.Compression;
using GanOnnx.Imaging;

namespace GanOnnx.Runtime.Tests;

/// <summary>Packs the runtime packages and uses them from a consumer project outside the solution, as an app would.</summary>
[Category("Packaging")]
public class PackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static (int Code, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    [Test]
    public void PackedPackagesWorkInAConsumerProjectOutsideTheSolution()
    {
        var root = TestPaths.RepositoryRoot;
        var work = TestPaths.NewTempFolder();
        var feed = Path.Combine(work, "feed");
        var version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var project in new[] { "runtime/GanOnnx.Runtime", "runtime/GanOnnx.Imaging" })
        {
            var (code, output) = Dotnet(root, "pack", project, "-c", Configuration, "-o", feed, "-p:Version=" + version, "-p:ContinuousIntegrationBuild=true");
            Assert.That(code, Is.EqualTo(0), output);
        }

        var runtimePackage = Path.Combine(feed, $"GanOnnx.Runtime.{version}.nupkg");
        Assert.That(File.Exists(runtimePackage), Is.True);
        Assert.That(File.Exists(Path.Combine(feed, $"GanOnnx.Runtime.{version}.snupkg")), Is.True, "symbols package");
        using (var zip = ZipFile.OpenRead(runtimePackage))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.That(entries, Does.Contain("README.md").And.Contain("lib/net10.0/GanOnnx.Runtime.dll").And.Contain("lib/net10.0/GanOnnx.Runtime.xml"));
            using var nuspec = new StreamReader(zip.GetEntry("GanOnnx.Runtime.nuspec")!.Open());
            var text = nuspec.ReadToEnd();
            Assert.That(text, Does.Contain("Microsoft.ML.OnnxRuntime.Managed"));
            Assert.That(text, Does.Not.Contain("id=\"Microsoft.ML.OnnxRuntime\""), "the runtime package must not force a native ONNX Runtime package");
        }

        var consumer = Path.Combine(work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="ganonnx-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GanOnnx.Runtime" Version="{version}" />
                <PackageReference Include="GanOnnx.Imaging" Version="{version}" />
                <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />
                <PackageReference Include="System.Numerics.Tensors" Version="9.0.19" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using GanOnnx.Imaging;
            using GanOnnx.Runtime;

            using var generator = GeneratorSession.Load(args[0]);
            var batch = generator.Generate(count: 4, seed: 42);
            ImageGrid.Save(batch, args[1]);
            Console.WriteLine($"generated {batch.Count} images {generator.Contract.Height}x{generator.Contract.Width}");
            """);
        var grid = Path.Combine(work, "grid.png");
        var (runCode, runOutput) = Dotnet(consumer, "run", "-c", "Release", "--", TestPaths.ShippedModel, grid);
        Assert.That(runCode, Is.EqualTo(0), runOutput);
        Assert.That(runOutput, Does.Contain("generated 4 images 28x28"));

        using var session = GeneratorSession.Load(TestPaths.ShippedModel);
        var expected = Path.Combine(work, "expected.png");
        ImageGrid.Save(session.Generate(4, seed: 42), expected);
        Assert.That(File.ReadAllBytes(grid), Is.EqualTo(File.ReadAllBytes(expected)), "the consumer's images are the ones this build makes");
    }
}
