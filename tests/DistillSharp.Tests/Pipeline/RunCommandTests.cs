using DistillSharp.Cli;
using DistillSharp.Distillation;
using Spectre.Console;

namespace DistillSharp.Tests.Pipeline;

public class RunCommandTests
{
    [Fact]
    public void ProgressTextIsValidMarkupEvenWithBracketsInTheStageName()
    {
        // Regression: "[align]" was once passed to Spectre unescaped and crashed the live display.
        var p = new DistillProgress("align [stage 1]", 0, 3, 300, 3, 450, 0.5642, 1.2, 536);
        string text = RunCommand.Describe(p);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        console.Write(new Markup(text));
        Assert.Contains("[align [stage 1]] 3/300 loss 0.5642 ETA 00:08:56", output.ToString());
    }
}
