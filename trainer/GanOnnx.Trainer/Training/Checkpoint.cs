using System.Text;
using System.Text.Json;
using GanOnnx.Trainer.Models;
using TorchSharp;

namespace GanOnnx.Trainer.Training;

/// <summary>
/// A training checkpoint file: a small JSON header (model and training configuration, step, dataset) followed by named
/// binary sections (generator, discriminator, optimizer states, random state) in TorchSharp's state format.
/// Written atomically (temporary file, then rename).
/// </summary>
/// <remarks>Layout: magic "GANONNX-CKPT", int32 format version, int32 header length, UTF-8 JSON header, (version 2) the
/// header's 32-byte SHA-256, then for each section: string name, int64 length, bytes. The header lists the sections with
/// their lengths and (version 2) SHA-256, so that a truncated file is detected and a changed byte anywhere is refused with
/// the name of the part it is in. Version 1 files (no checksums) are still read.</remarks>
public sealed class Checkpoint
{
    private const string Magic = "GANONNX-CKPT";
    private const int FormatVersion = 2;
    private const int FirstFormatVersion = 1;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>What the header holds.</summary>
    public sealed record Header
    {
        /// <summary>Model shape.</summary>
        public required ModelConfig Model { get; init; }
        /// <summary>Training options of the run.</summary>
        public required TrainingOptions Training { get; init; }
        /// <summary>Generator steps completed.</summary>
        public long Step { get; init; }
        /// <summary>Dataset name.</summary>
        public string Dataset { get; init; } = "";
        /// <summary>Class names of the dataset.</summary>
        public IReadOnlyList<string> ClassNames { get; init; } = [];
        /// <summary>Loss name.</summary>
        public string Loss { get; init; } = "bce";
        /// <summary>Seconds spent training so far.</summary>
        public double WallSeconds { get; init; }
        /// <summary>Further string properties (e.g. what kind of model a file holds).</summary>
        public Dictionary<string, string> Extra { get; init; } = [];
        /// <summary>Section names and lengths, in file order.</summary>
        public Dictionary<string, long> Sections { get; init; } = [];
        /// <summary>Lower-case hex SHA-256 of each section (format version 2; empty in version 1 files).</summary>
        public Dictionary<string, string> Checksums { get; init; } = [];
    }

    /// <summary>The header.</summary>
    public required Header Info { get; init; }

    /// <summary>Section bytes by name (e.g. "generator", "discriminator").</summary>
    public required IReadOnlyDictionary<string, byte[]> Sections { get; init; }

