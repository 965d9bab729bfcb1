using DistillSharp.Data.Decoder;
using DistillSharp.Evaluation.Decoder;
using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Benchmarks.Decoder;
using Xunit.Abstractions;
using static DistillSharp.Tests.Runtime.Decoder.TinyDecoders;
using static TorchSharp.torch;
using DistillSharp.Quantization.Decoder;

namespace DistillSharp.Tests.Runtime.Decoder;

public sealed class Int8DecoderFileTests(ITestOutputHelper log) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("int8dec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<bool, bool, bool> Layouts => new()
    {
        { true, true, false },   // tied, int8 embeddings = the int8 lm_head's rows (stored once)
        { false, true, false },  // untied, own int8 table
        { true, false, true },   // tied, fp32 embeddings, fp32 lm_head
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Save_then_load_gives_the_same_logits(bool tied, bool int8Embeddings, bool lmHeadFp32)
    {
        using var model = Model(TinyConfig(tied: tied));
        var options = new Int8DecoderOptions(Int8Embeddings: int8Embeddings, LmHeadFp32: lmHeadFp32);
        using var decoder = DecoderToRuntime.Build(model, options);
        decoder.Save(_dir);
        using var loaded = Int8Decoder.Load(_dir, options);
        int[] ids = Tokens(11, 9);
        Assert.Equal(decoder.Logits(ids), loaded.Logits(ids));
        Assert.Equal(decoder.ModelBytes, loaded.ModelBytes);
        Assert.Equal(int8Embeddings && !tied, File.Exists(Path.Combine(_dir, "int8_embeddings.safetensors")));
        log.WriteLine($"tied {tied}, int8 embeddings {int8Embeddings}, fp32 head {lmHeadFp32}: files {Int8DecoderFile.Bytes(_dir)} B, fp32 params {model.ParameterCount * 4} B");
    }

    [Fact]
    public void Loading_a_foreign_folder_names_the_missing_marker()
    {
        var e = Assert.Throws<DistillSharpException>(() => Int8Decoder.Load(_dir));
        Assert.Contains("int8_decoder.json", e.Message);
    }

    [Fact]
    public void Perplexity_adapter_matches_row_by_row_logits_and_fp32_perplexity()
    {
        using var model = Model();
        using var decoder = DecoderToRuntime.Build(model);
        // Two rows of T = 8; row 1 is right-padded after 5 tokens (as LmBatch pads).
        int t = 8;
        int[] a = Tokens(12, 9), b = Tokens(13, 6);
        long[] ids = new long[2 * t], targets = new long[2 * t], mask = new long[2 * t], loss = new long[2 * t];
        for (int j = 0; j < t; j++) { ids[j] = a[j]; targets[j] = a[j + 1]; mask[j] = loss[j] = 1; }
        for (int j = 0; j < 5; j++) { ids[t + j] = b[j]; targets[t + j] = b[j + 1]; mask[t + j] = loss[t + j] = 1; }
        var batch = new LmBatch(2, t, ids, targets, mask, loss, [0, 1]);
        var logits = Int8DecoderPerplexity.Logits(decoder);
        using (var scope = NewDisposeScope())
        {
            var all = logits(batch.InputTensor(), batch.AttentionTensor());
            Assert.Equal([2L, t, 96], all.shape);
            var row1 = all[1].narrow(0, 0, 5).contiguous().data<float>().ToArray();
            Assert.Equal(decoder.Logits(b[..5]), row1);
        }
        var int8 = Perplexity.Evaluate(logits, [batch]);
        var fp32 = Perplexity.Evaluate((i, m) => model.Forward(i, m).Logits, [batch]);
        log.WriteLine($"perplexity int8 {int8.Perplexity:F4}, fp32 {fp32.Perplexity:F4} over {int8.Tokens} tokens");
        Assert.Equal(13, int8.Tokens);
        Assert.InRange(int8.Perplexity / fp32.Perplexity, 0.95, 1.05);
    }

    [Fact]
    public void Bench_target_is_registered_and_runs_prefill_and_decode()
    {
        using var model = Model();
        string folder = Path.Combine(_dir, "student");
        DecoderFolder.Save(model, null, folder);
        Assert.Contains("student_int8", DecoderBenchRuntimes.Student.Keys);
        using var target = DecoderBenchRuntimes.Student["student_int8"](folder, 1);
        Assert.Equal("distillsharp-int8", target.Runtime);
        var speeds = DecoderSpeedBench.Measure(target, new LmBenchConfig([1, 2], PromptTokens: 6, NewTokens: 4, Runs: 1), Tokens(14, 20));
        Assert.Equal([1, 2], speeds.Select(s => s.Batch));
        Assert.All(speeds, s => Assert.True(s.PrefillTokensPerSecond > 0 && s.DecodeTokensPerSecond > 0));
    }
}
