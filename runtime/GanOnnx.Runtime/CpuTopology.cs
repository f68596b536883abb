namespace GanOnnx.Runtime;

/// <summary>
/// The thread count a session gives ONNX Runtime when <see cref="GeneratorOptions.IntraOpThreads"/> is 0. ONNX Runtime's
/// own default is meant to be one thread per physical core, but it does not always find them: on the project's 2-core
/// Linux VM (two cores, one thread each, by the kernel's topology) it ran one thread — 7,850 images/s of
/// <c>mnist-dcgan</c> at batch 256 against 11,873 with two — and it counts the host's cores, not a container's CPU
/// limit. On Linux this reads the kernel's topology: one thread per physical core, at most
/// <see cref="Environment.ProcessorCount"/> (which follows the process's affinity and cgroup CPU limit). Elsewhere, or
/// when the topology cannot be read, ONNX Runtime chooses.
/// </summary>
internal static class CpuTopology
{
    /// <summary>Intra-op threads for "automatic", or 0 to leave the choice to ONNX Runtime.</summary>
    public static int DefaultIntraOpThreads { get; } = OperatingSystem.IsLinux() ? Threads("/sys/devices/system/cpu", Environment.ProcessorCount) : 0;

    /// <summary>
    /// min(physical cores under <paramref name="sysCpu"/>, <paramref name="limit"/>); 0 when the folder has no readable
    /// topology. A physical core is a distinct <c>topology/thread_siblings_list</c> (the logical CPUs that share it).
    /// </summary>
    internal static int Threads(string sysCpu, int limit)
    {
        try
        {
            if (!Directory.Exists(sysCpu)) return 0;
            var cores = new HashSet<string>(StringComparer.Ordinal);
            foreach (var cpu in Directory.EnumerateDirectories(sysCpu, "cpu*"))
            {
                var name = Path.GetFileName(cpu);
                if (name.Length < 4 || !name[3..].All(char.IsAsciiDigit)) continue; // cpufreq, cpuidle
                var siblings = Path.Combine(cpu, "topology", "thread_siblings_list");
                if (File.Exists(siblings)) cores.Add(File.ReadAllText(siblings).Trim());
            }
            return cores.Count == 0 ? 0 : Math.Max(1, Math.Min(cores.Count, limit));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
