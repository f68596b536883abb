namespace GanOnnx.Runtime.Tests;

/// <summary>The automatic intra-op thread count: one per physical core of the kernel's topology, within the process's CPU limit.</summary>
public class CpuTopologyTests
{
    /// <summary>A fake /sys/devices/system/cpu whose CPU k shares its core with the CPUs of <paramref name="siblings"/>[k].</summary>
    private static string FakeSysCpu(params string[] siblings)
    {
        var root = TestPaths.NewTempFolder();
        for (var k = 0; k < siblings.Length; k++)
        {
            var topology = Directory.CreateDirectory(Path.Combine(root, $"cpu{k}", "topology")).FullName;
            File.WriteAllText(Path.Combine(topology, "thread_siblings_list"), siblings[k] + "\n");
        }
        Directory.CreateDirectory(Path.Combine(root, "cpufreq"));   // not a CPU
        Directory.CreateDirectory(Path.Combine(root, "cpuidle"));
        return root;
    }

    [Test]
    public void OneThreadPerPhysicalCore()
    {
        Assert.That(CpuTopology.Threads(FakeSysCpu("0", "1"), limit: 2), Is.EqualTo(2), "the project's VM: two cores, no SMT");
        Assert.That(CpuTopology.Threads(FakeSysCpu("0,2", "1,3", "0,2", "1,3"), limit: 4), Is.EqualTo(2), "two cores with two hardware threads each");
        Assert.That(CpuTopology.Threads(FakeSysCpu("0-1", "0-1", "2-3", "2-3", "4-5", "4-5"), limit: 6), Is.EqualTo(3));
    }

    [Test]
    public void NeverMoreThanTheProcessMayUse()
    {
        // A container limited to 2 CPUs on a 32-core host: the host's cores are not the process's.
        var host = FakeSysCpu(Enumerable.Range(0, 32).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        Assert.That(CpuTopology.Threads(host, limit: 2), Is.EqualTo(2));
    }

    [Test]
    public void NoTopologyLeavesTheChoiceToOnnxRuntime()
    {
        Assert.That(CpuTopology.Threads(Path.Combine(TestPaths.NewTempFolder(), "absent"), limit: 8), Is.Zero);
        Assert.That(CpuTopology.Threads(TestPaths.NewTempFolder(), limit: 8), Is.Zero, "a folder with no cpuN/topology");
    }

    [Test]
    public void OnLinuxTheDefaultIsWithinTheProcessorCount()
    {
        if (!OperatingSystem.IsLinux()) Assert.That(CpuTopology.DefaultIntraOpThreads, Is.Zero);
        else Assert.That(CpuTopology.DefaultIntraOpThreads, Is.InRange(1, Environment.ProcessorCount));
    }
}
