using DistillSharp.Runtime.Decoder;
using Xunit.Abstractions;
using static DistillSharp.Tests.Runtime.Decoder.TinyDecoders;
using DistillSharp.Quantization.Decoder;

namespace DistillSharp.Tests.Runtime.Decoder;

public sealed class Int8DecoderTests(ITestOutputHelper log)
{
    // Tolerances (logits of the tiny model are O(1..5)):
    // - runtime vs the fake-quant torch reference: the quantized integers are the same (same float
    //   min/max, scale and x·(1/s) rounding), only the summation order differs (exact int32 dot
    //   products vs fp32 matmul; our softmax/RMSNorm): measured 1.2e-6.
    const float FakeQuantTolerance = 1e-4f;
    // - weight-only runtime vs torch with the same dequantized weights: fp32 vs fp32.
    const float WeightOnlyTolerance = 1e-4f;

    [Fact]
    public void Logits_match_the_fake_quant_reference_and_stay_close_to_fp32()
    {
        using var model = Model();
        int[] ids = Tokens(1, 20);
        var fp32 = Fp32Logits(model, ids);
        using var decoder = DecoderToRuntime.Build(model);
        var reference = Reference(model, decoder.Weights, quantizeInput: true)(ids);
        var actual = decoder.Logits(ids);
        float vsRef = MaxAbsDiff(actual, reference), vsFp32 = MaxAbsDiff(actual, fp32);
        int v = decoder.Config.VocabSize, agree = 0;
        for (int t = 0; t < ids.Length; t++)
            if (ArgMax(actual.AsSpan(t * v, v)) == ArgMax(fp32.AsSpan(t * v, v))) agree++;
        log.WriteLine($"max |int8 − fake-quant torch| = {vsRef:E2}; max |int8 − fp32| = {vsFp32:E2}; " +
            $"max |fp32| = {fp32.Max(MathF.Abs):F2}; top-1 agreement with fp32 {agree}/{ids.Length}");
        Assert.True(vsRef < FakeQuantTolerance, $"int8 vs fake-quant reference {vsRef}");
        Assert.True(vsFp32 < 0.25f, $"int8 vs fp32 {vsFp32}");
        Assert.True(agree >= ids.Length - 2, $"top-1 agreement {agree}/{ids.Length}");
    }

    [Fact]
    public void Weight_only_matches_torch_with_dequantized_weights()
    {
        using var model = Model(TinyConfig(tied: false, type: "qwen2"));
        int[] ids = Tokens(2, 16);
        using var decoder = DecoderToRuntime.Build(model, new Int8DecoderOptions(Mode: Int8DecoderMode.WeightOnly, Int8Embeddings: false));
        var reference = Reference(model, decoder.Weights, quantizeInput: false)(ids);
        float diff = MaxAbsDiff(decoder.Logits(ids), reference);
        log.WriteLine($"weight-only qwen2 (q/k/v bias, untied): max |runtime − torch| = {diff:E2}");
        Assert.True(diff < WeightOnlyTolerance, $"{diff}");
        Assert.Empty(decoder.Int8Layers);
    }

    public static TheoryData<string> Scalings => new() { "linear", "dynamic", "llama3", "yarn", "mistral-window" };

    [Theory]
    [MemberData(nameof(Scalings))]
    public void Rope_scaling_and_sliding_window_follow_the_torch_model(string variant)
    {
        var config = variant == "mistral-window"
            ? TinyConfig(type: "mistral", window: 5)
            : TinyConfig(scaling: new RopeScaling { Type = variant, Factor = 4, OriginalMaxPositions = 8 });
        using var model = Model(config);
        int[] ids = Tokens(3, 14);                                      // past original_max_position_embeddings = 8
        using var decoder = DecoderToRuntime.Build(model, new Int8DecoderOptions(Mode: Int8DecoderMode.WeightOnly, Int8Embeddings: false));
        var reference = Reference(model, decoder.Weights, quantizeInput: false)(ids);
        float diff = MaxAbsDiff(decoder.Logits(ids), reference);
        log.WriteLine($"{variant}: max |runtime − torch| = {diff:E2}");
        Assert.True(diff < WeightOnlyTolerance, $"{variant}: {diff}");
    }

