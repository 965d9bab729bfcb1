// Decoder prefill/decode speed: TorchSharp fp32 vs the INT8 decoder runtime (dynamic and
// weight-only) on the same model, side by side in one run.
// Usage: dotnet run -c Release --project bench/DecoderSpeed [-- --model HF_DECODER_DIR --prompt 64 --new 32 --runs 3 --batches 1,8]
// Threads: DISTILLSHARP_THREADS (default 1, for a shared machine). Without --model: a randomly
// initialised Llama-style model, 6 layers × hidden 384 (6 heads, 2 KV heads, FFN 1024, vocab 4096, tied).
// Prints one JSON object: per runtime its model bytes and, per batch, prefill and decode tokens/s.
using System.Text.Json;
using DecoderSpeed;
using DistillSharp.Diagnostics;
using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Benchmarks.Decoder;
using static TorchSharp.torch;
using DistillSharp.Quantization.Decoder;

string? folder = ArgValue("--model");
int promptTokens = int.Parse(ArgValue("--prompt") ?? "64"), newTokens = int.Parse(ArgValue("--new") ?? "32");
int runs = int.Parse(ArgValue("--runs") ?? "3");
int[] batches = (ArgValue("--batches") ?? "1,8").Split(',').Select(int.Parse).ToArray();
int threads = int.TryParse(Environment.GetEnvironmentVariable("DISTILLSHARP_THREADS"), out int n) && n > 0 ? n : 1;
TorchNative.EnsureLoadable();
set_num_threads(threads);

CausalLm model;
if (folder is null)
{
    manual_seed(1);
    model = DecoderModels.Create(new DecoderConfig
    {
        ModelType = "llama", VocabSize = 4096, HiddenSize = 384, NumLayers = 6, NumHeads = 6, NumKvHeads = 2, HeadDim = 64,
        IntermediateSize = 1024, MaxPositions = 512, TieWordEmbeddings = true,
    });
}
else model = DecoderFolder.Load(folder).Model;

var rng = new Random(5);
var tokens = Enumerable.Range(0, promptTokens * 8).Select(_ => rng.Next(model.Config.VocabSize)).ToArray();
var config = new LmBenchConfig(batches, promptTokens, newTokens, runs);
var targets = new List<(IDecoderBenchTarget Target, long Bytes)>
{
    (new TorchGreedyTarget(model), model.parameters().Sum(p => p.numel() * p.element_size())),
};
foreach (var mode in new[] { Int8DecoderMode.Dynamic, Int8DecoderMode.WeightOnly })
{
    var decoder = DecoderToRuntime.Build(model, new Int8DecoderOptions(threads, mode));
    targets.Add((new Int8DecoderBenchTarget(decoder), decoder.ModelBytes));
}
var results = targets.Select(t => new
{
    runtime = t.Target.Runtime, model_bytes = t.Bytes,
    speeds = DecoderSpeedBench.Measure(t.Target, config, tokens).Select(s => new
    {
        batch = s.Batch, prefill_tokens_per_s = Math.Round(s.PrefillTokensPerSecond, 1), decode_tokens_per_s = Math.Round(s.DecodeTokensPerSecond, 1),
        prefill_ms = Math.Round(s.PrefillMsMedian, 2), decode_ms_per_step = Math.Round(s.DecodeMsPerTokenMedian, 3),
    }).ToList(),
}).ToList();
foreach (var (target, _) in targets) target.Dispose();
var c = model.Config;
Console.WriteLine(JsonSerializer.Serialize(new
{
    benchmark = "decoder-speed", model = folder ?? "random llama 6x384", vocab = c.VocabSize, hidden = c.HiddenSize, layers = c.NumLayers,
    heads = c.NumHeads, kv_heads = c.NumKvHeads, ffn = c.IntermediateSize, threads, prompt_tokens = promptTokens, new_tokens = newTokens, runs,
    load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    date = DateTime.UtcNow.ToString("yyyy-MM-dd"), results,
}, new JsonSerializerOptions { WriteIndented = true }));
model.Dispose();

string? ArgValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
