using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Distillation.Divergences;
using YamlDotNet.RepresentationModel;
using DistillSharp.Config.Yaml;
using DistillSharp.Benchmarks.Decoder;
using DistillSharp.Data.Decoder.Traces;

namespace DistillSharp.Config.Decoder;

/// <summary>
/// Binds a <c>kind: lm</c> YAML tree to <see cref="LmRunConfig"/> with the same strictness as
/// <see cref="ConfigBinder"/>: every key goes through a <see cref="MappingReader"/>, unknown keys
/// fail listing the valid ones, every check names the path, the bad value and what is allowed.
/// </summary>
public static class LmConfigBinder
{
    /// <summary>Binds the document root (which must say <c>kind: lm</c>).</summary>
    public static LmRunConfig Bind(YamlNode root)
    {
        var r = new MappingReader(root, "");
        r.Choice("kind", "", ConfigKinds.Lm);
        var data = r.Mapping("data") is { } dr ? BindData(dr) : new LmDataConfig();
        var tokenizer = new LmTokenizerConfig();
        if (r.Mapping("tokenizer") is { } tr)
        {
            tr.Choice("type", "byte-bpe", "byte-bpe");
            tokenizer = new LmTokenizerConfig(tr.Int("vocab", tokenizer.Vocab, v => v >= 260, ">= 260 (256 bytes + specials)"),
                tr.Int("max_train_chars", tokenizer.MaxTrainChars, v => v >= 0, ">= 0"));
            tr.RejectUnknown();
        }
        var config = new LmRunConfig
        {
            Data = data,
            Tokenizer = tokenizer,
            Teacher = BindTeacher(new MappingReader(r.Required("teacher"), "teacher")),
            Student = BindShape(new MappingReader(r.Required("student"), "student"), new DecoderShape()),
            SeqKd = r.Mapping("seqkd") is { } sr ? BindSeqKd(sr) : null,
            Kd = r.Mapping("kd") is { } kr ? BindKd(kr) : null,
            Scratch = r.Bool("scratch", true),
            Eval = r.Mapping("eval") is { } er ? BindEval(er) : new LmEvalConfig(),
            Bench = r.Mapping("bench") is { } br ? BindBench(br) : new LmBenchConfig(),
            Output = r.Node("output") is { } o ? ConfigBinder.NonEmpty(o, "output") : "runs/lm",
            Seed = r.Int("seed", 0, v => v >= 0, ">= 0"),
        };
        r.RejectUnknown();
        if (config.SeqKd is null && config.Kd is null)
            throw new ConfigException("", "must have a seqkd: or a kd: section (or both): the student needs a teacher-taught phase");
        LmEndpointBinding.Check(config);
        return config;
    }

    static LmDataConfig BindData(MappingReader r)
    {
        var d = new LmDataConfig();
        IReadOnlyList<string>? corpora = null;
        if (r.Node("corpus") is { } c)
        {
            var path = r.PathOf("corpus");
            corpora = c is YamlSequenceNode
                ? YamlValues.Items(c, path).Select(x => Corpus(x.Node, x.Path)).ToList()
                : [Corpus(c, path)];
            if (corpora.Count == 0) throw new ConfigException(path, "must name at least one corpus, got an empty list");
        }
        var result = new LmDataConfig(corpora,
            r.Double("heldout", d.Heldout, v => v > 0 && v <= 0.5, "in (0, 0.5]"),
            r.Int("block", d.Block, v => v >= 8, ">= 8"),
            r.Int("batch", d.Batch, v => v >= 1, ">= 1"));
        r.RejectUnknown();
        return result;
    }

    static string Corpus(YamlNode node, string path)
    {
        var name = ConfigBinder.NonEmpty(node, path);
        return LmDataConfig.KnownCorpora.Contains(name) ? name
            : throw new ConfigException(path, $"must be one of {string.Join(", ", LmDataConfig.KnownCorpora)}, got '{name}'");
    }

