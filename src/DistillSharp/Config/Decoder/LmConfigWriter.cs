using static DistillSharp.Config.ConfigWriter;
using YamlDotNet.RepresentationModel;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Config.Decoder;

/// <summary>The YAML tree of an <see cref="LmRunConfig"/> (kind lm), in the shape <see cref="LmConfigBinder"/> reads.</summary>
public static class LmConfigWriter
{
    /// <summary>Every setting of <paramref name="c"/>, defaults spelled out.</summary>
    public static YamlMappingNode ToNode(LmRunConfig c)
    {
        var root = Map(
            ("kind", S(ConfigKinds.Lm)),
            ("data", Map(("corpus", YamlValues.FlowList(c.Data.Names)), ("heldout", S(c.Data.Heldout)),
                ("block", S(c.Data.Block)), ("batch", S(c.Data.Batch)))),
            ("tokenizer", Map(("type", S("byte-bpe")), ("vocab", S(c.Tokenizer.Vocab)), ("max_train_chars", S(c.Tokenizer.MaxTrainChars)))),
            ("teacher", Teacher(c.Teacher)),
            ("student", Shape(c.Student)));
        if (c.SeqKd is { } s)
        {
            var seqkd = Map(("prompts", S(s.Prompts)), ("prompt_tokens", S(s.PromptTokens)), ("new_tokens", S(s.NewTokens)),
                ("temperature", S(s.Temperature)), ("top_k", S(s.TopK)), ("generate_batch", S(s.GenerateBatch)), ("train", Train(s.Train)));
            if (c.Teacher.Endpoint is not null) EndpointSeqKd(seqkd, s);
            root.Add("seqkd", seqkd);
        }
        if (c.Kd is { } k)
        {
            var kd = Map(("loss", S(k.Loss)), ("temperature", S(k.Temperature)), ("top_k", S(k.TopK)), ("beta", S(k.Beta)), ("alpha", S(k.Alpha)),
                ("ce_weight", S(k.CeWeight)), ("train", Train(k.Train)));
            if (k.OnPolicy is { } op)
                kd.Add("on_policy", Map(("prompts", S(op.Prompts)), ("prompt_tokens", S(op.PromptTokens)), ("new_tokens", S(op.NewTokens)),
                    ("temperature", S(op.Temperature))));
            if (k.On is { } on) kd.Add("on", S(on.ToString().ToLowerInvariant()));
            root.Add("kd", kd);
        }
        root.Add("scratch", S(c.Scratch));
        var eval = Map(("max_blocks", S(c.Eval.MaxBlocks)), ("max_new_tokens", S(c.Eval.MaxNewTokens)), ("temperature", S(c.Eval.Temperature)),
            ("repetition_penalty", S(c.Eval.RepetitionPenalty)));
        eval.Add("prompts", new YamlSequenceNode(c.Eval.SamplePrompts.Select(p => (YamlNode)new YamlScalarNode(p)
            { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted })));
        root.Add("eval", eval);
        root.Add("bench", Map(("batch", YamlValues.FlowList(c.Bench.Batches)), ("prompt_tokens", S(c.Bench.PromptTokens)),
            ("new_tokens", S(c.Bench.NewTokens)), ("runs", S(c.Bench.Runs))));
        root.Add("output", S(c.Output));
        root.Add("seed", S(c.Seed));
        return root;
    }

    static YamlMappingNode Teacher(LmTeacherConfig t)
    {
        if (t.Source is { } source) return Map(("source", S(source)));
        if (t.Endpoint is { } e)
        {
            var map = Map(("endpoint", S(e.Endpoint)), ("model", S(e.Model)));
            if (e.ApiKeyEnv is { } v) map.Add("api_key_env", S(v));
            if (t.Tokenizer is { } tok) map.Add("tokenizer", S(tok));
            return map;
        }
        var p = t.Pretrain!;
        var pretrain = Shape(p.Shape);
        pretrain.Add("train", Train(p.Train));
        return Map(("pretrain", pretrain));
    }

    static void EndpointSeqKd(YamlMappingNode seqkd, SeqKdConfig s)
    {
        var l = s.Collect.Limits;
        seqkd.Add("collect", Map(("api", S(s.Collect.Api == Data.Decoder.Traces.TraceApi.Chat ? "chat" : "completions")),
            ("token_ids", S(s.Collect.TokenIds)), ("top_p", S(s.Collect.TopP)), ("concurrency", S(l.Concurrency)),
            ("requests_per_second", S(l.RequestsPerSecond)), ("timeout", S(l.TimeoutSeconds)), ("retries", S(l.Retries)),
            ("backoff", S(l.BackoffSeconds)), ("max_backoff", S(l.MaxBackoffSeconds))));
        var f = s.Filter;
        var filter = Map(("min_tokens", S(f.MinTokens)), ("max_tokens", S(f.MaxTokens)), ("dedup", S(f.Dedup)), ("drop_refusals", S(f.DropRefusals)));
        if (f.VerifyRegex is { } regex) filter.Add("verify_regex", new YamlScalarNode(regex) { Style = YamlDotNet.Core.ScalarStyle.SingleQuoted });
        filter.Add("exact_answer", S(f.ExactAnswer));
        filter.Add("think", S(f.KeepThinking ? "keep" : "strip"));
        seqkd.Add("filter", filter);
        if (s.PromptsFile is { } file) seqkd.Add("prompts_file", S(file));
    }

    static YamlMappingNode Shape(DecoderShape s) => Map(("arch", S(s.Arch)), ("layers", S(s.Layers)), ("hidden", S(s.Hidden)),
        ("heads", S(s.Heads)), ("kv_heads", S(s.KvHeads)), ("ffn", S(s.Ffn)), ("tie_embeddings", S(s.TieEmbeddings)), ("rope_theta", S(s.RopeTheta)));

    static YamlMappingNode Train(LmTrainConfig t)
    {
        var map = Map(("steps", S(t.Steps)), ("lr", S(t.Lr)), ("warmup", S(t.Warmup)));
        if (t.Batch is int b) map.Add("batch", S(b));
        map.Add("accumulate", S(t.Accumulate));
        map.Add("weight_decay", S(t.WeightDecay));
        map.Add("clip_grad_norm", t.ClipGradNorm is double g ? S(g) : new YamlScalarNode("~"));
        map.Add("log_every", S(t.LogEvery));
        return map;
    }
}
