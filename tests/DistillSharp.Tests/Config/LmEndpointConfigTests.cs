using DistillSharp.Config;
using DistillSharp.Config.Decoder;
using DistillSharp.Config.Yaml;
using DistillSharp.Data.Decoder.Traces;

namespace DistillSharp.Tests.Config;

/// <summary>teacher.endpoint and seqkd.collect/filter in kind: lm configs: binding, round trip, and every error naming its YAML path.</summary>
public sealed class LmEndpointConfigTests
{
    const string Endpoint = """
        kind: lm
        teacher: { endpoint: "http://127.0.0.1:8080/v1", model: big-teacher, api_key_env: TEACHER_KEY, tokenizer: /models/teacher }
        student: { layers: 1, hidden: 16, heads: 2, kv_heads: 1, ffn: 32 }
        seqkd:
          prompts: 8
          collect: { api: chat, concurrency: 3, requests_per_second: 5, timeout: 30, retries: 2 }
          filter: { min_tokens: 2, max_tokens: 40, dedup: false, verify_regex: 'answer: \d+', think: strip }
        kd: { top_k: 20 }
        """;

    [Fact]
    public void BindsTheEndpointTeacherAndRoundTrips()
    {
        var c = ConfigLoader.Parse<LmRunConfig>(Endpoint);
        Assert.Equal(new EndpointTeacher("http://127.0.0.1:8080/v1", "big-teacher", "TEACHER_KEY"), c.Teacher.Endpoint);
        Assert.Equal("/models/teacher", c.Teacher.Tokenizer);
        Assert.Null(c.Teacher.Source);
        var s = c.SeqKd!;
        Assert.Equal(TraceApi.Chat, s.Collect.Api);
        Assert.Equal(new CollectLimits(3, 5, 30, 2), s.Collect.Limits);
        Assert.Equal(new TraceFilterOptions(2, 40, Dedup: false, VerifyRegex: @"answer: \d+", KeepThinking: false), s.Filter);
        var again = ConfigLoader.Parse<LmRunConfig>(c.ToYaml());
        Assert.Equal(c.ToYaml(), again.ToYaml());
        Assert.Equal(c.Teacher.Endpoint, again.Teacher.Endpoint);
        Assert.Equal((s.Collect, s.Filter), (again.SeqKd!.Collect, again.SeqKd.Filter));
    }

    [Theory]
    [InlineData("teacher: { endpoint: 'ftp://x/v1', model: m }", "teacher.endpoint", "absolute http(s) URL")]
    [InlineData("teacher: { endpoint: 'http://x/v1' }", "teacher.model", "is required")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m, api_key_env: 'MY-KEY' }", "teacher.api_key_env", "environment variable name")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m, source: /t }", "teacher", "not both source and endpoint")]
    [InlineData("teacher: { source: /t, model: m }", "teacher.model", "only valid with teacher.endpoint")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nkd: { temperature: 2 }", "kd.temperature", "must be 1")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nkd: { top_k: 6 }", "kd.top_k", "[1, 5]")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nkd: { top_k: 0, on_policy: {} }", "kd.on_policy", "endpoint teacher")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { collect: { concurrency: 0 } }", "seqkd.collect.concurrency", "in [1, 256]")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { collect: { api: grpc } }", "seqkd.collect.api", "completions, chat")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { filter: { verify_regex: '(' } }", "seqkd.filter.verify_regex", "not a valid regular expression")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { filter: { exact_answer: true } }", "seqkd.filter.exact_answer", "prompts_file")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { filter: { min_tokens: 5, max_tokens: 3 } }", "seqkd.filter.max_tokens", ">= min_tokens (5)")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { filter: { think: drop } }", "seqkd.filter.think", "keep, strip")]
    [InlineData("teacher: { source: /t }\nseqkd: { filter: { dedup: false } }", "seqkd", "set teacher.endpoint")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nkd: { on: blocks }", "kd.on", "corpus, traces")]
    [InlineData("teacher: { endpoint: 'http://x/v1', model: m }\nseqkd: { collect: { api: chat } }\nkd: { on: corpus, top_k: 8 }", "kd.top_k", "with echo, for kd.on: corpus")]
    [InlineData("teacher: { source: /t }\nkd: { on: traces }", "kd.on", "needs teacher.endpoint")]
    public void BadEndpointSettingsNameTheirPath(string teacherAndMore, string path, string message)
    {
        string yaml = "kind: lm\nstudent: {}\n" + teacherAndMore;
        if (!yaml.Contains("seqkd:")) yaml += "\nseqkd: {}";
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>(yaml));
        Assert.Equal(path, e.Path);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheShippedEndpointConfigLoadsAndRoundTrips()
    {
        var c = ConfigLoader.Load<LmRunConfig>(Path.Combine(RepoPaths.Root(), "configs", "lm-endpoint.yaml"));
        Assert.Equal("http://127.0.0.1:8080/v1", c.Teacher.Endpoint!.Endpoint);
        Assert.Equal((5, 1.0, KdData.Corpus), (c.Kd!.TopK, c.Kd.Temperature, c.Kd.On));
        Assert.Equal(c.ToYaml(), ConfigLoader.Parse<LmRunConfig>(c.ToYaml()).ToYaml());
    }

    [Fact]
    public void AnEndpointTeacherNeedsSeqKd()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>("kind: lm\nstudent: {}\nteacher: { endpoint: 'http://x/v1', model: m }\nkd: {}"));
        Assert.Equal("teacher.endpoint", e.Path);
    }
}
