using DistillSharp.Runtime.Formats;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Serving.Backends;
using DistillSharp.Serving.Generation;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Serving;

/// <summary>
/// Opens saved models as a <see cref="ServedModel"/> without libtorch (what a deployment needs):
/// <list type="bullet">
/// <item><see cref="OpenInt8"/>: an INT8 encoder folder, an INT8 decoder folder (<c>int8_decoder.json</c>;
/// tokenizer.json beside it or in the run's <c>student/</c>), or a run folder holding either in <c>student-int8/</c>;</item>
/// <item><see cref="OpenOnnx"/>: an .onnx encoder (vocab.txt beside it or in <c>student/</c>) or a run
/// folder's <c>student.onnx</c> / <c>student-int8.onnx</c>, run by ONNX Runtime.</item>
/// </list>
/// </summary>
public static class RuntimeModels
{
    /// <summary>The model's name in responses: the folder or file name.</summary>
    public static string Id(string model) => Path.GetFileName(Path.GetFullPath(model).TrimEnd('/'));

    /// <summary>
    /// The INT8 runtime of <paramref name="model"/> on <paramref name="threads"/> threads;
    /// <paramref name="maxLength"/> overrides an encoder's longest input, <paramref name="maxContext"/>
    /// caps a decoder's sequence length (0 = the model's).
    /// </summary>
    public static ServedModel OpenInt8(string model, int threads, int? maxLength = null, int maxContext = 0)
    {
        string? decoderDir = new[] { model, Path.Combine(model, Int8DecoderFile.RunSubfolder) }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, Int8DecoderFile.RuntimeFile)));
        if (decoderDir is not null)
        {
            string tokenizerDir = new[] { decoderDir, Path.Combine(decoderDir, "..", "student"), Path.Combine(model, "student") }
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "tokenizer.json")))
                ?? throw new DistillSharpException($"{model}: no tokenizer.json in {decoderDir} or the run's student/ (the completion endpoints need one)");
            var tokenizer = DecoderTokenizer.Load(tokenizerDir);
            var decoder = Int8Decoder.Load(decoderDir, new Int8DecoderOptions(Threads: threads));
            return new ServedModel(Id(model), Completion: new Int8CompletionBackend(decoder, tokenizer, maxContext));
        }
        var encoder = Int8Encoder.Load(model, new Int8EncoderOptions(threads), maxLength);
        var backend = new Int8EmbeddingBackend(encoder);
        return new ServedModel(Id(model), backend.Tokenizer(), backend);
    }

    /// <summary>
    /// <paramref name="model"/> (an .onnx file or a run folder) in ONNX Runtime; <paramref name="int8"/>
    /// picks a run folder's <c>student-int8.onnx</c> and names the runtime <c>onnx-int8</c>.
    /// </summary>
    public static ServedModel OpenOnnx(string model, bool int8, int threads, int? maxLength = null)
    {
        string runtime = int8 ? "onnx-int8" : "onnx";
        string file = File.Exists(model) ? model : Path.Combine(model, int8 ? "student-int8.onnx" : "student.onnx");
        if (!File.Exists(file) || !file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new DistillSharpException(
                $"the {runtime} runtime serves an .onnx file or a run folder with {Path.GetFileName(file)}; '{model}' has none (export it: distill export)");
        string dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        string folder = new[] { dir, Path.Combine(dir, "student") }.FirstOrDefault(d => File.Exists(Path.Combine(d, "vocab.txt")))
            ?? throw new DistillSharpException($"{file}: no vocab.txt beside it or in student/");
        var (tokenizer, pooling, normalize) = SentenceFolder(folder, maxLength);
        byte[] bytes = InputFile.ReadBytes(file, InputFile.ProtobufBytes, "ONNX");
        try
        {
            return Onnx(Id(model), bytes, runtime, tokenizer, pooling, normalize, threads);
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ArgumentException)
        {
            throw new DistillSharpException($"{file}: not a servable ONNX encoder ({e.Message.Split('\n')[0].Trim()})");
        }
    }

    /// <summary>An ONNX encoder with its tokenizer and sentence-transformers settings.</summary>
    public static ServedModel Onnx(string id, byte[] onnx, string runtime, BertTextTokenizer tokenizer, Pooling pooling, bool normalize, int threads) =>
        new(id, new BertTokenizerAdapter(tokenizer, tokenizer.VocabSize), new OnnxEmbeddingBackend(onnx, runtime, pooling, normalize, threads));

    /// <summary>
    /// Tokenizer, pooling and normalisation of a sentence-transformers folder: vocab.txt,
    /// tokenizer_config.json (do_lower_case), sentence_bert_config.json (max_seq_length),
    /// 1_Pooling/config.json and modules.json (a Normalize module; normalised when modules.json is absent).
    /// </summary>
    public static (BertTextTokenizer Tokenizer, Pooling Pooling, bool Normalize) SentenceFolder(string dir, int? maxLength)
    {
        // Every file through the input-file discipline (size-capped, UTF-8, typed keys).
        (JsonObject? O, string Path) Read(string name)
        {
            string path = System.IO.Path.Combine(dir, name);
            return (File.Exists(path) ? InputFile.ReadJsonObject(path, name) : null, path);
        }
        var tok = Read("tokenizer_config.json");
        bool lower = tok.O is null || JsonKeys.Bool(tok.O, "do_lower_case", tok.Path) != false;
        var st = Read("sentence_bert_config.json");
        int length = maxLength ?? (st.O is null ? null : JsonKeys.Int(st.O, "max_seq_length", st.Path)) ?? 512;
        var pool = Read(System.IO.Path.Combine("1_Pooling", "config.json"));
        var pooling = pool.O is not null && JsonKeys.Bool(pool.O, "pooling_mode_cls_token", pool.Path) == true ? Pooling.Cls : Pooling.Mean;
        string modules = System.IO.Path.Combine(dir, "modules.json");
        bool normalize = !File.Exists(modules) || InputFile.ReadText(modules, InputFile.ConfigBytes, "modules.json").Contains("sentence_transformers.models.Normalize");
        string vocab = System.IO.Path.Combine(dir, "vocab.txt");
        return (new BertTextTokenizer(InputFile.ReadText(vocab, InputFile.ConfigBytes, "vocab.txt"), lower, length, vocab), pooling, normalize);
    }
}
