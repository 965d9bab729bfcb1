using DistillSharp.Models.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Serving;
using DistillSharp.Serving.Backends;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Cli.Serving;

/// <summary>
/// What <c>distill serve --model M --runtime R</c> opens: <c>int8</c> and <c>onnx</c>/<c>onnx-int8</c>
/// through <see cref="RuntimeModels"/> (no libtorch), plus what needs the training side: the
/// built-in teachers' ONNX (<c>onnx</c>) and TorchSharp fp32 (<c>torch</c>, anything
/// <see cref="ModelLoader.Load"/> takes).
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
        bool builtin = model.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) || BuiltinTeachers.All.ContainsKey(model);
        return runtime switch
        {
            "int8" when builtin => throw new DistillSharpException($"the int8 runtime serves an INT8 folder or a run folder; '{model}' is a built-in teacher (use --runtime onnx or torch)"),
            "int8" when IsOlderRunFolder(model) => OpenOlderInt8(model, threads, maxLength),
            "int8" => RuntimeModels.OpenInt8(model, threads, maxLength, maxContext),
            "onnx" when builtin => OpenBuiltinOnnx(model, threads, maxLength),
            "onnx-int8" when builtin => throw new DistillSharpException($"built-in teachers ship fp32 ONNX only; use --runtime onnx for '{model}'"),
            "onnx" or "onnx-int8" => RuntimeModels.OpenOnnx(model, runtime == "onnx-int8", threads, maxLength),
            "torch" => OpenTorch(model, threads, maxLength),
            _ => throw new DistillSharpException($"unknown runtime '{runtime}'; known: {string.Join(", ", Runtimes)}"),
        };
    }

    // A run made before the INT8 runtime folder existed: student-int8/ holds only quantized.safetensors.
    static bool IsOlderRunFolder(string model) =>
        File.Exists(Path.Combine(model, Int8EncoderFile.RunSubfolder, Int8EncoderFile.QuantizedFile)) &&
        !Int8EncoderFile.IsFolder(Path.Combine(model, Int8EncoderFile.RunSubfolder)) &&
        !File.Exists(Path.Combine(model, Int8DecoderFile.RunSubfolder, Int8DecoderFile.RuntimeFile));

    // Combines it with the run's student/ (this needs TorchSharp, hence the CLI side).
    static ServedModel OpenOlderInt8(string model, int threads, int? maxLength)
    {
        var backend = new Int8EmbeddingBackend(new Int8Encoder(EncoderToRuntime.Load(model, maxLength), new Int8EncoderOptions(threads)));
        return new ServedModel(RuntimeModels.Id(model), backend.Tokenizer(), backend);
    }

    static ServedModel OpenBuiltinOnnx(string model, int threads, int? maxLength)
    {
        var teacher = BuiltinTeachers.Get(model);
        var (onnx, vocab) = teacher.ReadResources();
        var tokenizer = new BertTextTokenizer(vocab, teacher.LowerCase, maxLength ?? teacher.MaxSeqLength, $"builtin:{teacher.Name} vocab.txt");
        return RuntimeModels.Onnx(teacher.Name, onnx, "onnx", tokenizer, teacher.Pooling, teacher.Normalize, threads);
    }

    static ServedModel OpenTorch(string model, int threads, int? maxLength)
    {
        if (Int8EncoderFile.IsFolder(model) || File.Exists(Path.Combine(model, Int8DecoderFile.RuntimeFile)))
            throw new DistillSharpException($"{model} is an INT8 folder; the torch runtime needs fp32 weights (use --runtime int8, or give the run folder)");
        TorchSharp.torch.set_num_threads(threads);
        var encoder = ModelLoader.Load(model, maxLength);
        string id = model.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) ? model[8..] : RuntimeModels.Id(model);
        return new ServedModel(id, new BertTokenizerAdapter(encoder.Tokenizer, encoder.Model.Config.VocabSize), new TorchEmbeddingBackend(encoder));
    }
}
