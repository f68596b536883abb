using TorchSharp;
using static TorchSharp.torch;

namespace GanOnnx.Trainer.Tests;

public class TorchSharpLoadTests
{
    [Test]
    public void ATorchSharpModuleRunsInsideTheTestProcess()
    {
        using var linear = nn.Linear(3, 2);
        using var _ = no_grad();
        linear.weight!.copy_(tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]));
        linear.bias!.copy_(tensor(new float[] { 0.5f, -0.5f }));
        using var y = linear.forward(tensor(new float[] { 1, 1, 1 }, [1, 3]));
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(new[] { 6.5f, 14.5f }));
    }

    [Test]
    public void TheNativeLibraryInTheOutputHasItsGlibcxxRequirementWeakenedWhereTheHostNeedsIt()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("The GLIBCXX patch applies to Linux only.");
        var library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(File.Exists(library), Is.True, library);
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(library));
        var glibcxx = needs.Where(n => n.Version == "GLIBCXX_3.4.32").ToList();
        if (glibcxx.Count == 0) Assert.Ignore("This TorchSharp build does not require GLIBCXX_3.4.32.");
        var hostLacks = ElfVersionNeeds.VersionsMissingOnHost("libstdc++.so.6", ["GLIBCXX_3.4.32"]).Count > 0;
        Assert.That(glibcxx.All(n => (n.Flags & ElfVersionNeeds.VerFlagWeak) != 0), Is.EqualTo(hostLacks),
            hostLacks ? "the host lacks GLIBCXX_3.4.32, so the requirement must be weak" : "the host has it, so the file must be untouched");
        // Every other requirement is left as it was.
        Assert.That(needs.Where(n => n.Version != "GLIBCXX_3.4.32").All(n => (n.Flags & ElfVersionNeeds.VerFlagWeak) == 0), Is.True);
    }
}
