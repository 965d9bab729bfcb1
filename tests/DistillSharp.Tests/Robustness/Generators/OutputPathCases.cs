using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// Output paths that cannot hold output — an existing file, /dev/null, a path under a regular file,
/// /proc and /sys — for every command that writes: each must be refused before any expensive work
/// (quantize once found out after 2 min 13 s).
/// </summary>
public sealed class OutputPathCases : IBadInputGenerator
{
    public string Category => "output";

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        var commands = new (string Name, Func<string, string, string[]> Args)[]
        {
            ("run", (d, o) => ["run", Config(m, d), "--out", o]),
            ("export safetensors", (d, o) => ["export", "--model", m.EncoderDir, "--format", "safetensors", "--out", o]),
            ("export onnx", (d, o) => ["export", "--model", m.EncoderDir, "--format", "onnx", "--out", o]),
            ("quantize", (d, o) => ["quantize", "--model", m.EncoderDir, "--mode", "dynamic", "--out", o]),
            ("pretrain", (d, o) => ["pretrain", "--out", o]),
        };
        var places = new (string Name, Func<string, string> Path, bool Folder)[]
        {
            ("an existing file", d => { string f = System.IO.Path.Combine(d, "taken"); File.WriteAllText(f, "x"); return f; }, true),
            ("/dev/null", _ => "/dev/null", false),
            ("under a regular file", d => { string f = System.IO.Path.Combine(d, "plain"); File.WriteAllText(f, "x"); return System.IO.Path.Combine(f, "sub", "out"); }, false),
            ("in /proc", _ => "/proc/distill-robustness-out", false),
            ("in /sys", _ => "/sys/distill-robustness-out", false),
        };
        foreach (var (command, args) in commands)
            foreach (var (place, path, folderOnly) in places)
            {
                if (folderOnly && command == "export onnx") continue; // an existing file is what export onnx replaces
                yield return new BadInputCase(Category, $"{command} --out {place}", d => new CliCall(args(d, path(d))), ["--out"], MaxSeconds: 15);
            }
        yield return new BadInputCase(Category, "export onnx --out a folder", d => new CliCall(
            ["export", "--model", m.EncoderDir, "--format", "onnx", "--out", Directory.CreateDirectory(Path.Combine(d, "folder")).FullName]), ["--out"]);
        yield return new BadInputCase(Category, "run output: in /proc from the config", d =>
        {
            string config = Path.Combine(d, "run.yaml");
            File.WriteAllText(config, m.EncoderRunYaml() + "output: /proc/distill-robustness-out\n");
            return new CliCall(["run", config]);
        }, ["output"]);
    }

    static string Config(RobustnessModels m, string dir)
    {
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, m.EncoderRunYaml());
        return config;
    }
}
