using DistillSharp.Cli;
using DistillSharp.Pipeline.Encoder;
using Spectre.Console;

namespace DistillSharp.Tests.Pipeline;

public class RunCommandTests
{
    [Fact]
    public void ProgressTextIsValidMarkupEvenWithBracketsInTheStageName()
    {
        // Regression: "[align]" was once passed to Spectre unescaped and crashed the live display.
        var p = new RunProgress("distill", "align [stage 1] 3/300 loss 0.5642", 60, 536);
        string text = RunCommand.DescribeMarkup(p);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        console.Write(new Markup(text));
        Assert.Contains("[distill] align [stage 1] 3/300 loss 0.5642 · run 00:01:00 · ETA 00:08:56", output.ToString());
    }

    [Fact]
    public void UnknownEtaIsSaidNotGuessed()
    {
        Assert.EndsWith("ETA after the first distillation steps", RunCommand.Describe(new RunProgress("data", "", 3, null)));
    }
}
