namespace GanOnnx.Runtime.Cuda;

/// <summary>Whether one CUDA library could be loaded, and from where.</summary>
/// <param name="Library">The library.</param>
/// <param name="LoadedFrom">The file it was loaded from, "(system search path)" when the loader found it by name, or null when it was not found.</param>
/// <param name="Error">Why it did not load (the loader's message), or null.</param>
public sealed record CudaLibraryStatus(CudaLibrary Library, string? LoadedFrom, string? Error)
{
    /// <summary>Whether the library is loaded in this process.</summary>
    public bool Loaded => LoadedFrom is not null;
}
