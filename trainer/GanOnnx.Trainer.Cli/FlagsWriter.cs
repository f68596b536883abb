using System.Text;

namespace GanOnnx.Trainer.Cli;

/// <summary>
/// Passes the trainer's log lines to <paramref name="inner"/> with the library's property names replaced by this command
/// line's flags (<see cref="TrainerCli.WithFlags"/>), e.g. "resuming with changed training settings: --lr-g 0.0002 → 0.0001".
/// </summary>
internal sealed class FlagsWriter(TextWriter inner) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            inner.WriteLine(TrainerCli.WithFlags(_line.ToString()));
            _line.Clear();
        }
        else if (value != '\r')
        {
            _line.Append(value);
        }
    }

    public override void Write(string? value)
    {
        foreach (var c in value ?? "") Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Write('\n');
    }

    public override void Flush()
    {
        if (_line.Length > 0) inner.Write(TrainerCli.WithFlags(_line.ToString()));
        _line.Clear();
        inner.Flush();
    }
}
