using System.CommandLine;
using System.CommandLine.Parsing;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Cli;

/// <summary>
/// Exit codes and error printing shared by every command: one line on standard error, never a
/// stack trace. Bad input (a <see cref="DistillSharpException"/>, or a file system refusal such as
/// a full disk or a read-only folder) gives exit code 2 and its message; anything else is a bug and
/// gives exit code 1 with a line that says so and where the details were written.
/// </summary>
public static class CommandRunner
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>Something could not work: a check failed (doctor), or an internal error (a bug).</summary>
    public const int Failed = 1;
    /// <summary>Bad input: unknown option, bad config, missing or mismatched file, unwritable output.</summary>
    public const int BadInput = 2;

    public static int Invoke(RootCommand root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        var errors = parse.Errors.Select(e => OneLine(e.Message)).Concat(UnknownOptions(parse)).ToList();
        if (errors.Count > 0)
        {
            Console.Error.WriteLine("error: " + string.Join("; ", errors) + " (run 'distill --help' for usage)");
            return BadInput;
        }
        return parse.Invoke();
    }

    // A token like "--colour" that the parser took as a command argument (a text to embed, say) is
    // a mistyped option, unless it comes after "--".
    static IEnumerable<string> UnknownOptions(ParseResult parse)
    {
        var tokens = parse.Tokens.ToList();
        int doubleDash = tokens.FindIndex(t => t.Type == TokenType.DoubleDash);
        foreach (var argument in parse.CommandResult.Children.OfType<ArgumentResult>())
            foreach (var token in argument.Tokens)
                if (token.Value.StartsWith("--", StringComparison.Ordinal) && token.Value.Length > 2 &&
                    (doubleDash < 0 || tokens.FindIndex(t => ReferenceEquals(t, token)) < doubleDash))
                    yield return $"unknown option '{token.Value}' for '{parse.CommandResult.Command.Name}' (put -- before arguments that start with --)";
    }

    /// <summary>Wraps a command body: every exception becomes one error line and an exit code.</summary>
    public static Func<ParseResult, int> Guard(Func<ParseResult, int> body) => parse =>
    {
        try
        {
            return body(parse);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    };

    /// <summary>Returns <paramref name="value"/> when it lies in [<paramref name="min"/>, <paramref name="max"/>], else throws naming <paramref name="option"/>.</summary>
    public static int InRange(int value, string option, int min, int max) =>
        value >= min && value <= max ? value : throw new DistillSharpException($"{option} must be in [{min}, {max}], got {value}");

    /// <summary>
    /// A config path must name a small UTF-8 text file before a YAML reader sees it (a link to
    /// /dev/zero would otherwise be read until memory runs out); a missing file is left to the loader.
    /// </summary>
    public static string? CheckConfigFile(string? path)
    {
        if (path is not null && (File.Exists(path) || Directory.Exists(path))) InputFile.ReadText(path, InputFile.ConfigBytes, "YAML config");
        return path;
    }

    /// <summary>Prints the one line for <paramref name="e"/> and returns its exit code.</summary>
    public static int Report(Exception e)
    {
        e = Unwrap(e);
        switch (e)
        {
            case DistillSharpException:
                Console.Error.WriteLine("error: " + OneLine(e.Message));
                return BadInput;
            case IOException or UnauthorizedAccessException:
                // The file system refused: a full disk, a read-only or missing folder, a permission. The
                // message names the path; the advice says how to go on.
                Console.Error.WriteLine("error: " + OneLine(e.Message) + Advice(e));
                return BadInput;
            default:
                Console.Error.WriteLine($"error: internal error ({e.GetType().Name}: {OneLine(e.Message)}); this is a bug in distill, not in your input — details in {CrashLog(e)}");
                return Failed;
        }
    }

    /// <summary>For exceptions on other threads: the same one line, then exit code 1 (the runtime would print a stack trace).</summary>
    public static void OnUnhandled(object? sender, UnhandledExceptionEventArgs args)
    {
        int code = args.ExceptionObject is Exception e ? Report(e) : Failed;
        Console.Error.Flush();
        Environment.Exit(code == Ok ? Failed : code);
    }

    // errno of Linux I/O errors (IOException.HResult holds it): ENOSPC, EDQUOT, EROFS.
    static string Advice(Exception e) => e.HResult switch
    {
        28 or 122 => " (the disk is full: free space, then run the command again; a distill run continues from its last checkpoint with --resume)",
        30 => " (the file system is read-only: choose a writable folder, or remount it read-write and run the command again)",
        _ => "",
    };

    static Exception Unwrap(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        TypeInitializationException { InnerException: { } inner } => Unwrap(inner),
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        _ => e,
    };

    static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));

    // The full exception text, for a bug report; the path, or "nowhere" when even that failed.
    static string CrashLog(Exception e)
    {
        try
        {
            string path = Path.Combine(Path.GetTempPath(), $"distill-crash-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.txt");
            File.WriteAllText(path, $"distill {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}\n{e}\n");
            return path;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            return "nowhere (the temporary folder is not writable)";
        }
    }
}
