using System.CommandLine;

namespace DistillSharp.Cli;

/// <summary>Exit codes and error printing shared by every command.</summary>
static class CommandRunner
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>Something could not work (a runtime failed to load, a check failed).</summary>
    public const int Failed = 1;
    /// <summary>Bad input: unknown option, bad config, missing or mismatched file.</summary>
    public const int BadInput = 2;

    public static int Invoke(RootCommand root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine("error: " + error.Message);
            Console.Error.WriteLine("Run 'distill --help' for usage.");
            return BadInput;
        }
        return parse.Invoke();
    }

    /// <summary>Wraps a command body: user errors print one line and give exit code 2.</summary>
    public static Func<ParseResult, int> Guard(Func<ParseResult, int> body) => parse =>
    {
        try
        {
            return body(parse);
        }
        catch (DistillSharpException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return BadInput;
        }
    };
}
