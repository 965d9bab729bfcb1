using DistillSharp.Cli;

namespace DistillSharp.Tests.Cli;

/// <summary>Exceptions become one line and an exit code: 2 for input the user can fix, 1 (and a crash log) for bugs.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class CommandRunnerTests
{
    static (int Code, string Error) Report(Exception e)
    {
        var saved = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        try
        {
            return (CommandRunner.Report(e), error.ToString());
        }
        finally
        {
            Console.SetError(saved);
        }
    }

    [Fact]
    public void BadInputAndFileSystemRefusalsAreExitTwo()
    {
        var (code, error) = Report(new DistillSharpException("config.json: hidden_size must be an integer,\ngot \"32\""));
        Assert.Equal(2, code);
        Assert.Equal("error: config.json: hidden_size must be an integer, got \"32\"" + Environment.NewLine, error);
        (code, error) = Report(new AggregateException(new IOException("No space left on device : '/mnt/full/metrics.jsonl'")));
        Assert.Equal(2, code);
        Assert.Contains("/mnt/full/metrics.jsonl", error);
    }

    [Fact]
    public void BugsAreExitOneWithALineThatSaysSoAndACrashLog()
    {
        var (code, error) = Report(new NullReferenceException("boom"));
        Assert.Equal(1, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("internal error (NullReferenceException: boom); this is a bug", error);
        string log = error.Trim()[(error.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..];
        Assert.True(File.Exists(log), log);
        Assert.Contains("NullReferenceException", File.ReadAllText(log));
        File.Delete(log);
    }

    [Fact]
    public void AMistypedOptionTakenAsATextIsRefused()
    {
        var (code, _, error) = CliHarness.Run("embed", "--model", "builtin:all-MiniLM-L6-v2", "--max-lenght", "16", "hello");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--max-lenght'", error);
    }
}
