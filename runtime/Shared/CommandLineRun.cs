using System.CommandLine;
using System.Globalization;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace GanOnnx;

/// <summary>
/// Runs a parsed command line in the invariant culture (numbers are read and written with '.', whatever the machine's
/// locale: under de-DE, .NET would read "--truncation 0.5" as 5), and reports a command line that does not parse the
/// way the rest of the program reports bad input: an <c>error:</c> line per problem in the flags' own words ("--count is
/// 'abc'; it must be a whole number", not "as expected type 'System.Nullable`1[System.Int64]'"), the nearest flag or
/// command for a misspelt one, and where the help is, instead of the whole help page after the errors. Exit code 1.
/// Linked into both command lines.
/// </summary>
internal static partial class CommandLineRun
{
    /// <summary>Parses <paramref name="args"/> and runs the command, or reports its errors and returns 1.</summary>
    /// <param name="program">The program's name as users type it (the root command's own name is the host's under a test runner).</param>
    public static int Invoke(RootCommand root, string[] args, string program, TextWriter output, TextWriter error)
    {
        var saved = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture, CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture);
        // Before parsing (values are converted there); the UI culture too: every message of the program is English, and
        // System.CommandLine's own would otherwise come in the machine's language, between them.
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        try
        {
            return Invoke(root.Parse(args), program, output, error);
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture, CultureInfo.DefaultThreadCurrentCulture, CultureInfo.DefaultThreadCurrentUICulture) = saved;
        }
    }

    private static int Invoke(ParseResult parse, string program, TextWriter output, TextWriter error)
    {
        List<string> problems = parse.Action is ParseErrorAction ? [.. DashedArguments(parse, program), .. Describe(parse, program)]
            : parse.Action == parse.CommandResult.Command.Action ? [.. DecimalCommas(parse), .. DashedArguments(parse, program)] // not for --help or --version
            : [];
        if (problems.Count == 0)
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
        foreach (var line in problems) error.WriteLine($"error: {line}");
        error.WriteLine($"Run '{CommandPath(parse.CommandResult, program)} --help' for the options.");
        return 1;
    }

    /// <summary>One line per parse error, in the command line's words, each unknown flag or command with its nearest names.</summary>
    internal static IEnumerable<string> Describe(ParseResult parse, string program)
    {
        var command = parse.CommandResult.Command;
        foreach (var problem in parse.Errors.Select(e => e.Message).Distinct())
        {
            if (CannotParse().Match(problem) is { Success: true } bad)
            {
                yield return $"{bad.Groups["name"].Value} is '{bad.Groups["value"].Value}'; it must be {Expected(bad.Groups["type"].Value)}.";
            }
            else if (Unrecognized().Match(problem) is { Success: true } unknown)
            {
                var token = unknown.Groups["token"].Value;
                var names = token.StartsWith('-')
                    ? OptionNames(command)
                    : CommandNames(command);
                var near = Nearest(token, names);
                var what = token.StartsWith('-') ? $"'{token}' is not an option of '{CommandPath(parse.CommandResult, program)}'"
                    : command.Subcommands.Count > 0 ? $"'{token}' is not a command of '{CommandPath(parse.CommandResult, program)}'"
                    : $"'{token}' is not expected here (each value follows its flag: --flag value)";
                yield return near.Count > 0 ? $"{what}; did you mean {string.Join(" or ", near)}?" : $"{what}.";
            }
            else if (Required().Match(problem) is { Success: true } required)
            {
                yield return $"{required.Groups["name"].Value} is required.";
            }
            else if (Repeated().Match(problem) is { Success: true } repeated)
            {
                yield return $"{repeated.Groups["name"].Value} was given {repeated.Groups["count"].Value} times; it takes one value.";
            }
            else if (problem == "Required command was not provided.")
            {
                yield return $"'{CommandPath(parse.CommandResult, program)}' needs a command: {string.Join(", ", CommandNames(command))}.";
            }
            else
            {
                yield return problem;
            }
        }
    }

    /// <summary>
    /// A decimal comma in a number flag ("--truncation 0,5"): .NET's invariant parsing reads the comma as a thousands
    /// separator, so 0,5 would run as 5 and "--lr-g 0,0002" as 2. Every such value is refused, naming the flag.
    /// </summary>
    internal static List<string> DecimalCommas(ParseResult parse)
    {
        var found = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is not null; r = r.Parent)
        {
            if (r is not CommandResult command) continue;
            foreach (var option in command.Children.OfType<OptionResult>())
            {
                var type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
                if (type != typeof(double) && type != typeof(float) && type != typeof(decimal)) continue;
                foreach (var token in option.Tokens.Where(t => t.Value.Contains(',')))
                    found.Add($"{option.Option.Name} is '{token.Value}'; write decimals with '.' (e.g. {token.Value.Replace(',', '.')}), and no thousands separators.");
            }
        }
        return found;
    }

    /// <summary>
    /// A command that takes values as arguments (<c>average a.gockpt b.gockpt</c>) takes an unknown flag as one of them:
    /// "--checkpoints" would be looked for as a file. A value that begins with "--" is reported as the unknown flag it is.
    /// </summary>
    internal static IEnumerable<string> DashedArguments(ParseResult parse, string program)
    {
        var command = parse.CommandResult.Command;
        foreach (var argument in parse.CommandResult.Children.OfType<ArgumentResult>())
            foreach (var token in argument.Tokens.Where(t => t.Value.StartsWith("--", StringComparison.Ordinal) && t.Value.Length > 2))
            {
                var near = Nearest(token.Value, OptionNames(command));
                yield return $"'{token.Value}' is not an option of '{CommandPath(parse.CommandResult, program)}'"
                    + (near.Count > 0 ? $"; did you mean {string.Join(" or ", near)}?" : $"; its {argument.Argument.Name} are given without a flag.");
            }
    }

    /// <summary>The flags a user may type for <paramref name="command"/>: every visible option's name and aliases.</summary>
    private static IEnumerable<string> OptionNames(Command command) => command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name));

    /// <summary>The visible subcommands of <paramref name="command"/>.</summary>
    private static IEnumerable<string> CommandNames(Command command) => command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);

    /// <summary>What a value of the named .NET type must be, in words.</summary>
    private static string Expected(string type)
    {
        var inner = NullableOf().Match(type) is { Success: true } nullable ? nullable.Groups["inner"].Value : type;
        return inner switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" => "a whole number",
            "System.UInt32" or "System.UInt64" => "a whole number, 0 or more",
            "System.Double" or "System.Single" or "System.Decimal" => "a number (with '.' for decimals)",
            "System.Boolean" => "true or false",
            _ => $"a value of the kind {inner[(inner.LastIndexOf('.') + 1)..]}",
        };
    }

    /// <summary>
    /// The names nearest <paramref name="token"/> within a small edit distance, and those it begins ("--trunc") or ends a
    /// part of ("--background" for "--emoji-background"), closest first, at most three.
    /// </summary>
    internal static List<string> Nearest(string token, IEnumerable<string> names)
    {
        var close = names.Distinct()
            .Select(n => (Name: n, Distance: Distance(token, n), Prefix: Related(token, n)))
            .Where(s => s.Distance <= Math.Max(2, token.Length / 3) || s.Prefix)
            .ToList();
        if (close.Count == 0) return [];
        var best = close.Min(s => s.Distance);
        return close.Where(s => s.Distance == best || s.Prefix)
            .OrderBy(s => s.Distance).ThenBy(s => s.Name, StringComparer.Ordinal)
            .Take(3).Select(s => s.Name).ToList();
    }

    /// <summary>"--trunc" for "--truncation", "--background" for "--emoji-background": a name the token begins, or holds whole.</summary>
    private static bool Related(string token, string name)
    {
        var word = token.TrimStart('-');
        return (word.Length >= 3 && name.StartsWith(token, StringComparison.Ordinal))
            || (word.Length >= 4 && name.TrimStart('-').Split('-').Length > 1 && name.Contains("-" + word, StringComparison.Ordinal));
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>"ganonnx generate": the names from the root command down.</summary>
    private static string CommandPath(CommandResult? result, string program)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Insert(0, c.Command is RootCommand ? program : c.Command.Name);
        return string.Join(' ', names);
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (?:option|argument) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"^Unrecognized command or argument '(?<token>.*)'\.$", RegexOptions.Singleline)]
    private static partial Regex Unrecognized();

    [GeneratedRegex(@"^Option '(?<name>[^']*)' is required\.$")]
    private static partial Regex Required();

    [GeneratedRegex(@"^Option '(?<name>[^']*)' expects a single argument but (?<count>\d+) were provided\.$")]
    private static partial Regex Repeated();

    [GeneratedRegex(@"^System\.Nullable`1\[(?<inner>.+)\]$")]
    private static partial Regex NullableOf();
}
