using System.CommandLine;
using DistillSharp.Diagnostics;

namespace DistillSharp.Cli;

/// <summary>The `distill` command line, callable in-process (tests use it that way).</summary>
public static class DistillCli
{
    /// <summary>Runs one command line and returns its exit code: 0 ok, 1 failed, 2 bad input.</summary>
    public static int Run(string[] args)
    {
        TorchNative.EnsureLoadable();
        // libtorch uses all cores by default; DISTILLSHARP_THREADS caps it (on a shared machine one
        // thread each is faster than spinning OpenMP threads fighting for the same cores).
        if (int.TryParse(Environment.GetEnvironmentVariable("DISTILLSHARP_THREADS"), out int threads) && threads > 0)
            TorchSharp.torch.set_num_threads(threads);
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 4096; // no wrapping in pipes and logs
        var root = new RootCommand("DistillSharp: distil transformers into small, fast students, quantize them to INT8, and measure both.");
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(FetchCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(LmRunCommand.CreatePretrain());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(LoadtestCommand.Create());
        return CommandRunner.Invoke(root, args);
    }
}
