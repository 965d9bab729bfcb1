using System.Diagnostics;
using System.Text;
using DistillSharp.Data;
using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
using Xunit.Abstractions;

namespace DistillSharp.Tests.Models.Decoder;

/// <summary>Numbers quoted in docs/DECODERS.md: BPE training on real WordNet glosses and KV-cached generation speed. Slow.</summary>
[Trait("Category", "Slow")]
public class DecoderMeasurementTests(ITestOutputHelper output)
{
    [Fact]
    public void TokenizerTrainingAndGenerationSpeed()
    {
        TorchSharp.torch.set_num_threads(1);
        string package = Fetcher.FetchDataset(DatasetCatalog.WordNet, TextWriter.Null);
        string text = Encoding.UTF8.GetString(DatasetIntegrity.ReadVerified(DatasetCatalog.WordNet, package, "dict/data.noun"));
        var glosses = WordNetDatabase.ParseFile(text, "data.noun").Take(20_000).Select(s => s.Definition).ToList();
        var clock = Stopwatch.StartNew();
        var tokenizer = BpeTrainer.Train(glosses, 4096, ["<|endoftext|>"]);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        int bytes = glosses.Sum(g => Encoding.UTF8.GetByteCount(g));
        clock.Restart();
        int tokens = glosses.Sum(g => tokenizer.Encode(g).Length);
        double encodeSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"BPE: {glosses.Count} glosses, {bytes} bytes, vocab {tokenizer.VocabSize}, trained in {trainSeconds:F1} s; " +
                         $"{bytes / (double)tokens:F2} bytes/token; encode {bytes / encodeSeconds / 1e6:F2} MB/s");
        Assert.Equal(4096, tokenizer.VocabSize);

        var config = new DecoderConfig
        {
            ModelType = "llama", VocabSize = 4096, HiddenSize = 256, NumLayers = 4, NumHeads = 8, NumKvHeads = 4, HeadDim = 32,
            IntermediateSize = 688, MaxPositions = 512, TieWordEmbeddings = true, BosTokenId = 0, EosTokenIds = [0],
        };
        using var model = DecoderModels.Create(config);
        var generator = new TextGenerator(model, tokenizer);
        foreach (int batch in new[] { 1, 4 })
        {
            var prompts = glosses.Skip(100).Take(batch).ToList();
            generator.Generate(prompts, new GenerationOptions { MaxNewTokens = 4, StopTokenIds = [] }); // warm-up
            var results = generator.Generate(prompts, new GenerationOptions { MaxNewTokens = 64, StopTokenIds = [] });
            var r = results[0];
            double decodeTokens = results.Sum(x => x.GeneratedIds.Length - 1);
            output.WriteLine($"llama {model.ParameterCount / 1e6:F2} M params, batch {batch}: prefill {r.PrefillTime.TotalMilliseconds:F1} ms " +
                             $"({results.Max(x => x.PromptIds.Length)} tokens), decode {decodeTokens / r.DecodeTime.TotalSeconds:F0} tokens/s " +
                             $"({r.DecodeTime.TotalMilliseconds / 63:F2} ms/step)");
        }
    }
}
