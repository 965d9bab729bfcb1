using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Quantization.Encoder;

/// <summary>
/// Post-training INT8 quantization of a sentence encoder's Linear layers, calibrated on real text,
/// and a quantized copy of the encoder that computes exactly what the INT8 model computes
/// (integer weights and activations, simulated in fp32) — what the INT8 quality numbers are
/// measured on.
/// </summary>
public static class EncoderQuantizer
{
    /// <summary>Quantizes <paramref name="encoder"/>; static modes calibrate on <paramref name="calibrationTexts"/>.</summary>
    public static QuantizedModel Quantize(SentenceEncoder encoder, QuantizeConfig config, IReadOnlyList<string> calibrationTexts, int batchSize = 16)
    {
        var batches = calibrationTexts.Chunk(batchSize).Take(config.CalibBatches)
            .Select(chunk => Pack(encoder.Tokenizer.EncodeBatch(chunk))).ToList();
        try
        {
            encoder.Model.eval();
            using var noGrad = no_grad();
            return new PostTrainingQuantizer(config.ToPtqOptions()).Quantize(encoder.Model, batches, (_, packed) =>
            {
                var (ids, mask) = (packed[0], packed[1]);
                var last = encoder.Model.Forward(ids, mask).LastHiddenState;
                encoder.Model.PoolerOutput(last);                  // so a pooler's Linear is calibrated too
                return last;
            });
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>A copy of the encoder whose Linear layers run the quantized arithmetic.</summary>
    public static SentenceEncoder Simulated(SentenceEncoder encoder, QuantizedModel quantized)
    {
        var copy = new BertEncoderModel(encoder.Model.Config);
        using (no_grad())
            foreach (var (name, p) in copy.state_dict()) p.copy_(encoder.Model.state_dict()[name]);
        QuantizedLinearSimulation.Apply(copy, quantized);
        copy.eval();
        return new SentenceEncoder(copy, encoder.Tokenizer, encoder.Pooling, encoder.Normalize, encoder.Source + " (int8)");
    }

    // ids and mask stacked as (2, B, T), so a calibration batch is one tensor.
    internal static Tensor Pack(TokenBatch batch)
    {
        var (ids, mask, types) = batch.ToTensors();
        types.Dispose();
        var packed = stack([ids, mask]);
        ids.Dispose();
        mask.Dispose();
        return packed;
    }
}
