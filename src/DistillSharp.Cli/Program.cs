using System.CommandLine;
using DistillSharp.Cli;
using DistillSharp.Diagnostics;

TorchNative.EnsureLoadable();
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 4096; // no wrapping in pipes and logs

var root = new RootCommand("DistillSharp: distil transformers into small, fast students, quantize them to INT8, and measure both.");
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(FetchCommand.Create());
root.Subcommands.Add(EmbedCommand.Create());
return CommandRunner.Invoke(root, args);
