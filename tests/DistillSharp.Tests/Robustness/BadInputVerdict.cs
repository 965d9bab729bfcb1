using System.Text.RegularExpressions;

namespace DistillSharp.Tests.Robustness;

/// <summary>
/// The contract a bad input is held to: the expected exit code, exactly one error line on standard
/// error that names the culprit, no stack trace or native abort anywhere, and the time and memory
/// bounds of <see cref="ChildCli"/>.
/// </summary>
public static partial class BadInputVerdict
{
    [GeneratedRegex(@"^\s+at \S+|Unhandled exception|terminate called|core dumped|System\.[A-Za-z.]*Exception|--- End of|c10::", RegexOptions.Multiline)]
    private static partial Regex StackTrace();

    /// <summary>The error lines of standard error (warnings and progress lines excluded).</summary>
    public static IReadOnlyList<string> ErrorLines(string stderr) =>
        stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0 && !l.StartsWith("warning: ", StringComparison.Ordinal))
            .Where(l => !IsProgress(l)).ToList();

    // Lines commands write to standard error while working ("int8 batch 1 × 64: 5 warm-up + 50 timed runs").
    static bool IsProgress(string line) => line.StartsWith("[", StringComparison.Ordinal) || line.Contains("warm-up", StringComparison.Ordinal);

    /// <summary>Null when <paramref name="r"/> honours the contract for <paramref name="c"/>, else what went wrong.</summary>
    public static string? Check(BadInputCase c, ChildResult r)
    {
        if (r.Killed == "time") return $"hang: killed after {r.Seconds:F1} s";
        if (r.Killed == "memory") return $"memory: resident set passed {ChildCli.MaxRssBytes / 1e6:F0} MB";
        if (StackTrace().Match(r.Output + "\n" + r.Error) is { Success: true } m) return $"stack trace or abort ('{m.Value.Trim()}')";
        var errors = ErrorLines(r.Error);
        if (r.ExitCode != c.ExitCode) return $"exit code {r.ExitCode}, expected {c.ExitCode}";
        if (c.ExitCode == 0) return null;
        if (errors.Count != 1) return $"{errors.Count} error lines, expected one";
        string line = errors[0];
        if (!line.StartsWith("error: ", StringComparison.Ordinal)) return "the error line does not start with 'error: '";
        var missing = c.Culprits.Where(x => !line.Contains(x, StringComparison.Ordinal)).ToList();
        return missing.Count > 0 ? $"the error line does not name {string.Join(", ", missing.Select(x => $"'{x}'"))}" : null;
    }
}
