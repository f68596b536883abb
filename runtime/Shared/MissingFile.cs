namespace GanOnnx;

/// <summary>
/// Why a file that a command was given cannot be read, in words a user can act on: "does not exist", or, for a folder
/// (a model's folder, a training run's), which files of the kind asked for it holds. Linked into the runtime and the
/// trainer.
/// </summary>
internal static class MissingFile
{
    /// <summary>
    /// The message for <paramref name="path"/>, which is not a file: <paramref name="what"/> names it ("Model file"),
    /// <paramref name="pattern"/> the files to suggest from a folder ("*.onnx").
    /// </summary>
    public static string Describe(string what, string path, string pattern)
    {
        if (!Directory.Exists(path)) return $"{what} '{path}' does not exist.";
        string[] inside;
        try
        {
            inside = Directory.EnumerateFiles(path, pattern).Take(100_000).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            inside = [];
        }
        var kind = pattern.TrimStart('*');
        return inside.Length switch
        {
            0 => $"{what} '{path}' is a folder, and it holds no {kind} file; give the file's path.",
            1 => $"{what} '{path}' is a folder; give the file in it: '{inside[0]}'.",
            <= 3 => $"{what} '{path}' is a folder; give one of its {kind} files: {string.Join(", ", inside.Select(f => $"'{f}'"))}.",
            _ => $"{what} '{path}' is a folder; give one of its {inside.Length} {kind} files, '{inside[0]}' … '{inside[^1]}'.",
        };
    }
}
