// Marks chosen symbol-version requirements of an ELF shared library as weak (VER_FLG_WEAK).
//
// Why: TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13's libstdc++) only
// for the marker symbol std::ios_base_library_init, which is never called. On hosts whose
// libstdc++ stops at GLIBCXX_3.4.30 (Debian 12, Ubuntu 22.04) the loader refuses the library.
// A weak version requirement makes the loader warn-and-continue instead, and the symbol is
// never bound because it is never called.
//
// This file is compiled twice: as an MSBuild inline task (build/TorchSharp.Glibcxx.targets) and
// into the test project (with GANONNX_ELF_NO_MSBUILD defined) so that the patch logic is tested.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

#if !GANONNX_ELF_NO_MSBUILD
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>MSBuild task: weaken listed version requirements in the listed files when the host lacks them.</summary>
public sealed class WeakenElfVersionNeeds : Task
{
    /// <summary>Shared libraries to inspect; missing files are ignored.</summary>
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Semicolon-separated version names, e.g. GLIBCXX_3.4.32.</summary>
    [Required] public string Versions { get; set; } = "";

    /// <summary>The host library that should provide the versions (e.g. libstdc++.so.6).</summary>
    [Required] public string HostLibrary { get; set; } = "";

    public override bool Execute()
    {
        var present = new List<string>();
        foreach (var item in Files) if (File.Exists(item.ItemSpec)) present.Add(item.ItemSpec);
        if (present.Count == 0) return true;

        var wanted = Versions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
        var missing = ElfVersionNeeds.VersionsMissingOnHost(HostLibrary, wanted);
        if (missing.Count == 0)
        {
            Log.LogMessage(MessageImportance.Low, $"Host {HostLibrary} provides {Versions}; nothing to patch.");
            return true;
        }

        foreach (var path in present)
        {
            try
            {
                var changed = ElfVersionNeeds.WeakenFile(path, missing);
                if (changed.Count > 0)
                    Log.LogMessage(MessageImportance.High, $"Marked {string.Join(", ", changed)} weak in {path} (host {HostLibrary} lacks it).");
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Log.LogError($"Could not patch {path}: {ex.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif

/// <summary>Reads and edits the version-needs table (.gnu.version_r) of 64-bit little-endian ELF files.</summary>
public static class ElfVersionNeeds
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    private static readonly string[] HostLibraryFolders =
    {
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64", "/lib64", "/usr/lib", "/lib",
    };

    /// <summary>
    /// The versions from <paramref name="versions"/> that the host's copy of <paramref name="hostLibrary"/> does not define.
    /// When the library cannot be found at all, every version counts as missing (weakening is harmless where it is present).
    /// </summary>
    public static List<string> VersionsMissingOnHost(string hostLibrary, IReadOnlyCollection<string> versions)
    {
        var found = FindHostLibrary(hostLibrary);
        if (found is null) return new List<string>(versions);
        var bytes = File.ReadAllBytes(found);
        var missing = new List<string>();
        foreach (var v in versions)
            if (IndexOf(bytes, Encoding.ASCII.GetBytes(v + "\0")) < 0) missing.Add(v);
        return missing;
    }

    /// <summary>The first host folder holding <paramref name="fileName"/>, or null. An absolute path is taken as it is.</summary>
    public static string? FindHostLibrary(string fileName)
    {
        if (Path.IsPathRooted(fileName)) return File.Exists(fileName) ? fileName : null;
        foreach (var folder in HostLibraryFolders)
        {
            var candidate = Path.Combine(folder, fileName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Every version requirement in the file: (library, version, flags).</summary>
    public static List<(string File, string Version, ushort Flags)> Read(byte[] elf)
    {
        var result = new List<(string, string, ushort)>();
        Walk(elf, (file, version, flagsOffset) => result.Add((file, version, ReadU16(elf, flagsOffset))));
        return result;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on every requirement named in <paramref name="versions"/>. Returns the versions changed
    /// (empty when all were already weak or absent: the call is idempotent).
    /// </summary>
    public static List<string> Weaken(byte[] elf, IReadOnlyCollection<string> versions)
    {
        var changed = new List<string>();
        Walk(elf, (file, version, flagsOffset) =>
        {
            if (!Contains(versions, version)) return;
            var flags = ReadU16(elf, flagsOffset);
            if ((flags & VerFlagWeak) != 0) return;
            WriteU16(elf, flagsOffset, (ushort)(flags | VerFlagWeak));
            changed.Add(version);
        });
        return changed;
    }

    /// <summary>
    /// Weakens the versions in a file on disk. The new content goes to a temporary file that then replaces the
    /// original, so a crash never leaves a half-written library and a hard link (e.g. into the NuGet cache) is
    /// broken rather than edited through. The file's timestamps are kept.
    /// </summary>
    public static List<string> WeakenFile(string path, IReadOnlyCollection<string> versions)
    {
        var bytes = File.ReadAllBytes(path);
        var changed = Weaken(bytes, versions);
        if (changed.Count == 0) return changed;

        var lastWrite = File.GetLastWriteTimeUtc(path);
        var temp = path + ".weak-" + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.Copy(path, temp, overwrite: true); // a new file (never a hard link) with the original's permissions
            using (var stream = new FileStream(temp, FileMode.Truncate, FileAccess.Write))
                stream.Write(bytes, 0, bytes.Length);
            File.SetLastWriteTimeUtc(temp, lastWrite);
            File.Replace(temp, path, null);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return changed;
    }

    private static void Walk(byte[] elf, Action<string, string, int> visit)
    {
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file (bad magic number)");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

        var shoff = checked((int)ReadU64(elf, 0x28));
        var shentsize = ReadU16(elf, 0x3A);
        var shnum = ReadU16(elf, 0x3C);
        if (shoff == 0 || shnum == 0) return;
        if (shentsize < 64 || shoff + (long)shnum * shentsize > elf.Length)
            throw new InvalidDataException("section header table lies outside the file (truncated?)");

        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + i * shentsize;
            if (ReadU32(elf, sh + 4) != ShtGnuVerneed) continue;
            var offset = checked((int)ReadU64(elf, sh + 24));
            var size = checked((int)ReadU64(elf, sh + 32));
            var link = (int)ReadU32(elf, sh + 40);
            var count = (int)ReadU32(elf, sh + 44);
            if (offset + (long)size > elf.Length || link >= shnum)
                throw new InvalidDataException(".gnu.version_r lies outside the file (truncated?)");
            var strtab = checked((int)ReadU64(elf, shoff + link * shentsize + 24));

            var need = offset;
            for (var n = 0; n < count; n++)
            {
                Check(elf, need, 16);
                var cnt = ReadU16(elf, need + 2);
                var file = ReadString(elf, strtab + (int)ReadU32(elf, need + 4));
                var aux = need + (int)ReadU32(elf, need + 8);
                for (var a = 0; a < cnt; a++)
                {
                    Check(elf, aux, 16);
                    var version = ReadString(elf, strtab + (int)ReadU32(elf, aux + 8));
                    visit(file, version, aux + 4);
                    var nextAux = (int)ReadU32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                var next = (int)ReadU32(elf, need + 12);
                if (next == 0) break;
                need += next;
            }
        }
    }

    private static bool Contains(IReadOnlyCollection<string> set, string value)
    {
        foreach (var s in set) if (string.Equals(s, value, StringComparison.Ordinal)) return true;
        return false;
    }

    private static void Check(byte[] elf, int offset, int length)
    {
        if (offset < 0 || offset + (long)length > elf.Length)
            throw new InvalidDataException("version-needs entry lies outside the file (truncated?)");
    }

    private static string ReadString(byte[] elf, int offset)
    {
        var end = offset;
        while (end < elf.Length && elf[end] != 0) end++;
        if (end >= elf.Length) throw new InvalidDataException("unterminated string in the dynamic string table");
        return Encoding.ASCII.GetString(elf, offset, end - offset);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    private static ushort ReadU16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));
    private static uint ReadU32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
    private static ulong ReadU64(byte[] b, int o) => ReadU32(b, o) | ((ulong)ReadU32(b, o + 4) << 32);
    private static void WriteU16(byte[] b, int o, ushort v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
}