    /// <summary>Serializes a module's state (parameters and buffers) to bytes.</summary>
    public static byte[] StateOf(torch.nn.Module module)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) module.save(writer);
        return stream.ToArray();
    }

    /// <summary>Loads section <paramref name="name"/> into <paramref name="module"/>, with a clear error if it does not fit.</summary>
    public void LoadInto(torch.nn.Module module, string name, string path)
    {
        if (!Sections.TryGetValue(name, out var bytes))
            throw new TrainerException($"Checkpoint '{path}' has no '{name}' section.");
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes));
            module.load(reader, strict: true);
        }
        catch (Exception ex) when (ex is not TrainerException)
        {
            throw new TrainerException($"Checkpoint '{path}': the '{name}' weights do not fit the model its header describes ({ex.Message}). The file is corrupt or was written by another version.", ex);
        }
    }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        var header = Info with
        {
            Sections = Sections.ToDictionary(kv => kv.Key, kv => (long)kv.Value.Length),
            Checksums = Sections.ToDictionary(kv => kv.Key, kv => Sha256(kv.Value)),
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        AtomicFile.Write(full, file =>
        {
            using var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(FormatVersion);
            writer.Write(json.Length);
            writer.Write(json);
            writer.Write(System.Security.Cryptography.SHA256.HashData(json));
            foreach (var (name, bytes) in Sections)
            {
                writer.Write(name);
                writer.Write((long)bytes.Length);
                writer.Write(bytes);
            }
        }, flushToDisk: true);
    }

    /// <summary>Reads a checkpoint, refusing a file that is missing, truncated or not a checkpoint.</summary>
    public static Checkpoint Load(string path) => Read(path, withSections: true);

    /// <summary>
    /// Reads only a checkpoint's header (its model, training options and step), checked as <see cref="Load"/> checks it,
    /// without reading its sections: a run's checkpoint carries its discriminator and optimizer states too.
    /// </summary>
    public static Header LoadHeader(string path) => Read(path, withSections: false).Info;

    private static Checkpoint Read(string path, bool withSections)
    {
        if (!File.Exists(path)) throw new TrainerException(MissingFile.Describe("Checkpoint", path, "*.gockpt"));
        try
        {
            using var file = File.OpenRead(path);
            using var reader = new BinaryReader(file, Encoding.UTF8);
            var magic = reader.ReadBytes(Magic.Length);
            if (Encoding.ASCII.GetString(magic) != Magic)
                throw new TrainerException($"'{path}' is not a GanOnnx checkpoint (bad magic number).");
            var version = reader.ReadInt32();
            if (version is < FirstFormatVersion or > FormatVersion)
                throw new TrainerException($"Checkpoint '{path}' has format version {version}; this trainer reads versions {FirstFormatVersion} to {FormatVersion}.");
            var headerLength = reader.ReadInt32();
            if (headerLength <= 0 || headerLength > file.Length)
                throw new TrainerException($"Checkpoint '{path}' is corrupt: header length {headerLength}.");
            var json = reader.ReadBytes(headerLength);
            if (version >= 2)
            {
                var recorded = reader.ReadBytes(32);
                if (recorded.Length != 32) throw new EndOfStreamException();
                if (!recorded.AsSpan().SequenceEqual(System.Security.Cryptography.SHA256.HashData(json)))
                    throw new TrainerException($"Checkpoint '{path}' is corrupt: its header does not match its checksum (the file changed after it was written).");
            }
            var header = JsonSerializer.Deserialize<Header>(json, Json)
                ?? throw new TrainerException($"Checkpoint '{path}' has an empty header.");
            if (version >= 2 && !header.Sections.Keys.All(header.Checksums.ContainsKey))
                throw new TrainerException($"Checkpoint '{path}' is corrupt: its header lacks the checksum of a section.");
            header.Model.Validate();
            var sections = new Dictionary<string, byte[]>();
            if (!withSections) return new Checkpoint { Info = header, Sections = sections };
            foreach (var (name, length) in header.Sections)
            {
                var actualName = reader.ReadString();
                var actualLength = reader.ReadInt64();
                if (actualName != name || actualLength != length)
                    throw new TrainerException($"Checkpoint '{path}' is corrupt: expected section '{name}' of {length} bytes, found '{actualName}' of {actualLength}.");
                if (length < 0 || length > file.Length)
                    throw new TrainerException($"Checkpoint '{path}' is corrupt: section '{name}' claims {length} bytes in a file of {file.Length}.");
                var bytes = reader.ReadBytes((int)length);
                if (bytes.Length != length)
                    throw new TrainerException($"Checkpoint '{path}' is truncated: section '{name}' has {bytes.Length} of {length} bytes.");
                if (header.Checksums.TryGetValue(name, out var checksum) && Sha256(bytes) != checksum)
                    throw new TrainerException($"Checkpoint '{path}' is corrupt: section '{name}' does not match its checksum (the file changed after it was written); resume from an earlier checkpoint (--keep-checkpoints keeps them).");
                sections[name] = bytes;
            }
            return new Checkpoint { Info = header, Sections = sections };
        }
        catch (EndOfStreamException ex)
        {
            throw new TrainerException($"Checkpoint '{path}' is truncated.", ex);
        }
        catch (JsonException ex)
        {
            throw new TrainerException($"Checkpoint '{path}' has a corrupt header: {ex.Message}", ex);
        }
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    /// <summary>Rebuilds the generator stored in a checkpoint, in eval mode.</summary>
    public Generator LoadGenerator(string path, string section = "generator")
    {
        var generator = new Generator(Info.Model);
        try
        {
            LoadInto(generator, section, path);
            generator.eval();
            return generator;
        }
        catch
        {
            generator.Dispose();
            throw;
        }
    }
}
