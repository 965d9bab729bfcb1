using DistillSharp.Export.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Quantization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Export;

/// <summary>Runs exported graphs with ONNX Runtime and builds the TorchSharp references they are compared with.</summary>
internal static class ExportTestKit
{
    /// <summary>Mixed lengths, so the batch is padded (the 1-word sentence has 3 real tokens of 10).</summary>
    public static readonly string[] TinySentences =
    [
        "the cat sat on the mat .",
        "fish",
        "a big red dog ran fast and the small blue bird was slow",
        "it is not a tree , it is a house",
    ];

    /// <summary>The exported model's two outputs, flattened, for one batch.</summary>
    public static (float[] Hidden, float[] Embedding) RunOrt(byte[] onnx, TokenBatch batch, bool optimize = true)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = 1,
        };
        using var session = new InferenceSession(onnx, options);
        using var results = session.Run(Inputs(batch));
        return (results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray(),
                results.First(r => r.Name == "sentence_embedding").AsTensor<float>().ToArray());
    }

    public static List<NamedOnnxValue> Inputs(TokenBatch batch)
    {
        var dims = new[] { batch.Count, batch.Length };
        DenseTensor<long> T(long[,] a) => new(a.Cast<long>().ToArray(), dims);
        return
        [
            NamedOnnxValue.CreateFromTensor("input_ids", T(batch.InputIds)),
            NamedOnnxValue.CreateFromTensor("attention_mask", T(batch.AttentionMask)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", T(batch.TokenTypeIds)),
        ];
    }

    /// <summary>The op types ORT runs after its graph optimizations (its optimized model, saved and re-read).</summary>
    public static IReadOnlyList<string> OptimizedOpTypes(byte[] onnx)
    {
        string path = Path.Combine(Path.GetTempPath(), $"distillsharp-ort-opt-{Guid.NewGuid():N}.onnx");
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = path };
            using (new InferenceSession(onnx, options)) { }
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Select(n => n.OpType).ToList();
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>TorchSharp's last_hidden_state and sentence embedding for the same batch.</summary>
    public static (float[] Hidden, float[] Embedding) RunTorch(SentenceEncoder encoder, TokenBatch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var output = encoder.Forward(batch);
        return (output.LastHiddenState.contiguous().data<float>().ToArray(), output.Pooled!.contiguous().data<float>().ToArray());
    }

    /// <summary>
    /// Makes <paramref name="encoder"/> compute what the INT8 graph should: its Linears replaced by
    /// <see cref="QuantizedLinearSimulation"/> and (optionally) its word embeddings by their
    /// row-wise int8 dequantized values. Changes the encoder in place.
    /// </summary>
    public static void MakeQuantizedReference(SentenceEncoder encoder, QuantizedModel quantized, bool quantizeWordEmbeddings)
    {
        var graphLayers = OnnxExporter.LinearNames(encoder.Model.Config).ToHashSet();
        QuantizedLinearSimulation.Apply(encoder.Model, quantized, graphLayers);
        if (!quantizeWordEmbeddings) return;
        using var noGrad = no_grad();
        var table = encoder.Model.state_dict()["embeddings.word_embeddings.weight"];
        int rows = (int)table.shape[0], cols = (int)table.shape[1];
        var (q, scales) = EmbeddingQuantizer.Quantize(TensorQuant.ToFloatArray(table), rows, cols);
        using var deq = tensor(EmbeddingQuantizer.Dequantize(q, scales, cols), [rows, cols]);
        table.copy_(deq);
    }

    /// <summary>Post-training quantization of an encoder, calibrated (static mode) on its own tokenized sentences.</summary>
    public static QuantizedModel Quantize(SentenceEncoder encoder, PtqOptions options, IReadOnlyList<string> calibration)
    {
        using var scope = NewDisposeScope();
        // Each calibration "batch" is ids and mask stacked: (2, B, T).
        var batches = calibration.Chunk(4).Select(chunk =>
        {
            var (i, m, _) = encoder.Tokenizer.EncodeBatch(chunk).ToTensors();
            return stack([i, m]);
        }).ToList();
        return new PostTrainingQuantizer(options).Quantize(encoder.Model, batches,
            (module, both) =>
            {
                var model = (BertEncoderModel)module;
                var hidden = model.Forward(both[0], both[1]).LastHiddenState;
                return model.PoolerOutput(hidden) ?? hidden;                   // reaches pooler.dense too
            });
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    /// <summary>Cosine similarity of each row of two (rows, h) matrices.</summary>
    public static double[] RowCosines(float[] a, float[] b, int h)
    {
        var result = new double[a.Length / h];
        for (int r = 0; r < result.Length; r++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < h; j++)
            {
                double x = a[r * h + j], y = b[r * h + j];
                dot += x * y; na += x * x; nb += y * y;
            }
            result[r] = dot / Math.Sqrt(na * nb);
        }
        return result;
    }

    /// <summary>‖a − b‖ / ‖b‖ over the real (unpadded) tokens of a (B, T, H) hidden state.</summary>
    public static double RelativeError(float[] a, float[] b, TokenBatch batch, int h)
    {
        double num = 0, den = 0;
        for (int i = 0; i < batch.Count; i++)
            for (int t = 0; t < batch.Length; t++)
            {
                if (batch.AttentionMask[i, t] == 0) continue;
                for (int j = 0; j < h; j++)
                {
                    int k = (i * batch.Length + t) * h + j;
                    num += (a[k] - b[k]) * (double)(a[k] - b[k]);
                    den += b[k] * (double)b[k];
                }
            }
        return Math.Sqrt(num / den);
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "distillsharp-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