    [Fact]
    public void Decode_with_cache_equals_full_recompute_for_unequal_prompts()
    {
        using var model = Model();
        using var decoder = DecoderToRuntime.Build(model, new Int8DecoderOptions(Threads: 2));
        int[][] prompts = [Tokens(4, 7), Tokens(5, 3), Tokens(6, 11)];
        var session = decoder.NewSession(3, 20);
        int v = decoder.Config.VocabSize;
        var sequences = prompts.Select(p => p.ToList()).ToArray();
        var logits = decoder.Prefill(session, prompts).ToArray();
        float worst = 0;
        for (int step = 0; step <= 4; step++)
        {
            for (int b = 0; b < 3; b++)
            {
                var full = decoder.Logits(sequences[b].ToArray());
                worst = MathF.Max(worst, MaxAbsDiff(logits.AsSpan(b * v, v), full.AsSpan(full.Length - v, v)));
            }
            if (step == 4) break;
            var next = Enumerable.Range(0, 3).Select(b => ArgMax(logits.AsSpan(b * v, v))).ToArray();
            for (int b = 0; b < 3; b++) sequences[b].Add(next[b]);
            logits = decoder.Decode(session, next).ToArray();
        }
        log.WriteLine($"max |cached decode − full recompute| = {worst:E2}");
        Assert.True(worst <= 1e-5f, $"{worst}");
        Assert.Equal([11, 7, 15], session.Lengths);
    }

    [Fact]
    public void Greedy_continuation_equals_the_fake_quant_reference()
    {
        using var model = Model();
        using var decoder = DecoderToRuntime.Build(model);
        var reference = Reference(model, decoder.Weights, quantizeInput: true);
        int[] prompt = Tokens(7, 5);
        int v = decoder.Config.VocabSize;
        var session = decoder.NewSession(1, 20);
        var logits = decoder.Prefill(session, [prompt]);
        var runtime = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            runtime.Add(ArgMax(logits));
            if (i < 9) logits = decoder.Decode(session, [runtime[^1]]);
        }
        var torch = prompt.ToList();
        for (int i = 0; i < 10; i++)
        {
            var all = reference(torch.ToArray());
            torch.Add(ArgMax(all.AsSpan(all.Length - v, v)));
        }
        Assert.Equal(torch.Skip(prompt.Length), runtime);
    }

    [Fact]
    public void Threads_do_not_change_the_logits()
    {
        using var model = Model();
        using var one = DecoderToRuntime.Build(model);
        using var two = DecoderToRuntime.Build(model, new Int8DecoderOptions(Threads: 2));
        int[] ids = Tokens(8, 25);
        Assert.Equal(one.Logits(ids), two.Logits(ids));
    }

    [Fact]
    public void Steady_state_decode_allocates_nothing()
    {
        using var model = Model();
        using var decoder = DecoderToRuntime.Build(model);
        var session = decoder.NewSession(2, 40);
        decoder.Prefill(session, [Tokens(9, 6), Tokens(10, 6)]);
        int[] next = [1, 2];
        decoder.Decode(session, next);                                   // first step: JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) decoder.Decode(session, next);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Layers_and_memory_are_reported()
    {
        using var model = Model();
        using var int8 = DecoderToRuntime.Build(model);
        using var headFp32 = DecoderToRuntime.Build(model, new Int8DecoderOptions(LmHeadFp32: true));
        var c = int8.Config;
        Assert.Equal(7 * c.NumLayers + 1, int8.Int8Layers.Count);
        Assert.Empty(int8.Fp32Layers);
        Assert.Equal(["lm_head"], headFp32.Fp32Layers);
        // int8 linears (padded to 16 columns) + scales/sums + norms + the int8 table: well under the fp32 parameter bytes.
        long fp32Bytes = model.ParameterCount * 4;
        log.WriteLine($"ModelBytes int8 {int8.ModelBytes}, lm_head fp32 {headFp32.ModelBytes}, fp32 params {fp32Bytes}");
        Assert.InRange(int8.ModelBytes, fp32Bytes / 5, fp32Bytes / 2);
        Assert.True(headFp32.ModelBytes > int8.ModelBytes);
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_value()
    {
        using var model = Model();
        using var decoder = DecoderToRuntime.Build(model);
        var session = decoder.NewSession(2, 8);
        Assert.Contains("got 1 prompts", Assert.Throws<DistillSharpException>(() => decoder.Prefill(session, [[1, 2]])).Message);
        Assert.Contains("= 96 is outside", Assert.Throws<DistillSharpException>(() => decoder.Prefill(session, [[1, 96], [3]])).Message);
        Assert.Contains("9 tokens", Assert.Throws<DistillSharpException>(() => decoder.Prefill(session, [new int[9], [3]])).Message);
        Assert.Contains("call Prefill first", Assert.Throws<DistillSharpException>(() => decoder.Decode(session, [1, 2])).Message);
        Assert.Contains("session batch must be >= 1", Assert.Throws<DistillSharpException>(() => decoder.NewSession(0, 8)).Message);
        Assert.Contains("known: dynamic, weight_only", Assert.Throws<DistillSharpException>(() => Int8DecoderOptions.ParseMode("static")).Message);
    }
}
