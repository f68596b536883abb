using System.Text;

namespace GanOnnx.Trainer.Tests;

public class ElfVersionNeedsTests
{
    /// <summary>A minimal ELF64 with a .dynstr and a .gnu.version_r needing libstdc++ GLIBCXX_3.4.32 and GLIBCXX_3.4.30, and libc GLIBC_2.34.</summary>
    private static byte[] MinimalElf()
    {
        var strtab = new List<byte> { 0 };
        int Str(string s) { var o = strtab.Count; strtab.AddRange(Encoding.ASCII.GetBytes(s)); strtab.Add(0); return o; }
        int libstd = Str("libstdc++.so.6"), libc = Str("libc.so.6"), v32 = Str("GLIBCXX_3.4.32"), v30 = Str("GLIBCXX_3.4.30"), g234 = Str("GLIBC_2.34");

        var verneed = new List<byte>();
        void U16(ushort v) => verneed.AddRange(BitConverter.GetBytes(v));
        void U32(uint v) => verneed.AddRange(BitConverter.GetBytes(v));
        // Verneed 1: libstdc++, 2 aux, aux at +16, next at +48
        U16(1); U16(2); U32((uint)libstd); U32(16); U32(48);
        U32(0x0297f842); U16(0); U16(3); U32((uint)v32); U32(16);
        U32(0x0297f840); U16(0); U16(4); U32((uint)v30); U32(0);
        // Verneed 2: libc, 1 aux
        U16(1); U16(1); U32((uint)libc); U32(16); U32(0);
        U32(0x069691b4); U16(0); U16(5); U32((uint)g234); U32(0);

        const int header = 64;
        var strOffset = header;
        var needOffset = strOffset + strtab.Count;
        var shOffset = needOffset + verneed.Count;
        var file = new byte[shOffset + 3 * 64];
        file[0] = 0x7F; file[1] = (byte)'E'; file[2] = (byte)'L'; file[3] = (byte)'F'; file[4] = 2; file[5] = 1; file[6] = 1;
        BitConverter.GetBytes((ulong)shOffset).CopyTo(file, 0x28);
        BitConverter.GetBytes((ushort)64).CopyTo(file, 0x3A);
        BitConverter.GetBytes((ushort)3).CopyTo(file, 0x3C);
        strtab.ToArray().CopyTo(file, strOffset);
        verneed.ToArray().CopyTo(file, needOffset);
        void Section(int index, uint type, int offset, int size, uint link, uint info)
        {
            var sh = shOffset + index * 64;
            BitConverter.GetBytes(type).CopyTo(file, sh + 4);
            BitConverter.GetBytes((ulong)offset).CopyTo(file, sh + 24);
            BitConverter.GetBytes((ulong)size).CopyTo(file, sh + 32);
            BitConverter.GetBytes(link).CopyTo(file, sh + 40);
            BitConverter.GetBytes(info).CopyTo(file, sh + 44);
        }
        Section(1, 3, strOffset, strtab.Count, 0, 0);              // .dynstr (SHT_STRTAB)
        Section(2, 0x6ffffffe, needOffset, verneed.Count, 1, 2);  // .gnu.version_r
        return file;
    }

    [Test]
    public void ReadsEveryVersionRequirement()
    {
        var needs = ElfVersionNeeds.Read(MinimalElf());
        Assert.That(needs.Select(n => (n.File, n.Version)), Is.EqualTo(new[]
        {
            ("libstdc++.so.6", "GLIBCXX_3.4.32"), ("libstdc++.so.6", "GLIBCXX_3.4.30"), ("libc.so.6", "GLIBC_2.34"),
        }));
        Assert.That(needs.All(n => n.Flags == 0), Is.True);
    }

    [Test]
    public void WeakensOnlyTheNamedVersionAndIsIdempotent()
    {
        var elf = MinimalElf();
        var original = (byte[])elf.Clone();
        Assert.That(ElfVersionNeeds.Weaken(elf, ["GLIBCXX_3.4.32"]), Is.EqualTo(new[] { "GLIBCXX_3.4.32" }));
        var needs = ElfVersionNeeds.Read(elf);
        Assert.That(needs.Single(n => n.Version == "GLIBCXX_3.4.32").Flags, Is.EqualTo(ElfVersionNeeds.VerFlagWeak));
        Assert.That(needs.Where(n => n.Version != "GLIBCXX_3.4.32").All(n => n.Flags == 0), Is.True);
        Assert.That(elf.Where((b, i) => b != original[i]).Count(), Is.EqualTo(1), "exactly one byte changes");

        var again = (byte[])elf.Clone();
        Assert.That(ElfVersionNeeds.Weaken(again, ["GLIBCXX_3.4.32"]), Is.Empty);
        Assert.That(again, Is.EqualTo(elf));
    }

    [Test]
    public void WeakeningAFileReplacesItWithoutTouchingOtherLinks()
    {
        var folder = TestData.NewTempFolder();
        var path = Path.Combine(folder, "lib.so");
        File.WriteAllBytes(path, MinimalElf());
        var stamp = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        Assert.That(ElfVersionNeeds.WeakenFile(path, ["GLIBCXX_3.4.32"]), Has.Count.EqualTo(1));
        Assert.That(ElfVersionNeeds.WeakenFile(path, ["GLIBCXX_3.4.32"]), Is.Empty);
        Assert.That(File.GetLastWriteTimeUtc(path), Is.EqualTo(stamp));
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1), "no temporary file is left");
    }

    [Test]
    public void RefusesFilesThatAreNotElf64()
    {
        Assert.That(() => ElfVersionNeeds.Read(new byte[100]), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("magic"));
        var truncated = MinimalElf().AsSpan(0, 120).ToArray();
        Assert.That(() => ElfVersionNeeds.Read(truncated), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("truncated"));
    }
}
