namespace GanOnnx.Tests;

/// <summary>Paths every test project needs: the repository root and the shipped model. Linked into each project.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder holding GanOnnx.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GanOnnx.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("GanOnnx.sln not found above the test folder.");
        }
    }

    /// <summary>The names of the folders under models/ that hold a shipped model (model.onnx), in ordinal order.</summary>
    public static IEnumerable<string> ShippedModelNames() =>
        Directory.GetDirectories(Path.Combine(RepositoryRoot, "models"))
            .Where(d => File.Exists(Path.Combine(d, "model.onnx")))
            .Select(d => Path.GetFileName(d))
            .Order(StringComparer.Ordinal);

    /// <summary>The model the README's main command uses.</summary>
    public static string ShippedModel => Path.Combine(RepositoryRoot, "models", "mnist-dcgan", "model.onnx");

    /// <summary>A new empty folder under the system's temporary folder.</summary>
    public static string NewTempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "ganonnx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
