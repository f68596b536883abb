// Helpers for build.cake.

DotNetMSBuildSettings GanOnnxMSBuild(string onnxRuntimeFlavor) =>
    new DotNetMSBuildSettings().WithProperty("OnnxRuntimeFlavor", onnxRuntimeFlavor);

void RunTrainer(string configuration, string arguments)
{
    var exitCode = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"run --project trainer/GanOnnx.Trainer.Cli -c {configuration} --no-build -- {arguments}",
    });
    if (exitCode != 0) throw new CakeException($"ganonnx-train {arguments} failed with exit code {exitCode}.");
}

void RunScript(string script, string arguments)
{
    var exitCode = StartProcess("bash", new ProcessSettings { Arguments = $"{script} {arguments}" });
    if (exitCode != 0) throw new CakeException($"{script} {arguments} failed with exit code {exitCode}.");
}
