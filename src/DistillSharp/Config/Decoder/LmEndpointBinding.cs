using System.Text.RegularExpressions;
using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;
using DistillSharp.Data.Decoder.Traces;

namespace DistillSharp.Config.Decoder;

/// <summary>
/// The keys of an endpoint teacher in a <c>kind: lm</c> config: <c>teacher.{endpoint, model,
/// api_key_env, tokenizer}</c>, <c>seqkd.{collect, filter, prompts_file}</c>, and the checks that tie
/// them to the rest (an endpoint teacher needs seqkd:; token KD from its log-probabilities needs
/// temperature 1 and a top_k it can return; no on-policy KD). Every error names its YAML path.
/// </summary>
static partial class LmEndpointBinding
{
    /// <summary>Alternatives per token the routes return at most (OpenAI's limits; distill serve's too).</summary>
    public const int MaxCompletionsLogprobs = 5, MaxChatLogprobs = 20;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();

    /// <summary>teacher.endpoint / model / api_key_env / tokenizer (null, null when there is no endpoint).</summary>
    public static (EndpointTeacher? Endpoint, string? Tokenizer) Teacher(MappingReader r)
    {
        if (r.Node("endpoint") is not { } e)
        {
            foreach (string key in new[] { "model", "api_key_env", "tokenizer" })
                if (r.Node(key) is not null) throw new ConfigException(r.PathOf(key), "is only valid with teacher.endpoint");
            return (null, null);
        }
        string url = ConfigBinder.NonEmpty(e, r.PathOf("endpoint"));
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ConfigException(r.PathOf("endpoint"), $"must be an absolute http(s) URL such as http://127.0.0.1:8080/v1, got '{url}'");
        string model = r.Node("model") is { } m ? ConfigBinder.NonEmpty(m, r.PathOf("model"))
            : throw new ConfigException(r.PathOf("model"), "is required with teacher.endpoint (the model name every request sends)");
        string? variable = r.Node("api_key_env") is { } v ? ConfigBinder.NonEmpty(v, r.PathOf("api_key_env")) : null;
        if (variable is not null && !VariableName().IsMatch(variable))
            throw new ConfigException(r.PathOf("api_key_env"), $"must be an environment variable name (letters, digits, _), got '{variable}'");
        string? tokenizer = r.Node("tokenizer") is { } t ? ConfigBinder.NonEmpty(t, r.PathOf("tokenizer")) : null;
        return (new EndpointTeacher(url, model, variable), tokenizer);
    }

    /// <summary>seqkd.collect / filter / prompts_file.</summary>
    public static SeqKdConfig SeqKd(MappingReader r, SeqKdConfig c)
    {
        if (r.Mapping("collect") is { } cr)
        {
            var d = new CollectLimits();
            var api = cr.Choice("api", "completions", "completions", "chat") == "chat" ? TraceApi.Chat : TraceApi.Completions;
            var limits = new CollectLimits(
                cr.Int("concurrency", d.Concurrency, v => v >= 1 && v <= 256, "in [1, 256]"),
                cr.Double("requests_per_second", d.RequestsPerSecond, v => v >= 0, ">= 0 (0 = no limit)"),
                cr.Double("timeout", d.TimeoutSeconds, v => v > 0, "> 0 (seconds per attempt)"),
                cr.Int("retries", d.Retries, v => v >= 0, ">= 0"),
                cr.Double("backoff", d.BackoffSeconds, v => v > 0, "> 0 (seconds before the first retry)"),
                cr.Double("max_backoff", d.MaxBackoffSeconds, v => v > 0, "> 0 (seconds)"));
            c = c with { Collect = new TraceCollectConfig(api, cr.Bool("token_ids", true), cr.Double("top_p", 1, v => v > 0 && v <= 1, "in (0, 1]"), limits) };
            cr.RejectUnknown();
        }
        if (r.Mapping("filter") is { } fr)
        {
            var d = new TraceFilterOptions();
            int min = fr.Int("min_tokens", d.MinTokens, v => v >= 0, ">= 0");
            var f = new TraceFilterOptions(min,
                fr.Int("max_tokens", d.MaxTokens, v => v == 0 || v >= min, $"0 (no bound) or >= min_tokens ({min})"),
                fr.Bool("dedup", d.Dedup), fr.Bool("drop_refusals", d.DropRefusals),
                fr.Node("verify_regex") is { } vr ? Regex(vr, fr.PathOf("verify_regex")) : null,
                fr.Bool("exact_answer", d.ExactAnswer),
                fr.Choice("think", "keep", "keep", "strip") == "keep");
            c = c with { Filter = f };
            fr.RejectUnknown();
        }
        if (r.Node("prompts_file") is { } pf) c = c with { PromptsFile = ConfigBinder.NonEmpty(pf, r.PathOf("prompts_file")) };
        if (c.Filter.ExactAnswer && c.PromptsFile is null)
            throw new ConfigException(r.PathOf("filter") + ".exact_answer", "needs seqkd.prompts_file (prompts with reference answers)");
        return c;
    }

    static string Regex(YamlDotNet.RepresentationModel.YamlNode node, string path)
    {
        string pattern = ConfigBinder.NonEmpty(node, path);
        try
        {
            _ = new Regex(pattern);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException(path, $"is not a valid regular expression: {e.Message}");
        }
        return pattern;
    }

    /// <summary>Cross-section checks of a bound config.</summary>
    public static void Check(LmRunConfig c)
    {
        if (c.Teacher.Endpoint is null)
        {
            if (c.SeqKd is { } s && (s.Collect != new TraceCollectConfig() || s.Filter != new TraceFilterOptions() || s.PromptsFile is not null))
                throw new ConfigException("seqkd", "collect:, filter: and prompts_file: apply to traces of an endpoint teacher; set teacher.endpoint");
            if (c.Kd?.On == KdData.Traces)
                throw new ConfigException("kd.on", "traces needs teacher.endpoint (a teacher in this process scores the corpus itself)");
            return;
        }
        if (c.SeqKd is null)
            throw new ConfigException("teacher.endpoint", "needs a seqkd: section: the teacher's answers (traces) are the student's data");
        if (c.Kd is { } kd)
        {
            if (kd.OnPolicy is not null)
                throw new ConfigException("kd.on_policy", "needs a teacher in this process; an endpoint teacher cannot score the student's samples");
            if (kd.Temperature != 1)
                throw new ConfigException("kd.temperature", $"must be 1 with teacher.endpoint (the endpoint's log-probabilities are untempered), got {kd.Temperature}");
            // Corpus blocks are scored on the completions route (echo), whatever route the traces use.
            var api = kd.On == KdData.Corpus ? TraceApi.Completions : c.SeqKd.Collect.Api;
            int max = api == TraceApi.Chat ? MaxChatLogprobs : MaxCompletionsLogprobs;
            if (kd.TopK < 1 || kd.TopK > max)
                throw new ConfigException("kd.top_k", $"must be in [1, {max}] with teacher.endpoint (top log-probabilities the {api.ToString().ToLowerInvariant()} route returns{(kd.On == KdData.Corpus ? " with echo, for kd.on: corpus" : "")}), got {kd.TopK}");
            if (!c.SeqKd.Collect.TokenIds)
                throw new ConfigException("seqkd.collect.token_ids", "must be true for kd: with teacher.endpoint (token-level KD needs the teacher's token ids)");
        }
    }
}