    static LmTeacherConfig BindTeacher(MappingReader r)
    {
        var source = r.Node("source") is { } s ? ConfigBinder.NonEmpty(s, r.PathOf("source")) : null;
        var (endpoint, tokenizer) = LmEndpointBinding.Teacher(r);
        LmPretrainConfig? pretrain = null;
        if (r.Mapping("pretrain") is { } pr)
        {
            var shape = BindShape(pr, new DecoderShape(Layers: 6, Hidden: 384, Heads: 6, KvHeads: 2, Ffn: 1024), rejectUnknown: false);
            var train = pr.Mapping("train") is { } tr ? BindTrain(tr) : new LmTrainConfig();
            pr.RejectUnknown();
            pretrain = new LmPretrainConfig(shape, train);
        }
        r.RejectUnknown();
        int given = (source is null ? 0 : 1) + (pretrain is null ? 0 : 1) + (endpoint is null ? 0 : 1);
        if (given != 1)
            throw new ConfigException(r.Path, given == 0
                ? "needs one of source: (an HF decoder folder), pretrain: (a recipe) or endpoint: (an OpenAI-compatible URL), got none"
                : given == 3 ? "needs exactly one of source:, pretrain: and endpoint:, not all three"
                : "needs exactly one of source:, pretrain: and endpoint:, not both " + string.Join(" and ",
                    new[] { source is null ? null : "source", pretrain is null ? null : "pretrain", endpoint is null ? null : "endpoint" }.OfType<string>()));
        return new LmTeacherConfig(source, pretrain) { Endpoint = endpoint, Tokenizer = tokenizer };
    }

    static DecoderShape BindShape(MappingReader r, DecoderShape d, bool rejectUnknown = true)
    {
        var arch = r.Choice("arch", d.Arch, DecoderShape.Archs);
        var layers = r.Int("layers", d.Layers, v => v >= 1, ">= 1");
        var hidden = r.Int("hidden", d.Hidden, v => v >= 2, ">= 2");
        var heads = r.Int("heads", d.Heads, v => v >= 1, ">= 1");
        if (hidden % heads != 0)
            throw new ConfigException(r.PathOf("heads"), $"must divide {r.PathOf("hidden")} ({hidden}), got {heads}");
        if (hidden / heads % 2 != 0)
            throw new ConfigException(r.PathOf("heads"), $"must leave an even head size for rotary embeddings, got {hidden}/{heads} = {hidden / heads}");
        var kvHeads = r.Int("kv_heads", arch == "gpt2" ? heads : Math.Min(d.KvHeads, heads), v => v >= 1, ">= 1");
        if (heads % kvHeads != 0)
            throw new ConfigException(r.PathOf("kv_heads"), $"must divide {r.PathOf("heads")} ({heads}), got {kvHeads}");
        if (arch == "gpt2" && kvHeads != heads)
            throw new ConfigException(r.PathOf("kv_heads"), $"must equal heads ({heads}) for arch gpt2, got {kvHeads}");
        var shape = new DecoderShape(arch, layers, hidden, heads, kvHeads,
            r.Int("ffn", d.Ffn, v => v >= 1, ">= 1"),
            r.Bool("tie_embeddings", d.TieEmbeddings),
            r.Double("rope_theta", d.RopeTheta, v => v > 0, "> 0"));
        if (rejectUnknown) r.RejectUnknown();
        return shape;
    }

    static LmTrainConfig BindTrain(MappingReader r)
    {
        var d = new LmTrainConfig();
        var steps = r.Int("steps", d.Steps, v => v >= 1, ">= 1");
        var train = new LmTrainConfig(steps,
            r.Double("lr", d.Lr, v => v > 0, "> 0"),
            r.Int("warmup", Math.Min(d.Warmup, steps), v => v >= 0 && v <= steps, $"in [0, steps = {steps}]"),
            r.OptionalInt("batch", v => v >= 1, ">= 1"),
            r.Int("accumulate", d.Accumulate, v => v >= 1, ">= 1"),
            r.Double("weight_decay", d.WeightDecay, v => v >= 0, ">= 0"),
            r.Node("clip_grad_norm") is null && r.Keys.Contains("clip_grad_norm") ? null
                : r.Double("clip_grad_norm", d.ClipGradNorm ?? 1.0, v => v > 0, "> 0"),
            r.Int("log_every", d.LogEvery, v => v >= 1, ">= 1"));
        r.RejectUnknown();
        return train;
    }

    static SeqKdConfig BindSeqKd(MappingReader r)
    {
        var d = new SeqKdConfig();
        var c = new SeqKdConfig(
            r.Int("prompts", d.Prompts, v => v >= 1, ">= 1"),
            r.Int("prompt_tokens", d.PromptTokens, v => v >= 1, ">= 1"),
            r.Int("new_tokens", d.NewTokens, v => v >= 1, ">= 1"),
            r.Double("temperature", d.Temperature, v => v >= 0, ">= 0 (0 = greedy)"),
            r.Int("top_k", d.TopK, v => v >= 0, ">= 0 (0 = all tokens)"),
            r.Int("generate_batch", d.GenerateBatch, v => v >= 1, ">= 1"),
            r.Mapping("train") is { } tr ? BindTrain(tr) : null);
        c = LmEndpointBinding.SeqKd(r, c);
        r.RejectUnknown();
        return c;
    }

