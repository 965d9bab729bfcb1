using DistillSharp.Runtime.Formats;

namespace DistillSharp.Pipeline;

/// <summary>
/// Opens a run folder for a new run or for <c>--resume</c>, the same way for every run kind: a new
/// run refuses a folder that already holds one and writes the resolved config as config.yaml; a
/// resumed run must be given the config the run was started with (its config.yaml is compared, never
/// overwritten), and a run killed before its first checkpoint resumes from the start.
/// </summary>
public static class RunFolder
{
    /// <summary>The resolved config of a run folder.</summary>
    public const string ConfigFile = "config.yaml";

    /// <summary>
    /// Prepares <paramref name="runDir"/>; <paramref name="holdsRun"/> says whether it already has
    /// outputs of a run (checked only when not resuming). Returns true when resuming.
    /// </summary>
    public static bool Open(string runDir, string configYaml, bool resume, bool holdsRun)
    {
        string path = Path.Combine(runDir, ConfigFile);
        if (resume && File.Exists(path))
        {
            string stored = InputFile.ReadText(path, InputFile.ConfigBytes, ConfigFile);
            if (Normalized(stored) != Normalized(configYaml))
                throw new DistillSharpException($"{path}: --resume with another config ({FirstDifference(stored, configYaml)}); " +
                                                $"resume with the config the run was started with (e.g. {path} itself) or start a new run with --out");
            return true;
        }
        if (!resume && holdsRun)
            throw new DistillSharpException($"{runDir} already holds a run; use --resume to continue it or --out to start a new one");
        Directory.CreateDirectory(runDir);
        AtomicFile.WriteText(path, configYaml);
        return resume;
    }

    static string Normalized(string yaml) => yaml.Replace("\r\n", "\n").TrimEnd();

    static string FirstDifference(string stored, string given)
    {
        var a = Normalized(stored).Split('\n');
        var b = Normalized(given).Split('\n');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string x = i < a.Length ? a[i].Trim() : "(end)", y = i < b.Length ? b[i].Trim() : "(end)";
            if (x != y) return $"line {i + 1}: the run has '{Clip(x)}', this config '{Clip(y)}'";
        }
        return "they differ";
    }

    static string Clip(string line) => line.Length > 80 ? line[..80] + "…" : line;
}
