using System.CommandLine;
using System.Text.Json;
using DistillSharp.Pipeline;
using Spectre.Console;

namespace DistillSharp.Cli;

/// <summary>`distill doctor`: what this machine has, what is missing and how to get it.</summary>
static class DoctorCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the checks as JSON." };
        var command = new Command("doctor", "Check libtorch, ONNX Runtime, SIMD support, teachers and datasets.") { json };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            var checks = Doctor.Run();
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(checks.Select(c => new
                {
                    section = c.Section, name = c.Name, status = c.Status.ToString(), detail = c.Detail, fix = c.Fix,
                }), new JsonSerializerOptions { WriteIndented = true }));
            else
                Print(checks);
            return checks.Any(c => c.Status == CheckStatus.Error) ? CommandRunner.Failed : CommandRunner.Ok;
        }));
        return command;
    }

    static void Print(IReadOnlyList<DoctorCheck> checks)
    {
        foreach (var section in checks.GroupBy(c => c.Section))
        {
            AnsiConsole.MarkupLine($"[bold]{section.Key}[/]");
            foreach (var c in section)
            {
                string mark = c.Status switch
                {
                    CheckStatus.Ok => "[green]ok[/]         ",
                    CheckStatus.Info => "[grey]info[/]       ",
                    CheckStatus.NotFetched => "[yellow]not yet fetched[/]",
                    _ => "[red]ERROR[/]      ",
                };
                AnsiConsole.MarkupLine($"  {mark} {Markup.Escape(c.Name)}: {Markup.Escape(c.Detail)}");
                if (c.Fix != null) AnsiConsole.MarkupLine($"               get it: [cyan]{Markup.Escape(c.Fix)}[/]");
            }
        }
    }
}
