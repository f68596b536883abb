namespace GanOnnx;

/// <summary>
/// Writes files so that a crash never leaves a partial file under the final name: the bytes go to a hidden temporary
/// file in the same folder (<c>.name.xxxxxxxx.partial</c>), which is renamed into place. The one way this repository
/// writes images, models, checkpoints, datasets, manifests, logs and reports.
/// </summary>
internal static class AtomicFile
{
    /// <summary>The pattern of temporary files a killed writer leaves behind.</summary>
    public const string TemporaryPattern = ".*.partial";

    /// <summary>
    /// Writes <paramref name="bytes"/> with few system calls (open, write, close, rename): batch export writes tens of
    /// thousands of small files. Creates the folder when it is missing.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var (full, temp) = Names(path);
        try
        {
            Microsoft.Win32.SafeHandles.SafeFileHandle handle;
            try
            {
                // FileShare.Read on a file opened for writing takes no advisory lock on Unix; the name is unique anyway.
                handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            }
            catch (DirectoryNotFoundException)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            }
            using (handle) RandomAccess.Write(handle, bytes, 0);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp); // no error when it is not there
            ThrowIfFolder(path, full);
            throw;
        }
    }

    /// <summary>
    /// Streams a file through <paramref name="write"/> (which must not close the stream); with <paramref name="flushToDisk"/>
    /// the bytes reach the disk before the rename, so a power cut leaves the old file or the new one. Creates the folder.
    /// </summary>
    public static void Write(string path, Action<Stream> write, bool flushToDisk = false)
    {
        var (full, temp) = Names(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            ThrowIfFolder(path, full);
            throw;
        }
    }

    /// <summary>The full name and a temporary name beside it; a path ending in a separator is refused, naming it.</summary>
    private static (string Full, string Temp) Names(string path)
    {
        if (Path.EndsInDirectorySeparator(path)) throw NamesAFolder(path);
        var full = Path.GetFullPath(path);
        return (full, Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".partial"));
    }

    private static IOException NamesAFolder(string path) => new($"'{path}' is a folder; give the name of the file to write.");

    /// <summary>After a failed write: the clearer error when the target is an existing folder (checked only then, off the hot path).</summary>
    private static void ThrowIfFolder(string path, string full)
    {
        if (Directory.Exists(full)) throw NamesAFolder(path);
    }
}
