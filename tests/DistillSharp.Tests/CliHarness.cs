using DistillSharp.Cli;

namespace DistillSharp.Tests;

/// <summary>Runs the `distill` command line in-process and captures what it prints.</summary>
internal static class CliHarness
{
    /// <summary>Exit code, standard output and standard error of one command line.</summary>
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var (savedOut, savedError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (DistillCli.Run(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedError);
        }
    }
}
