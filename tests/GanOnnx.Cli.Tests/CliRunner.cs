namespace GanOnnx.Cli.Tests;

/// <summary>Runs the <c>ganonnx</c> command line in-process and captures its exit code and output.</summary>
internal static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = GanOnnxCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
