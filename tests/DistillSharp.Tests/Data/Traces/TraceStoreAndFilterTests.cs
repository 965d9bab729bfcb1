using DistillSharp.Data.Decoder.Traces;

namespace DistillSharp.Tests.Data.Traces;

/// <summary>The trace store's durability rules and the SFT filters' counts (hand-made traces).</summary>
public sealed class TraceStoreAndFilterTests
{
    static TeacherTrace T(string key, string text, string? answer = null, string? reasoning = null) =>
        new() { Key = key, Prompt = "p " + key, Text = text, Answer = answer, Reasoning = reasoning, FinishReason = "stop" };

    static string TempFile() => Path.Combine(Path.GetTempPath(), "ds-store-" + Guid.NewGuid().ToString("N")[..8], "traces.jsonl");

    [Fact]
    public void AppendsOncePerKeyAndDropsOnlyATornLastLine()
    {
        string file = TempFile();
        try
        {
            using (var store = new TraceStore(file))
            {
                Assert.True(store.Append(T("a", "one")));
                Assert.True(store.Append(T("b", "two")));
                Assert.False(store.Append(T("a", "again")));               // same key: not written
            }
            File.AppendAllText(file, "{\"key\":\"c\",\"prompt\":\"x\",\"te");
            using (var store = new TraceStore(file))
            {
                Assert.Equal(["a", "b"], store.All().Select(t => t.Key));
                Assert.Equal("one", store.All()[0].Text);
                Assert.True(store.TornBytes > 0);
                Assert.True(store.Append(T("c", "three")));
            }
            Assert.Equal(3, File.ReadAllLines(file).Length);
            using (var store = new TraceStore(file)) Assert.Equal((3, 0L), (store.Count, store.TornBytes));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Fact]
    public void ACorruptLineBeforeTheLastIsAnErrorNamingTheLine()
    {
        string file = TempFile();
        try
        {
            using (var store = new TraceStore(file)) store.Append(T("a", "one"));
            File.AppendAllText(file, "not json\n");
            File.AppendAllText(file, File.ReadAllLines(file)[0].Replace("\"a\"", "\"b\"") + "\n");
            var e = Assert.Throws<DistillSharpException>(() => new TraceStore(file));
            Assert.Contains("line 2", e.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Fact]
    public void EachFilterCountsWhatItRemoved()
    {
        var traces = new[]
        {
            T("1", " The answer is 42."),
            T("2", "   "),                                                   // empty
            T("3", "<think>hmm</think>"),                                    // empty once the reasoning is set aside
            T("4", "I'm sorry, but I cannot help with that."),               // refusal
            T("5", "As an AI, I won't."),                                    // refusal
            T("6", "It is 41."),                                             // fails the verifier
            T("7", "The answer is 7 and a very long explanation follows here."), // too long
            T("8", " The  answer is 42. "),                                  // duplicate of 1 (whitespace)
            T("9", "<think>six times seven</think> The answer is 42!"),      // kept, reasoning kept
        };
        var options = new TraceFilterOptions(MinTokens: 2, MaxTokens: 8, VerifyRegex: @"answer is \d+");
        var (kept, report) = TraceFilter.Apply(traces, options, s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(["1", "9"], kept.Select(k => k.Trace.Key));
        Assert.Equal(new Dictionary<string, int> { ["empty"] = 2, ["refusal"] = 2, ["verifier"] = 1, ["length"] = 1, ["duplicate"] = 1 }, report.Removed);
        Assert.Equal((9, 2), (report.Input, report.Kept));
        Assert.Equal("<think>six times seven</think> The answer is 42!", kept[1].Response);
        Assert.True(kept[0].Verbatim && kept[1].Verbatim);

        var (stripped, _) = TraceFilter.Apply(traces, options with { KeepThinking = false }, s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("The answer is 42!", stripped[1].Response);
        Assert.False(stripped[1].Verbatim);
        Assert.Equal(" The answer is 42.", stripped[0].Response);
        Assert.True(stripped[0].Verbatim);
    }

    [Fact]
    public void ReasoningContentIsWrappedInThinkOrLeftOutAndExactAnswersAreChecked()
    {
        var traces = new[] { T("1", "42", answer: "42", reasoning: "6 × 7"), T("2", "41", answer: "42"), T("3", "42") };
        var (kept, report) = TraceFilter.Apply(traces, new TraceFilterOptions(ExactAnswer: true), _ => 1);
        Assert.Equal(["1"], kept.Select(k => k.Trace.Key));
        Assert.Equal(2, report.Removed["verifier"]);                        // wrong answer, and no reference answer
        Assert.Equal("<think>6 × 7</think>42", kept[0].Response);
        Assert.False(kept[0].Verbatim);
        var (plain, _) = TraceFilter.Apply(traces, new TraceFilterOptions(ExactAnswer: true, KeepThinking: false), _ => 1);
        Assert.Equal("42", plain[0].Response);
        Assert.True(TraceFilter.IsRefusal("  I’m sorry, no."));
        Assert.False(TraceFilter.IsRefusal("Sorrowful whales sang."));
    }
}
