using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Quantization.Encoder;

/// <summary>
/// From a TorchSharp <see cref="SentenceEncoder"/> to the INT8 runtime (which does not know
/// libtorch): the runtime's weights, the runtime itself, and loading of INT8 folders that older
/// pipeline runs left half in TorchSharp form.
/// </summary>
public static class EncoderToRuntime
{
    /// <summary>
    /// Copies what the runtime needs out of a TorchSharp encoder: every float tensor except the
    /// quantized Linears (their int8 weights and biases live in <paramref name="quantized"/>), the
    /// pooler (sentence pooling does not use it) and buffers.
    /// </summary>
    public static Int8EncoderWeights Weights(SentenceEncoder encoder, QuantizedModel quantized)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(quantized);
        var skip = quantized.Layers.Keys.SelectMany(n => new[] { n + ".weight", n + ".bias" }).ToHashSet();
        var fp32 = new Dictionary<string, FloatTensor>();
        using (var scope = NewDisposeScope())
            foreach (var (name, t) in encoder.Model.state_dict())
            {
                if (skip.Contains(name) || name.StartsWith("pooler.", StringComparison.Ordinal) || name == "embeddings.position_ids") continue;
                fp32[name] = ToFloat(t);
            }
        return new Int8EncoderWeights(encoder.Model.Config, fp32, quantized, encoder.Tokenizer, encoder.Pooling, encoder.Normalize,
            encoder.Source + " (int8 runtime)").Validate();
    }

    /// <summary>The runtime of <paramref name="encoder"/> quantized as <paramref name="quantized"/>.</summary>
    public static Int8Encoder Build(SentenceEncoder encoder, QuantizedModel quantized, Int8EncoderOptions? options = null) =>
        new(Weights(encoder, quantized), options);

    /// <summary>The runtime of <paramref name="encoder"/> quantized as <paramref name="quantized"/>, on <paramref name="threads"/> threads.</summary>
    public static Int8Encoder Build(SentenceEncoder encoder, QuantizedModel quantized, int threads) =>
        Build(encoder, quantized, new Int8EncoderOptions(threads));

    /// <summary>
    /// <see cref="Int8EncoderFile.Load"/>, and also a run folder whose <c>student-int8/</c> holds only
    /// <c>quantized.safetensors</c> (older pipeline runs): that one is combined with the run's
    /// <c>student/</c> Hugging Face folder.
    /// </summary>
    public static Int8EncoderWeights Load(string path, int? maxLength = null)
    {
        string quantized = Path.Combine(path, Int8EncoderFile.RunSubfolder, Int8EncoderFile.QuantizedFile), student = Path.Combine(path, "student");
        if (!Int8EncoderFile.IsFolder(path) && !Int8EncoderFile.IsFolder(Path.Combine(path, Int8EncoderFile.RunSubfolder))
            && File.Exists(quantized) && HuggingFaceFolder.IsModelFolder(student))
        {
            using var encoder = HuggingFaceFolder.Load(student, maxLength);
            return Weights(encoder, QuantizedModelFile.Load(quantized));
        }
        return Int8EncoderFile.Load(path, maxLength);
    }

    /// <summary>A tensor's values as the runtime stores them (float32, row-major).</summary>
    internal static FloatTensor ToFloat(Tensor t)
    {
        using var f = t.detach().to_type(ScalarType.Float32).contiguous();
        return new FloatTensor(f.data<float>().ToArray(), t.shape.ToArray());
    }
}
