using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Formats;
using System.Text.Json.Nodes;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Benchmarks.Encoder;

/// <summary>A model opened in one runtime, ready to be timed: a forward call, its tokenizer and what it weighs on disk.</summary>
/// <param name="Runtime">Registry name of the runtime.</param>
/// <param name="Path">The file or folder that was loaded.</param>
/// <param name="ModelBytes">Bytes of the model files.</param>
/// <param name="Tokenizer">Tokenizer that builds the input batches.</param>
/// <param name="Run">One forward pass of a batch (outputs dropped).</param>
/// <param name="Owned">What to dispose afterwards.</param>
/// <param name="WorkingBytes">Memory one forward pass of (batch, seq) needs at most, inputs included.</param>
public sealed record BenchTarget(string Runtime, string Path, long ModelBytes, BertTextTokenizer Tokenizer, Action<TokenBatch> Run, IDisposable Owned,
    Func<int, int, long> WorkingBytes)
    : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Owned.Dispose();
}

/// <summary>
/// Opens a model (<c>builtin:NAME</c>, an .onnx file, a Hugging Face folder, a run folder or an INT8
/// encoder folder) in a runtime: <c>torch</c> (TorchSharp fp32), <c>int8</c> (our
/// <see cref="Int8Encoder"/>), <c>onnx</c> (ONNX Runtime fp32) or <c>onnx-int8</c> (ONNX Runtime on
/// the INT8 export). A run folder means its student: <c>student/</c>, <c>student-int8/</c>,
/// <c>student.onnx</c>, <c>student-int8.onnx</c>.
/// </summary>
public static class BenchTargets
{
    /// <summary>Runtime name → opener (model spec, max sequence length, threads, fused kernels).</summary>
    public static readonly IReadOnlyDictionary<string, Func<string, int, int, bool, BenchTarget>> Runtimes =
        new Dictionary<string, Func<string, int, int, bool, BenchTarget>>
        {
            ["torch"] = OpenTorch,
            ["int8"] = OpenInt8,
            ["onnx"] = (m, seq, threads, _) => OpenOnnx(m, seq, threads, int8: false),
            ["onnx-int8"] = (m, seq, threads, _) => OpenOnnx(m, seq, threads, int8: true),
        };

    /// <summary>Opens <paramref name="model"/> in <paramref name="runtime"/>; a combination that cannot run throws <see cref="DistillSharpException"/>.</summary>
    public static BenchTarget Open(string model, string runtime, int seq, int threads, bool fuse = true)
    {
        if (!Runtimes.TryGetValue(runtime, out var open))
            throw new DistillSharpException($"unknown runtime '{runtime}'; known: {string.Join(", ", Runtimes.Keys)}");
        if (seq < 1) throw new DistillSharpException($"sequence length must be >= 1, got {seq}");
        if (threads < 1) throw new DistillSharpException($"threads must be >= 1, got {threads}");
        return open(model, seq, threads, fuse);
    }