    static TokenKdConfig BindKd(MappingReader r)
    {
        var d = new TokenKdConfig();
        var loss = r.String("loss", d.Loss);
        if (!DivergenceRegistry.All.ContainsKey(loss))
            throw new ConfigException(r.PathOf("loss"), $"must be one of {TokenKdRegistry.KnownNames}, got '{loss}'");
        var c = new TokenKdConfig(loss,
            r.Double("temperature", d.Temperature, v => v > 0, "> 0"),
            r.Int("top_k", d.TopK, v => v >= 0, ">= 0 (0 = full distribution)"),
            r.Double("beta", d.Beta, v => v >= 0 && v <= 1, "in [0, 1]"),
            r.Double("alpha", d.Alpha, v => v >= 0 && v < 1, "in [0, 1)"),
            r.Double("ce_weight", d.CeWeight, v => v >= 0, ">= 0"),
            r.Mapping("train") is { } tr ? BindTrain(tr) : null);
        if (r.Mapping("on_policy") is { } op)
        {
            if (c.TopK > 0)
                throw new ConfigException(r.PathOf("top_k"), $"must be 0 with on_policy: (the student's samples change every step, so the teacher is computed live, not cached), got {c.TopK}");
            c = c with { OnPolicy = BindOnPolicy(op) };
        }
        if (r.Node("on") is not null) c = c with { On = r.Choice("on", "", "corpus", "traces") == "corpus" ? KdData.Corpus : KdData.Traces };
        r.RejectUnknown();
        return c;
    }

    static OnPolicyConfig BindOnPolicy(MappingReader r)
    {
        var d = new OnPolicyConfig();
        var c = new OnPolicyConfig(
            r.Int("prompts", d.Prompts, v => v >= 1, ">= 1"),
            r.Int("prompt_tokens", d.PromptTokens, v => v >= 1, ">= 1"),
            r.Int("new_tokens", d.NewTokens, v => v >= 1, ">= 1"),
            r.Double("temperature", d.Temperature, v => v > 0, "> 0 (on-policy samples)"));
        r.RejectUnknown();
        return c;
    }

    static LmEvalConfig BindEval(MappingReader r)
    {
        var d = new LmEvalConfig();
        IReadOnlyList<string>? prompts = r.Node("prompts") is { } p
            ? YamlValues.Items(p, r.PathOf("prompts")).Select(x => ConfigBinder.NonEmpty(x.Node, x.Path)).ToList() : null;
        var c = new LmEvalConfig(r.Int("max_blocks", d.MaxBlocks, v => v >= 0, ">= 0 (0 = all)"), prompts,
            r.Int("max_new_tokens", d.MaxNewTokens, v => v >= 1, ">= 1"),
            r.Double("temperature", d.Temperature, v => v >= 0, ">= 0 (0 = greedy)"),
            r.Double("repetition_penalty", d.RepetitionPenalty, v => v >= 1, ">= 1 (1 = none)"));
        r.RejectUnknown();
        return c;
    }

    static LmBenchConfig BindBench(MappingReader r)
    {
        IReadOnlyList<int>? batches = null;
        if (r.Node("batch") is { } b)
        {
            var path = r.PathOf("batch");
            var items = b is YamlSequenceNode ? YamlValues.Items(b, path).ToList() : [(b, path)];
            batches = items.Select(x => YamlValues.Check(YamlValues.Int(x.Item1, x.Item2), YamlValues.Int(x.Item1, x.Item2) >= 1, x.Item2, ">= 1")).ToList();
            if (batches.Count == 0) throw new ConfigException(path, "must list at least one batch size, got an empty list");
        }
        var d = new LmBenchConfig();
        var c = new LmBenchConfig(batches, r.Int("prompt_tokens", d.PromptTokens, v => v >= 1, ">= 1"),
            r.Int("new_tokens", d.NewTokens, v => v >= 1, ">= 1"), r.Int("runs", d.Runs, v => v >= 1, ">= 1"));
        r.RejectUnknown();
        return c;
    }
}
