namespace GanOnnx.Trainer;

/// <summary>
/// A failure of the trainer the user can act on: a bad dataset file, a size the architecture cannot make, a corrupt or
/// mismatched checkpoint, a layer the exporter does not know. The message names the problem and the fix.
/// </summary>
public sealed class TrainerException : Exception
{
    /// <summary>Creates the exception with a message that names the problem.</summary>
    public TrainerException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public TrainerException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with no message (prefer the other constructors).</summary>
    public TrainerException() { }
}