    static bool IsBuiltin(string m) => m.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) || BuiltinTeachers.All.ContainsKey(m);
    static bool IsOnnxFile(string m) => File.Exists(m) && m.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
    static bool IsRunFolder(string m) => Directory.Exists(m) && !HuggingFaceFolder.IsModelFolder(m) && !Int8EncoderFile.IsFolder(m);

    static BenchTarget OpenTorch(string model, int seq, int threads, bool fuse)
    {
        if (Int8EncoderFile.IsFolder(model))
            throw new DistillSharpException($"{model} is an INT8 encoder folder; the torch runtime needs fp32 weights (use --runtime int8, or give the run folder)");
        TorchSharp.torch.set_num_threads(threads);
        var encoder = ModelLoader.Load(model, seq);
        long bytes = IsBuiltin(model) ? BuiltinTeachers.Get(model).ReadResources().Onnx.LongLength
            : IsOnnxFile(model) ? new FileInfo(model).Length
            : FileBytes(HuggingFaceFolder.IsModelFolder(model) ? model : System.IO.Path.Combine(model, "student"), "model.safetensors");
        return new BenchTarget("torch", encoder.Source, bytes, encoder.Tokenizer, EncoderSpeed.TorchForward(encoder), encoder,
            (b, s) => encoder.Model.Config.InferenceBytes(b, s));
    }

    static BenchTarget OpenInt8(string model, int seq, int threads, bool fuse)
    {
        if (IsBuiltin(model) || IsOnnxFile(model) || HuggingFaceFolder.IsModelFolder(model))
            throw new DistillSharpException(
                $"the int8 runtime runs an INT8 encoder folder or a run folder with {Int8EncoderFile.RunSubfolder}/; '{model}' is " +
                $"{(IsBuiltin(model) ? "a built-in teacher" : IsOnnxFile(model) ? "an ONNX file" : "a float Hugging Face folder")} (quantize it first: distill run)");
        var encoder = new Int8Encoder(EncoderToRuntime.Load(model, seq), new Int8EncoderOptions(threads, fuse));
        string folder = Int8EncoderFile.IsFolder(model) ? model : System.IO.Path.Combine(model, Int8EncoderFile.RunSubfolder);
        long bytes = Int8EncoderFile.IsFolder(folder) ? Int8EncoderFile.Bytes(folder)
            : FileBytes(folder, Int8EncoderFile.QuantizedFile) + FileBytes(System.IO.Path.Combine(model, "student"), "model.safetensors");
        return new BenchTarget("int8", folder, bytes, encoder.Tokenizer, encoder.Runner(), encoder,
            (b, s) => encoder.WorkspaceBytes(b, s) + 3L * sizeof(long) * b * s);
    }

    static BenchTarget OpenOnnx(string model, int seq, int threads, bool int8)
    {
        string runtime = int8 ? "onnx-int8" : "onnx";
        byte[]? onnx = null;
        string path;
        BertTextTokenizer tokenizer;
        if (IsBuiltin(model))
        {
            if (int8) throw new DistillSharpException($"built-in teachers ship fp32 ONNX only; use --runtime onnx for '{model}', or quantize a student first");
            var teacher = BuiltinTeachers.Get(model);
            (onnx, string vocab) = teacher.ReadResources();
            path = $"builtin:{teacher.Name}";
            tokenizer = new BertTextTokenizer(vocab, teacher.LowerCase, seq, path + " vocab.txt");
        }
        else if (IsOnnxFile(model))
        {
            path = model;
            tokenizer = TokenizerIn(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(model))!, seq, model);
        }
        else if (IsRunFolder(model))
        {
            path = System.IO.Path.Combine(model, int8 ? "student-int8.onnx" : "student.onnx");
            if (!File.Exists(path)) throw new DistillSharpException($"{model}: no {System.IO.Path.GetFileName(path)} in the run folder (the pipeline's export step writes it)");
            tokenizer = TokenizerIn(System.IO.Path.Combine(model, "student"), seq, model);
        }
        else
        {
            throw new DistillSharpException(
                $"the {runtime} runtime runs an .onnx file, a run folder with {(int8 ? "student-int8.onnx" : "student.onnx")}" +
                $"{(int8 ? "" : " or builtin:NAME")}; '{model}' is {(Directory.Exists(model) ? "a model folder without ONNX" : "not found")} (export it: distill export)");
        }
        var session = onnx is null ? new OnnxRuntimeEncoder(path, threads: threads) : new OnnxRuntimeEncoder(onnx, threads: threads);
        if (session.EmbeddingRows is { } rows && tokenizer.VocabSize > rows)
        {
            session.Dispose();
            throw new DistillSharpException($"{path}: the vocabulary has {tokenizer.VocabSize:N0} tokens but the graph's word embedding only {rows:N0} rows");
        }
        return new BenchTarget(runtime, path, onnx?.LongLength ?? OnnxModelFile.Bytes(path), tokenizer, session.RunDiscard, session, session.InferenceBytes);
    }

    // vocab.txt (+ tokenizer_config.json's do_lower_case) of a folder.
    static BertTextTokenizer TokenizerIn(string dir, int seq, string model)
    {
        string vocab = System.IO.Path.Combine(dir, "vocab.txt");
        if (!File.Exists(vocab)) throw new DistillSharpException($"{model}: no vocab.txt in {dir} for the tokenizer");
        string config = System.IO.Path.Combine(dir, "tokenizer_config.json");
        bool lower = !File.Exists(config) || JsonKeys.Bool(InputFile.ReadJsonObject(config, "tokenizer_config.json"), "do_lower_case", config) != false;
        return new BertTextTokenizer(InputFile.ReadText(vocab, InputFile.ConfigBytes, "vocab.txt"), lower, seq, vocab);
    }

    static long FileBytes(string dir, string name)
    {
        string path = System.IO.Path.Combine(dir, name);
        return File.Exists(path) ? new FileInfo(path).Length : 0;
    }
}
