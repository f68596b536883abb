namespace GanOnnx.Runtime;

/// <summary>
/// A failure the caller can act on: a model that is not a generator, a provider that cannot load,
/// an option out of range. The message names the bad input and, where there is one, the fix.
/// </summary>
public sealed class GanOnnxException : Exception
{
    /// <summary>Creates the exception with a message that names the problem.</summary>
    public GanOnnxException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public GanOnnxException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public GanOnnxException() { }
}
