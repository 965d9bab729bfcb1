using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Formats;
using DistillSharp.Models.Decoder;
using DistillSharp.Data;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models.Decoder;

public class DecoderFolderTests
{
    public static TheoryData<string, long> Layouts => new() { { "llama", long.MaxValue }, { "gpt2", long.MaxValue }, { "llama", 20_000 }, { "gpt2", 30_000 } };

    static CausalLm Model(string kind, int vocab = 97) => DecoderTestKit.Create(kind == "gpt2" ? DecoderTestKit.Gpt2(vocab) : DecoderTestKit.Llama(vocab));

    [Theory]
    [MemberData(nameof(Layouts))]
    public void SavedFolderLoadsRunsAndRoundTripsByteExact(string kind, long maxShardBytes)
    {
        using var scope = NewDisposeScope();
        string dir = DecoderTestKit.TempDir(), again = DecoderTestKit.TempDir();
        var tokenizer = BpeTrainer.Train(DecoderTokenizerTests.Glosses, 300, ["<|endoftext|>"]);
        using var model = Model(kind, tokenizer.VocabSize); // a tokenizer with ids past the embedding table is refused at load
        DecoderFolder.Save(model, tokenizer, dir, maxShardBytes);
        bool sharded = maxShardBytes < long.MaxValue;
        Assert.Equal(sharded, File.Exists(Path.Combine(dir, DecoderWeights.IndexFile)));
        Assert.Equal(!sharded, File.Exists(Path.Combine(dir, DecoderWeights.SingleFile)));
        if (sharded) Assert.True(Directory.GetFiles(dir, "model-*-of-*.safetensors").Length > 1);

        // Parameter names are the HF keys; tied models store no lm_head.weight.
        var keys = DecoderWeights.Read(dir).Keys.ToHashSet();
        Assert.Contains(kind == "gpt2" ? "transformer.h.0.attn.c_attn.weight" : "model.layers.0.self_attn.q_proj.weight", keys);
        Assert.DoesNotContain("lm_head.weight", keys);
        if (kind == "gpt2") Assert.Equal([32L, 96], DecoderWeights.Read(dir)["transformer.h.1.attn.c_attn.weight"].Shape); // Conv1D (in, out)

        var (loaded, loadedTokenizer) = DecoderFolder.Load(dir);
        using var _ = loaded;
        var ids = DecoderTestKit.Ids([3, 1, 4, 1, 5, 9, 2, 6]);
        Assert.Equal(0f, DecoderTestKit.MaxAbsDiff(model.Forward(ids).Logits, loaded.Forward(ids).Logits));
        Assert.Equal(tokenizer.Encode("a dog"), loadedTokenizer!.Encode("a dog"));

        DecoderFolder.Save(loaded, loadedTokenizer, again, maxShardBytes);
        foreach (var file in Directory.GetFiles(dir).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, file!)), File.ReadAllBytes(Path.Combine(again, file!)));
        Directory.Delete(dir, true);
        Directory.Delete(again, true);
    }

    [Fact]
    public void LoadsHalfPrecisionAnUntiedHeadAndRunFolders()
    {
        using var scope = NewDisposeScope();
        string run = DecoderTestKit.TempDir(), dir = Path.Combine(run, "student");
        using var model = DecoderTestKit.Create(DecoderTestKit.Llama() with { TieWordEmbeddings = false });
        DecoderFolder.Save(model, null, dir);
        // Rewrite the weights as BF16, as many hub checkpoints are stored.
        var bf16 = model.state_dict().ToDictionary(kv => kv.Key, kv => { using var t = kv.Value.to_type(ScalarType.BFloat16); return TorchSafetensors.FromTensor(t); });
        Safetensors.Write(Path.Combine(dir, "model.safetensors"), bf16);
        Assert.Equal(dir, DecoderFolder.ResolveModelDir(run));
        var (loaded, tokenizer) = DecoderFolder.Load(run);
        using var _ = loaded;
        Assert.Null(tokenizer);
        Assert.True(loaded.state_dict().ContainsKey("lm_head.weight"));
        var ids = DecoderTestKit.Ids([7, 8, 9]);
        float diff = DecoderTestKit.MaxAbsDiff(model.Forward(ids).Logits, loaded.Forward(ids).Logits);
        Assert.True(diff > 0 && diff < 0.5f, $"bf16 weights change logits by {diff}"); // bf16 keeps 8 bits of mantissa
        Directory.Delete(run, true);
    }

    [Fact]
    public void MissingOrMismatchedTensorsAreNamedWithShapes()
    {
        using var scope = NewDisposeScope();
        string dir = DecoderTestKit.TempDir();
        using var model = Model("llama");
        DecoderFolder.Save(model, null, dir);
        var tensors = DecoderWeights.Read(dir);
        var original = tensors["model.layers.1.mlp.up_proj.weight"];
        tensors["model.layers.1.mlp.up_proj.weight"] = original with { Shape = [24, 64] };
        DecoderWeights.Write(dir, tensors);
        var e = Assert.Throws<DistillSharpException>(() => DecoderFolder.Load(dir));
        Assert.Contains("tensor 'model.layers.1.mlp.up_proj.weight' has shape [24, 64], the model needs [48, 32]", e.Message);

        tensors.Remove("model.layers.1.mlp.up_proj.weight");
        DecoderWeights.Write(dir, tensors);
        e = Assert.Throws<DistillSharpException>(() => DecoderFolder.Load(dir));
        Assert.Contains("missing tensor(s) model.layers.1.mlp.up_proj.weight", e.Message);

        File.Delete(Path.Combine(dir, "model.safetensors"));
        e = Assert.Throws<DistillSharpException>(() => DecoderFolder.Load(dir));
        Assert.Contains("no model.safetensors and no model.safetensors.index.json", e.Message);
        e = Assert.Throws<DistillSharpException>(() => DecoderFolder.Load(Path.Combine(dir, "nope")));
        Assert.Contains("folder not found", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void MissingShardIsNamed()
    {
        using var scope = NewDisposeScope();
        string dir = DecoderTestKit.TempDir();
        using var model = Model("gpt2");
        DecoderFolder.Save(model, null, dir, 30_000);
        string shard = Directory.GetFiles(dir, "model-*-of-*.safetensors").Order().Last();
        File.Delete(shard);
        var e = Assert.Throws<DistillSharpException>(() => DecoderFolder.Load(dir));
        Assert.Contains($"shard {Path.GetFileName(shard)} listed in weight_map is missing", e.Message);
        Directory.Delete(dir, true);
    }
}
