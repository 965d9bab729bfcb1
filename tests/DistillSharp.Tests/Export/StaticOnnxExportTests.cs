using DistillSharp.Export.Encoder;
using DistillSharp.Models.Static;
using DistillSharp.Runtime.Static;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DistillSharp.Tests.Export;

/// <summary>The static student's ONNX graph (Gather + pooling) against the C# runtime, run by ONNX Runtime.</summary>
public sealed class StaticOnnxExportTests
{
    static float[] RunOrt(byte[] onnx, DistillSharp.Runtime.Tokenization.TokenBatch batch)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        var dims = new[] { batch.Count, batch.Length };
        DenseTensor<long> T(long[,] a) => new(a.Cast<long>().ToArray(), dims);
        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor("input_ids", T(batch.InputIds)),
            NamedOnnxValue.CreateFromTensor("attention_mask", T(batch.AttentionMask)),
        ]);
        return Assert.Single(results).AsTensor<float>().ToArray();
    }

    [Fact]
    public void OnnxRuntimeGivesTheRuntimesEmbeddingsOnAPaddedBatch()
    {
        using var teacher = TinyModels.Encoder(seed: 8);
        var encoder = StaticStudentBuilder.Build(teacher, new StaticBuildOptions(Dims: 12, MaxLength: 32)).Encoder;
        var model = StaticOnnxExporter.Build(encoder);
        Assert.Equal(["Gather", "Cast", "Cast", "Gather", "Mul", "Unsqueeze", "Mul", "ReduceSum"], model.Graph.Node.Take(8).Select(n => n.OpType));
        Assert.Equal((int)Onnx.TensorProto.Types.DataType.Int8, model.Graph.Initializer.First(i => i.Name == "embeddings").DataType);
        string[] texts = [.. ExportTestKit.TinySentences, ""];
        var batch = encoder.Tokenizer.EncodeBatch(texts);
        var ort = RunOrt(model.ToByteArray(), batch);
        var expected = encoder.Embed(texts).SelectMany(v => v).ToArray();
        Assert.Equal(expected.Length, ort.Length);
        for (int i = 0; i < ort.Length; i++) Assert.True(Math.Abs(ort[i] - expected[i]) < 1e-6, $"value {i}: ORT {ort[i]}, runtime {expected[i]}");
        // Un-normalised encoders export the mean (divided by the counted tokens).
        var raw = new StaticEncoder(encoder.Tokenizer, encoder.Table, normalize: false);
        var ortRaw = RunOrt(StaticOnnxExporter.Build(raw).ToByteArray(), batch);
        var expectedRaw = raw.Embed(texts).SelectMany(v => v).ToArray();
        for (int i = 0; i < ortRaw.Length; i++) Assert.True(Math.Abs(ortRaw[i] - expectedRaw[i]) < 1e-5, $"raw value {i}: ORT {ortRaw[i]}, runtime {expectedRaw[i]}");
    }
}
