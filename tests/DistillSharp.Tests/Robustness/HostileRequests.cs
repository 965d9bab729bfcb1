using System.Text;

namespace DistillSharp.Tests.Robustness;

/// <summary>One request a hostile or broken client sends: method, path, body bytes and content type.</summary>
public sealed record HostileRequest(string Name, string Method, string Path, byte[] Body, string ContentType = "application/json")
{
    /// <inheritdoc/>
    public override string ToString() => $"{Method} {Path}: {Name}";
}

/// <summary>
/// Generated bad requests for `distill serve`: every body mutation below applied to every endpoint a
/// model kind serves, plus requests only one endpoint has fields for. A new endpoint gets its cases by
/// adding its path and its field-level mutations here.
/// </summary>
public static class HostileRequests
{
    static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    // Bodies that no endpoint accepts.
    static IEnumerable<(string Name, byte[] Body)> Malformed()
    {
        yield return ("empty body", []);
        yield return ("an open object", Utf8("{"));
        yield return ("an open array", Utf8("["));
        yield return ("null", Utf8("null"));
        yield return ("a bare string", Utf8("\"text\""));
        yield return ("a bare number 1e999", Utf8("1e999"));
        yield return ("an array", Utf8("[1, 2, 3]"));
        yield return ("an empty object", Utf8("{}"));
        yield return ("nested 100000 deep", Utf8("{\"input\": " + new string('[', 100_000) + new string(']', 100_000) + "}"));
        yield return ("invalid UTF-8", [.. Utf8("{\"input\": \""), 0xff, 0xfe, 0xc3, .. Utf8("\"}")]);
        yield return ("NUL bytes", [.. Utf8("{\"input\": \"a"), 0, .. Utf8("b\"}")]);
        yield return ("trailing garbage", Utf8("{\"input\": \"a\"} xyz"));
        yield return ("9 MiB of spaces", Utf8("{\"input\": \"a\"" + new string(' ', 9 << 20) + "}"));
        yield return ("random bytes", Random(4096));
    }

    static byte[] Random(int n)
    {
        var b = new byte[n];
        new Random(11).NextBytes(b);
        return b;
    }

    /// <summary>Requests for an encoder server (embedding endpoints; the decoder ones must refuse).</summary>
    public static IEnumerable<HostileRequest> Encoder()
    {
        foreach (string path in new[] { "/v1/embeddings", "/embed", "/predict" })
            foreach (var (name, body) in Malformed())
                yield return new(name, "POST", path, body);
        var fields = new (string Name, string Json)[]
        {
            ("input a number", "{\"input\": 5}"),
            ("input an object", "{\"input\": {\"a\": 1}}"),
            ("input mixed", "{\"input\": [\"a\", 3]}"),
            ("input an empty array", "{\"input\": []}"),
            ("token ids negative", "{\"input\": [-1, 2]}"),
            ("token ids 2^63", "{\"input\": [9223372036854775808]}"),
            ("token ids fractional", "{\"input\": [1.5]}"),
            ("token ids past the vocabulary", "{\"input\": [[5, 99999]]}"),
            ("100000 inputs", "{\"input\": [" + string.Join(",", Enumerable.Repeat("\"a\"", 100_000)) + "]}"),
            ("a 1 MB input", "{\"input\": \"" + string.Concat(Enumerable.Repeat("cat ", 250_000)) + "\"}"),
            ("dimensions -1", "{\"input\": \"a\", \"dimensions\": -1}"),
            ("dimensions 10^12", "{\"input\": \"a\", \"dimensions\": 1000000000000}"),
            ("dimensions a string", "{\"input\": \"a\", \"dimensions\": \"8\"}"),
            ("encoding_format unknown", "{\"input\": \"a\", \"encoding_format\": \"hex\"}"),
        };
        foreach (var (name, json) in fields) yield return new(name, "POST", "/v1/embeddings", Utf8(json));
        yield return new("input a lone surrogate escape", "POST", "/v1/embeddings", Utf8("{\"input\": [\"a\", \"\\ud800\"]}"));
        foreach (string path in new[] { "/embed", "/predict" })
        {
            yield return new("inputs invalid UTF-8", "POST", path, [.. Utf8("{\"inputs\": \""), 0xff, 0xc3, .. Utf8("\"}")]);
            yield return new("inputs a lone surrogate escape", "POST", path, Utf8("{\"inputs\": \"\\udc00\"}"));
        }
        yield return new("inputs a number", "POST", "/embed", Utf8("{\"inputs\": 7}"));
        yield return new("normalize a string", "POST", "/embed", Utf8("{\"inputs\": \"a\", \"normalize\": \"yes\"}"));
        yield return new("truncation_direction left", "POST", "/embed", Utf8("{\"inputs\": \"a\", \"truncation_direction\": \"left\"}"));
        yield return new("a text pair", "POST", "/predict", Utf8("{\"inputs\": [[\"a\", \"b\"]]}"));
        yield return new("completions on an encoder", "POST", "/v1/completions", Utf8("{\"prompt\": \"a\"}"));
        yield return new("form data", "POST", "/v1/embeddings", Utf8("input=a&model=b"), "application/x-www-form-urlencoded");
        yield return new("GET of a POST endpoint", "GET", "/v1/embeddings", []);
        yield return new("an unknown path", "POST", "/v1/../../etc/passwd", Utf8("{}"));
    }

