using System.Text.Json.Nodes;
using DistillSharp.Models;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Models.Decoder.Tokenization;
using DistillSharp.Models.Tokenization;
using DistillSharp.Runtime;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Serving;
using DistillSharp.Serving.Backends;

namespace DistillSharp.Cli.Serving;

/// <summary>
/// Opens what <c>distill serve --model M --runtime R</c> names as a <see cref="ServedModel"/>:
/// <list type="bullet">
/// <item><c>int8</c>: an INT8 encoder folder, an INT8 decoder folder (<c>int8_decoder.json</c>; its
/// tokenizer.json beside it or in the run's <c>student/</c>), or a run folder holding either in <c>student-int8/</c>;</item>
/// <item><c>onnx</c> / <c>onnx-int8</c>: an .onnx file (vocab.txt beside it or in <c>student/</c>), a run
/// folder's <c>student.onnx</c> / <c>student-int8.onnx</c>, or (onnx) <c>builtin:NAME</c>;</item>
/// <item><c>torch</c>: anything <see cref="ModelLoader.Load"/> takes (TorchSharp fp32).</item>
/// </list>
/// </summary>
public static class ServedModels
{
    /// <summary>Runtime names.</summary>
    public static readonly IReadOnlyList<string> Runtimes = ["int8", "onnx", "onnx-int8", "torch"];

    /// <summary>Opens <paramref name="model"/>; a combination that cannot run throws <see cref="DistillSharpException"/>.</summary>
    public static ServedModel Open(string model, string runtime, int threads, int? maxLength = null, int maxContext = 0)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new DistillSharpException("no model given");
        if (threads < 1) throw new DistillSharpException($"threads must be >= 1, got {threads}");
        string id = Id(model);
        return runtime switch
        {
            "int8" => OpenInt8(model, id, threads, maxLength, maxContext),
            "onnx" or "onnx-int8" => OpenOnnx(model, id, runtime, threads, maxLength),
            "torch" => OpenTorch(model, id, threads, maxLength),
            _ => throw new DistillSharpException($"unknown runtime '{runtime}'; known: {string.Join(", ", Runtimes)}"),
        };
    }

    static string Id(string model) =>
        model.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) ? model[8..] : Path.GetFileName(Path.GetFullPath(model).TrimEnd('/'));

    static ServedModel OpenInt8(string model, string id, int threads, int? maxLength, int maxContext)
    {
        string? decoderDir = new[] { model, Path.Combine(model, Int8DecoderFile.RunSubfolder) }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, Int8DecoderFile.RuntimeFile)));
        if (decoderDir is not null)
        {
            string? tokenizerDir = new[] { decoderDir, Path.Combine(decoderDir, "..", "student"), Path.Combine(model, "student") }
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "tokenizer.json")))
                ?? throw new DistillSharpException($"{model}: no tokenizer.json in {decoderDir} or the run's student/ (the completion endpoints need one)");
            var decoder = Int8Decoder.Load(decoderDir, new Int8DecoderOptions(Threads: threads));
            return new ServedModel(id, Completion: new Int8CompletionBackend(decoder, DecoderTokenizer.Load(tokenizerDir), maxContext));
        }
        var encoder = Int8Encoder.Load(model, new Int8EncoderOptions(threads), maxLength);
        var backend = new Int8EmbeddingBackend(encoder);
        return new ServedModel(id, backend.Tokenizer(), backend);
    }

    static ServedModel OpenTorch(string model, string id, int threads, int? maxLength)
    {
        if (Int8EncoderFile.IsFolder(model) || File.Exists(Path.Combine(model, Int8DecoderFile.RuntimeFile)))
            throw new DistillSharpException($"{model} is an INT8 folder; the torch runtime needs fp32 weights (use --runtime int8, or give the run folder)");
        TorchSharp.torch.set_num_threads(threads);
        var encoder = ModelLoader.Load(model, maxLength);
        return new ServedModel(id, new BertTokenizerAdapter(encoder.Tokenizer, encoder.Model.Config.VocabSize), new TorchEmbeddingBackend(encoder));
    }

    static ServedModel OpenOnnx(string model, string id, string runtime, int threads, int? maxLength)
    {
        bool int8 = runtime == "onnx-int8";
        byte[] onnx;
        BertTextTokenizer tokenizer;
        Pooling pooling;
        bool normalize;
        if (model.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) || BuiltinTeachers.All.ContainsKey(model))
        {
            if (int8) throw new DistillSharpException($"built-in teachers ship fp32 ONNX only; use --runtime onnx for '{model}'");
            var teacher = BuiltinTeachers.Get(model);
            (onnx, string vocab) = teacher.ReadResources();
            tokenizer = new BertTextTokenizer(vocab, teacher.LowerCase, maxLength ?? teacher.MaxSeqLength, $"builtin:{teacher.Name} vocab.txt");
            (pooling, normalize) = (teacher.Pooling, teacher.Normalize);
        }
        else
        {
            string file = File.Exists(model) ? model : Path.Combine(model, int8 ? "student-int8.onnx" : "student.onnx");
            if (!File.Exists(file) || !file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new DistillSharpException(
                    $"the {runtime} runtime serves an .onnx file or a run folder with {Path.GetFileName(file)}; '{model}' has none (export it: distill export)");
            string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
            string folder = new[] { dir, Path.Combine(dir, "student") }.FirstOrDefault(d => File.Exists(Path.Combine(d, "vocab.txt")))
                ?? throw new DistillSharpException($"{file}: no vocab.txt beside it or in student/");
            onnx = File.ReadAllBytes(file);
            (tokenizer, pooling, normalize) = SentenceFolder(folder, maxLength);
        }
        var backend = new OnnxEmbeddingBackend(onnx, runtime, pooling == Pooling.Cls ? PoolingMode.Cls : PoolingMode.Mean, normalize, threads);
        return new ServedModel(id, new BertTokenizerAdapter(tokenizer, VocabSize(tokenizer)), backend);
    }

    // Tokenizer, pooling and normalisation of a sentence-transformers folder (as HuggingFaceFolder reads them).
    static (BertTextTokenizer, Pooling, bool) SentenceFolder(string dir, int? maxLength)
    {
        JsonNode? Read(string name) => File.Exists(Path.Combine(dir, name)) ? JsonNode.Parse(File.ReadAllText(Path.Combine(dir, name))) : null;
        bool lower = Read("tokenizer_config.json")?["do_lower_case"]?.GetValue<bool>() ?? true;
        int length = maxLength ?? (int)(Read("sentence_bert_config.json")?["max_seq_length"]?.GetValue<long>() ?? 512);
        var pooling = Read(Path.Combine("1_Pooling", "config.json"))?["pooling_mode_cls_token"]?.GetValue<bool>() == true ? Pooling.Cls : Pooling.Mean;
        string modules = File.Exists(Path.Combine(dir, "modules.json")) ? File.ReadAllText(Path.Combine(dir, "modules.json")) : "Normalize";
        string vocab = Path.Combine(dir, "vocab.txt");
        return (new BertTextTokenizer(File.ReadAllText(vocab), lower, length, vocab), pooling, modules.Contains("Normalize"));
    }

    static int VocabSize(BertTextTokenizer t) => t.VocabSize;
}
