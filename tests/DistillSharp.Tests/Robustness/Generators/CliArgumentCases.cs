using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>Command-line arguments out of range, of the wrong type or contradicting each other; the error names the option.</summary>
public sealed class CliArgumentCases : IBadInputGenerator
{
    public string Category => "arguments";

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        string enc = m.EncoderDir, dec = m.DecoderDir;
        string[] Gen(params string[] extra) => ["generate", "--model", dec, "--prompt", "a", .. extra];
        string[] Quant(string dir, params string[] extra) => ["quantize", "--model", enc, "--out", Path.Combine(dir, "q"), .. extra];
        var cases = new (string Name, Func<string, string[]> Args, string Culprit)[]
        {
            ("embed --max-length 0", _ => ["embed", "--model", enc, "--max-length", "0", "hi"], "--max-length"),
            ("embed --max-length -1", _ => ["embed", "--model", enc, "--max-length", "-1", "hi"], "--max-length"),
            ("embed --max-length 2", _ => ["embed", "--model", enc, "--max-length", "2", "hi"], "--max-length"),
            ("embed --max-length 100000", _ => ["embed", "--model", enc, "--max-length", "100000", "hi"], "--max-length"),
            ("embed --max-length past the positions", _ => ["embed", "--model", enc, "--max-length", "100", "hi"], "max_position_embeddings"),
            ("embed --max-length not a number", _ => ["embed", "--model", enc, "--max-length", "abc", "hi"], "abc"),
            ("embed without text", _ => ["embed", "--model", enc], "embed"),
            ("embed of a missing model", d => ["embed", "--model", Path.Combine(d, "none"), "hi"], "none"),
            ("embed of an unknown built-in", _ => ["embed", "--model", "builtin:gpt-17", "hi"], "gpt-17"),
            ("eval --max-length 0", _ => ["eval", "--model", enc, "--max-length", "0"], "--max-length"),
            ("eval --task unknown", _ => ["eval", "--model", enc, "--task", "astrology"], "astrology"),
            ("generate --max-new-tokens -1", _ => Gen("--max-new-tokens", "-1"), "max-new-tokens"),
            ("generate --max-new-tokens 2000000000", _ => Gen("--max-new-tokens", "2000000000"), "max-new-tokens"),
            ("generate --temperature -1", _ => Gen("--temperature", "-1"), "temperature"),
            ("generate --temperature NaN", _ => Gen("--temperature", "NaN"), "temperature"),
            ("generate --top-k -1", _ => Gen("--top-k", "-1"), "top-k"),
            ("generate --top-p 0", _ => Gen("--top-p", "0"), "top-p"),
            ("generate --top-p 1.5", _ => Gen("--top-p", "1.5"), "top-p"),
            ("generate --repetition-penalty 0", _ => Gen("--repetition-penalty", "0"), "repetition-penalty"),
            ("generate without --prompt", _ => ["generate", "--model", dec], "--prompt"),
            ("generate of an encoder folder", _ => ["generate", "--model", enc, "--prompt", "a"], "config.json"),
            ("quantize --calib 0", d => Quant(d, "--calib", "0"), "--calib"),
            ("quantize --qat --steps 0", d => Quant(d, "--qat", "--steps", "0"), "--steps"),
            ("quantize --fallback-tolerance 2", d => Quant(d, "--fallback-tolerance", "2"), "--fallback-tolerance"),
            ("quantize --observer unknown", d => Quant(d, "--observer", "oracle"), "oracle"),
            ("quantize --mode unknown", d => Quant(d, "--mode", "sometimes"), "sometimes"),
            ("quantize --scheme unknown", d => Quant(d, "--scheme", "log"), "log"),
            ("quantize --learn-ranges unknown", d => Quant(d, "--learn-ranges", "guess"), "guess"),
            ("quantize --qat --mode dynamic", d => Quant(d, "--qat", "--mode", "dynamic"), "--mode dynamic"),
            ("quantize --fallback-metric unknown", d => Quant(d, "--fallback-tolerance", "0.1", "--fallback-metric", "vibes.score"), "vibes.score"),
            ("export --format unknown", d => ["export", "--model", enc, "--format", "tflite", "--out", Path.Combine(d, "x")], "tflite"),
            ("export --dtype F8", d => ["export", "--model", enc, "--format", "safetensors", "--dtype", "F8", "--out", Path.Combine(d, "x")], "F8"),
            ("export onnx-int8 of a folder without INT8", d => ["export", "--model", enc, "--format", "onnx-int8", "--out", Path.Combine(d, "x.onnx")], "student-int8"),
            ("bench --runtime unknown", _ => ["bench", "--model", enc, "--runtime", "tpu"], "tpu"),
            ("bench of an unknown built-in", _ => ["bench", "--model", "builtin:nope", "--runtime", "torch"], "nope"),
            ("bench int8 of a float folder", _ => ["bench", "--model", enc, "--runtime", "int8"], "int8"),
            ("report of a missing folder", d => ["report", Path.Combine(d, "none")], "none"),
            ("report of a folder without a report", d => ["report", d], "report.json"),
            ("fetch of an unknown name", _ => ["fetch", "the-internet"], "the-internet"),
            ("an unknown command", _ => ["distil"], "distil"),
            ("an unknown option", _ => ["embed", "--model", enc, "--colour", "hi"], "--colour"),
            ("run of a missing config", d => ["run", Path.Combine(d, "none.yaml")], "none.yaml"),
        };
        foreach (var (name, args, culprit) in cases)
            yield return Case(Category, name, args, culprit);
        foreach (var (name, set, culprit) in new[]
        {
            ("--set data.max_len=100000", "data.max_len=100000", "data.max_len"),
            ("--set data.max_len=0", "data.max_len=0", "data.max_len"),
            ("--set bench.seq=100000", "bench.seq=100000", "bench.seq"),
            ("--set bench.seq=2", "bench.seq=2", "bench.seq"),
            ("--set stages[9].steps=1", "stages[9].steps=1", "stages[9]"),
            ("--set seed=-1", "seed=-1", "seed"),
            ("--set without '='", "seed", "seed"),
            ("--set student.layers=abc", "student.layers=abc", "student.layers"),
            ("--set dropout=1.5", "dropout=1.5", "dropout"),
        })
            yield return Case(Category, "run " + name, d => [.. Run(m, d), "--set", set], culprit);
        yield return Case(Category, "run --max-steps 0", d => [.. Run(m, d), "--max-steps", "0"], "--max-steps");
        yield return Case(Category, "run --max-steps -5", d => [.. Run(m, d), "--max-steps", "-5"], "--max-steps");
    }

    static string[] Run(RobustnessModels m, string dir)
    {
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, m.EncoderRunYaml());
        return ["run", config, "--out", Path.Combine(dir, "run")];
    }
}
