namespace DistillSharp.Tests.Robustness;

/// <summary>One command line of the robustness suite, with the environment it runs in.</summary>
/// <param name="Args">Arguments after <c>distill</c>.</param>
/// <param name="Env">Extra environment variables of the child process.</param>
public sealed record CliCall(string[] Args, IReadOnlyDictionary<string, string>? Env = null);

/// <summary>
/// One bad input: <paramref name="Prepare"/> writes whatever the case needs into its own empty folder
/// (the argument) and returns the command line; the child's answer must be exit code
/// <paramref name="ExitCode"/>, and its error line must contain every one of <paramref name="Culprits"/>
/// (the file, key, tensor or argument at fault). Exit code 0 cases are inputs that must work (for example
/// an ONNX model with its weights in external files inside its folder).
/// </summary>
public sealed record BadInputCase(string Category, string Name, Func<string, CliCall> Prepare, IReadOnlyList<string> Culprits,
    int ExitCode = 2, double MaxSeconds = BadInputCase.DefaultSeconds)
{
    /// <summary>Wall-clock bound of one child (a hang detector on a loaded 2-core machine; bad input itself fails in about a second).</summary>
    public const double DefaultSeconds = 30;

    /// <inheritdoc/>
    public override string ToString() => $"{Category}/{Name}";
}

/// <summary>
/// Makes the cases of one input format or boundary. A new format gets its cases by adding a generator
/// to <see cref="BadInputGenerators.All"/>; cases are described lazily (nothing is written until a case runs).
/// </summary>
public interface IBadInputGenerator
{
    /// <summary>Category name in reports (e.g. "safetensors").</summary>
    string Category { get; }

    /// <summary>The cases, built over the shared tiny models of <paramref name="models"/>.</summary>
    IEnumerable<BadInputCase> Cases(RobustnessModels models);
}
