using System.CommandLine;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Cli;

/// <summary>`distill report RUN_DIR`: regenerates report.md and plots/*.png from report.json and metrics.jsonl.</summary>
static class ReportCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string>("run-dir") { Description = "A run folder (the --out of 'distill run') holding report.json and/or metrics.jsonl." };
        var command = new Command("report", "Regenerate report.md and the PNG plots of a run folder.") { runDir };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string dir = parse.GetValue(runDir)!;
            if (DistillSharp.Pipeline.Decoder.LmPipeline.IsLmRun(dir))
            {
                foreach (string path in DistillSharp.Pipeline.Decoder.LmPipeline.RewriteReport(dir)) Console.WriteLine("wrote " + path);
                return CommandRunner.Ok;
            }
            var output = ReportGenerator.Generate(dir);
            foreach (string warning in output.Warnings) Console.Error.WriteLine("warning: " + warning);
            foreach (string path in output.Written) Console.WriteLine("wrote " + path);
            return CommandRunner.Ok;
        }));
        return command;
    }
}
