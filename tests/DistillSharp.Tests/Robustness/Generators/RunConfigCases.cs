using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// Run configs (distill run CONFIG) that are not YAML, not a mapping, or disagree with the teacher:
/// each is refused with the YAML path or the key before the corpus, evaluation data or teacher load.
/// </summary>
public sealed class RunConfigCases : IBadInputGenerator
{
    public string Category => "run config";

    // The built-in LM config with its teacher section replaced by <paramref name="teacher"/>.
    static string LmYaml(string teacher)
    {
        var lines = DistillSharp.Config.BuiltinConfigs.LmDefault.Split('\n').ToList();
        int start = lines.FindIndex(l => l.StartsWith("teacher:", StringComparison.Ordinal));
        int end = lines.FindIndex(start + 1, l => l.Length > 0 && !l.StartsWith(' '));
        lines.RemoveRange(start, end - start);
        lines.Insert(start, teacher);
        return string.Join("\n", lines);
    }

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        var texts = new (string Name, Func<string, string> Yaml, string Culprit)[]
        {
            ("an open flow mapping", _ => "teacher: { source: x\n", "run.yaml"),
            ("tabs for indentation", _ => "teacher:\n\tsource: x\n", "run.yaml"),
            ("two documents", _ => m.EncoderRunYaml() + "---\nseed: 1\n", "run.yaml"),
            ("empty", _ => "", "run.yaml"),
            ("a top-level list", _ => "- teacher\n- student\n", "run.yaml"),
            ("binary", _ => "teacher:\0\u0001\u0002", "run.yaml"),
            ("nested 5000 deep", _ => "teacher: " + new string('[', 5000) + new string(']', 5000) + "\n", "run.yaml"),
            ("an alias bomb", _ => "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
                "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" + m.EncoderRunYaml(), "run.yaml"),
            ("an unknown key", _ => m.EncoderRunYaml() + "colour: blue\n", "colour"),
            ("no stages", _ => m.EncoderRunYaml(null, ("stages:", "stages: []"), ("  - name", ""), ("    steps", ""), ("    losses", "")), "stages"),
            ("an unknown loss", _ => m.EncoderRunYaml(null, ("    losses:", "    losses: { telepathy: 1.0 }")), "telepathy"),
            ("a negative learning rate", _ => m.EncoderRunYaml(null, ("    steps:", "    steps: 2\n    optimizer: { lr: -1 }")), "lr"),
            ("data.max_len past the teacher's positions", _ => m.EncoderRunYaml(null, ("data:", $"data: {{ corpus: {m.CorpusPath}, max_len: 100000, batch: 8 }}")), "data.max_len"),
            ("bench.seq past the teacher's positions", _ => m.EncoderRunYaml(null, ("bench:", "bench: { batch: [1], seq: 100000, runs: 1 }")), "bench.seq"),
            ("bench.batch 0", _ => m.EncoderRunYaml(null, ("bench:", "bench: { batch: [0], seq: 16, runs: 1 }")), "bench.batch"),
            ("a teacher layer the teacher lacks", _ => m.EncoderRunYaml(null, ("student:", "student: { layers: 1, hidden: 32, heads: 4, ffn: 64, init: teacher, teacher_layers: [7] }")), "teacher_layers"),
            ("teacher init with another width", _ => m.EncoderRunYaml(null, ("student:", "student: { layers: 1, hidden: 64, heads: 4, ffn: 64, init: teacher }")), "student.hidden"),
            ("a missing teacher", d => m.EncoderRunYaml(null, ("teacher:", $"teacher: {{ source: {Path.Combine(d, "no-teacher")} }}")), "teacher.source"),
            ("a teacher folder without config.json", d =>
            {
                Directory.CreateDirectory(Path.Combine(d, "empty-teacher"));
                return m.EncoderRunYaml(null, ("teacher:", $"teacher: {{ source: {Path.Combine(d, "empty-teacher")} }}"));
            }, "teacher.source"),
            ("a teacher whose config.json is broken", d =>
            {
                string t = CopyModel(m.EncoderDir, d);
                File.WriteAllText(Path.Combine(t, "config.json"), "{\"hidden_size\": \"big\"");
                return m.EncoderRunYaml(null, ("teacher:", $"teacher: {{ source: {t} }}"));
            }, "config.json"),
            ("an unknown built-in teacher", _ => m.EncoderRunYaml(null, ("teacher:", "teacher: { source: builtin:gpt-17 }")), "builtin:gpt-17"),
            ("seed a string", _ => m.EncoderRunYaml(null, ("seed:", "seed: forty-two")), "seed"),
            ("dropout 1.5", _ => m.EncoderRunYaml() + "dropout: 1.5\n", "dropout"),
            ("an unknown corpus source", _ => m.EncoderRunYaml("wikipedia"), "wikipedia"),
            ("LM config: a missing teacher", d => LmYaml($"teacher: {{ source: {Path.Combine(d, "no-lm")} }}"), "no-lm"),
            ("LM config: a teacher folder without tokenizer.json", d =>
            {
                string t = CopyModel(m.DecoderDir, d);
                File.Delete(Path.Combine(t, "tokenizer.json"));
                return LmYaml($"teacher: {{ source: {t} }}");
            }, "tokenizer.json"),
            ("LM config: an unknown corpus", _ => LmYaml("teacher: { source: x }").Replace("corpus: [moby-dick, sotu]", "corpus: [the-web]"), "the-web"),
            ("an unknown kind", _ => "kind: vision\n" + m.EncoderRunYaml(), "kind"),
        };
        foreach (var (name, yaml, culprit) in texts)
            yield return Case(Category, name, dir =>
            {
                string config = Path.Combine(dir, "run.yaml");
                File.WriteAllText(config, yaml(dir));
                return ["run", config, "--out", Path.Combine(dir, "run")];
            }, culprit);
        foreach (var (name, write) in new (string, Action<string>)[]
        {
            ("symlink to /dev/zero", p => Link(p, "/dev/zero")),
            ("Latin-1 bytes", p => File.WriteAllBytes(p, [.. System.Text.Encoding.UTF8.GetBytes(m.EncoderRunYaml()), .. Latin1("# caf\u00e9\n")])),
            ("a folder", p => Directory.CreateDirectory(p)),
        })
            yield return Case(Category, name, dir =>
            {
                string config = Path.Combine(dir, "run.yaml");
                write(config);
                return ["run", config, "--out", Path.Combine(dir, "run")];
            }, "run.yaml");
    }
}