    /// <summary>Requests for a decoder server.</summary>
    public static IEnumerable<HostileRequest> Decoder()
    {
        foreach (string path in new[] { "/v1/completions", "/v1/chat/completions" })
            foreach (var (name, body) in Malformed())
                yield return new(name, "POST", path, body);
        var completions = new (string Name, string Json)[]
        {
            ("prompt a number", "{\"prompt\": 5}"),
            ("max_tokens 10^9", "{\"prompt\": \"a\", \"max_tokens\": 1000000000}"),
            ("max_tokens -1", "{\"prompt\": \"a\", \"max_tokens\": -1}"),
            ("n 2", "{\"prompt\": \"a\", \"n\": 2}"),
            ("temperature -1", "{\"prompt\": \"a\", \"temperature\": -1}"),
            ("top_p 0", "{\"prompt\": \"a\", \"top_p\": 0}"),
            ("logprobs 99", "{\"prompt\": \"a\", \"logprobs\": 99}"),
            ("five stop strings", "{\"prompt\": \"a\", \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}"),
            ("token ids past the vocabulary", "{\"prompt\": [1, 99999]}"),
            ("echo streamed", "{\"prompt\": \"a\", \"echo\": true, \"stream\": true}"),
            ("stream a string", "{\"prompt\": \"a\", \"stream\": \"yes\"}"),
        };
        foreach (var (name, json) in completions) yield return new(name, "POST", "/v1/completions", Utf8(json));
        yield return new("prompt invalid UTF-8", "POST", "/v1/completions", [.. Utf8("{\"prompt\": \""), 0xc3, 0x28, .. Utf8("\"}")]);
        yield return new("prompt a lone surrogate escape", "POST", "/v1/completions", Utf8("{\"prompt\": \"\\ud800\"}"));
        yield return new("stop a lone surrogate escape", "POST", "/v1/completions", Utf8("{\"prompt\": \"a\", \"stop\": \"\\ud800\"}"));
        yield return new("content a lone surrogate escape", "POST", "/v1/chat/completions", Utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"\\ud800\"}]}"));
        yield return new("messages a string", "POST", "/v1/chat/completions", Utf8("{\"messages\": \"hi\"}"));
        yield return new("a message without content", "POST", "/v1/chat/completions", Utf8("{\"messages\": [{\"role\": \"user\"}]}"));
        yield return new("top_logprobs 99", "POST", "/v1/chat/completions", Utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"logprobs\": true, \"top_logprobs\": 99}"));
        yield return new("embeddings on a decoder", "POST", "/v1/embeddings", Utf8("{\"input\": \"a\"}"));
    }
}
