using DistillSharp.Data;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Quantization.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Tests.Models.Decoder;

namespace DistillSharp.Tests.Robustness;

/// <summary>
/// The tiny, valid models and files every generator corrupts copies of, built once per test class
/// under one temporary root: an encoder Hugging Face folder, its INT8 runtime folder, its ONNX export
/// (with vocab.txt beside it), a Llama-style decoder folder with a BPE tokenizer, a text corpus and
/// run configs that use them.
/// </summary>
public sealed class RobustnessModels : IDisposable
{
    /// <summary>Sentences of the tiny vocabulary, for corpora.</summary>
    public static readonly string[] Sentences = Enumerable.Range(0, 300).Select(i =>
        string.Join(' ', Enumerable.Range(0, 3 + i % 9).Select(j => TinyModels.Words[(i * 5 + j * 7) % 26]))).ToArray();

    public RobustnessModels()
    {
        Root = Directory.CreateTempSubdirectory("distill-robust-").FullName;
        _checkpointRun = new Lazy<string>(MakeCheckpointRun);
        using (var encoder = TinyModels.Encoder(seed: 5))
        {
            HuggingFaceFolder.Save(encoder, EncoderDir);
            var quantized = EncoderQuantizer.Quantize(encoder, new QuantizeConfig { Mode = "dynamic" }, Sentences.Take(32).ToList());
            using (var int8 = EncoderToRuntime.Build(encoder, quantized, threads: 1)) int8.Save(Int8Dir);
            Directory.CreateDirectory(OnnxDir);
            OnnxExporter.ExportFp32(encoder, OnnxPath);
            File.Copy(Path.Combine(EncoderDir, "vocab.txt"), Path.Combine(OnnxDir, "vocab.txt"));
        }
        var tokenizer = BpeTrainer.Train(DecoderTokenizerTests.Glosses, 300, ["<|endoftext|>"]);
        using (var lm = DecoderTestKit.Create(DecoderTestKit.Llama(tokenizer.VocabSize) with { BosTokenId = 0, EosTokenIds = [0] }))
        {
            DecoderFolder.Save(lm, tokenizer, DecoderDir);
            using var int8 = DecoderToRuntime.Build(lm, new Int8DecoderOptions(Threads: 1));
            int8.Save(DecoderInt8Dir);
            tokenizer.Save(DecoderInt8Dir);
        }
        File.WriteAllLines(CorpusPath, Sentences);
    }

    /// <summary>The temporary root (deleted with the fixture).</summary>
    public string Root { get; }
    /// <summary>Encoder Hugging Face folder (config.json, model.safetensors, vocab.txt, …).</summary>
    public string EncoderDir => Path.Combine(Root, "encoder");
    /// <summary>INT8 runtime folder of the same encoder.</summary>
    public string Int8Dir => Path.Combine(Root, "encoder-int8");
    /// <summary>Folder holding model.onnx and vocab.txt.</summary>
    public string OnnxDir => Path.Combine(Root, "onnx");
    /// <summary>The fp32 ONNX export.</summary>
    public string OnnxPath => Path.Combine(OnnxDir, "model.onnx");
    /// <summary>Decoder Hugging Face folder (config.json, model.safetensors, tokenizer.json).</summary>
    public string DecoderDir => Path.Combine(Root, "decoder");
    /// <summary>The decoder's INT8 runtime folder, its tokenizer beside it (what distill serve runs).</summary>
    public string DecoderInt8Dir => Path.Combine(Root, "decoder-int8");
    /// <summary>
    /// A run folder stopped by --max-steps 2 of a 4-step stage (checkpoints/step-00000002 complete),
    /// made by the real CLI on first use; resume it with <see cref="CheckpointRunYaml"/>.
    /// </summary>
    public string CheckpointRun => _checkpointRun.Value;
    /// <summary>The config of <see cref="CheckpointRun"/>.</summary>
    public string CheckpointRunYaml => Path.Combine(Root, "checkpoint-run.yaml");

    readonly Lazy<string> _checkpointRun;

    string MakeCheckpointRun()
    {
        string dir = Path.Combine(Root, "checkpoint-run");
        File.WriteAllText(CheckpointRunYaml, EncoderRunYaml(null, ("    steps:", "    steps: 4\n    checkpoint_every: 1")));
        var r = ChildCli.Run(new CliCall(["run", CheckpointRunYaml, "--out", dir, "--max-steps", "2"]), 300, Root);
        if (r.ExitCode != 0 || !Directory.Exists(Path.Combine(dir, "checkpoints", "step-00000002")))
            throw new InvalidOperationException($"the checkpoint run failed (exit {r.ExitCode}): {r.Error}");
        return dir;
    }

    /// <summary>300 lines of tiny-vocabulary text.</summary>
    public string CorpusPath => Path.Combine(Root, "corpus.txt");

    /// <summary>A copy of <paramref name="source"/> (file or folder) at <paramref name="destination"/>; returns the destination.</summary>
    public static string Copy(string source, string destination)
    {
        if (File.Exists(source))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(source, destination, overwrite: true);
            return destination;
        }
        foreach (string dir in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, dir)));
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)), overwrite: true);
        return destination;
    }

    /// <summary>
    /// A tiny encoder run config over the tiny teacher and corpus; <paramref name="replace"/> swaps
    /// whole lines (matched by their key, e.g. "data:") for bad ones.
    /// </summary>
    public string EncoderRunYaml(string? corpus = null, params (string Key, string Line)[] replace)
    {
        var lines = new List<string>
        {
            $"teacher: {{ source: {EncoderDir} }}",
            "student: { layers: 1, hidden: 32, heads: 4, ffn: 64, init: teacher, teacher_layers: [1] }",
            $"data: {{ corpus: {corpus ?? CorpusPath}, max_len: 32, batch: 8 }}",
            "stages:",
            "  - name: align",
            "    steps: 2",
            "    losses: { hidden_mse: 1.0 }",
            "quantize: { mode: dynamic }",
            "eval: []",
            "bench: { batch: [1], seq: 16, runs: 1 }",
            "seed: 3",
        };
        foreach (var (key, line) in replace)
        {
            int i = lines.FindIndex(l => l.StartsWith(key, StringComparison.Ordinal));
            if (i < 0) lines.Add(line);
            else lines[i] = line;
        }
        return string.Join("\n", lines) + "\n";
    }

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(Root, recursive: true);
}
