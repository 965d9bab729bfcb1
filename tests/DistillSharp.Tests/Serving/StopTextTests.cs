using DistillSharp.Runtime.Decoder.Generation;
using DistillSharp.Serving.Generation;
using DistillSharp.Serving.Backends;

namespace DistillSharp.Tests.Serving;

/// <summary>Stop strings and streamed text pieces of the INT8 generation loop, and its log-probabilities.</summary>
public sealed class StopTextTests
{
    static readonly DistillSharp.Runtime.Tokenization.DecoderTokenizer Tokenizer = ServingTestKit.DecoderTokenizer;

    static (List<string> Pieces, StopText Text) Feed(string text, IReadOnlyList<string> stops, bool eosAtEnd = false)
    {
        var ids = Tokenizer.Encode(text);
        var tracker = new StopText(Tokenizer, stops);
        var pieces = new List<string>();
        for (int i = 0; i < ids.Length; i++)
        {
            pieces.Add(tracker.Add(ids[i], isStopToken: false, finished: !eosAtEnd && i == ids.Length - 1));
            if (tracker.HitStopString) break;
        }
        if (eosAtEnd && !tracker.HitStopString) pieces.Add(tracker.Add(0, isStopToken: true, finished: true));
        return (pieces, tracker);
    }

    [Fact]
    public void PiecesConcatenateToTheTextCutBeforeTheStopString()
    {
        var (pieces, text) = Feed("an expert who gives advice to a person", ["gives"]);
        Assert.True(text.HitStopString);
        Assert.Equal("an expert who ", text.Text);
        Assert.Equal(text.Text, string.Concat(pieces));
    }

    [Fact]
    public void APossibleStopPrefixIsHeldBackUntilDecided()
    {
        var ids = Tokenizer.Encode("an expert who");
        var tracker = new StopText(Tokenizer, ["who cares"]);
        var pieces = ids.Select(id => tracker.Add(id, false, finished: false)).ToList();
        Assert.DoesNotContain("who", string.Concat(pieces));            // "who" may become "who cares"
        pieces.Add(tracker.Add(0, isStopToken: true, finished: true));  // EOS decides it: the held-back tail comes out
        Assert.EndsWith("who", pieces[^1]);
        Assert.Equal("an expert who", string.Concat(pieces));
        Assert.False(tracker.HitStopString);
        Assert.Equal("an expert who", tracker.Text);
    }

    [Fact]
    public void AFinalEosAddsNoText()
    {
        var (pieces, text) = Feed("a small house", [], eosAtEnd: true);
        Assert.Equal("a small house", text.Text);
        Assert.Equal("a small house", string.Concat(pieces));
    }

    [Fact]
    public void LogprobsAreSortedAndNormalised()
    {
        float[] logits = [0.5f, 2f, -1f, 2f, 1f];
        var (chosen, top) = Int8CompletionBackend.Logprobs(logits, 4, 3);
        Assert.Equal([1, 3, 4], top.Select(t => t.Id));                 // ties by lower id
        Assert.Equal(1.0, logits.Select((_, i) => Math.Exp(Int8CompletionBackend.Logprobs(logits, i, 0).Chosen!.Value.Logprob)).Sum(), 6);
        Assert.Equal(top[2], chosen);
        Assert.Empty(Int8CompletionBackend.Logprobs(logits, 0, 0).Top);
        Assert.Equal(5, Int8CompletionBackend.Logprobs(logits, 0, 20).Top.Length);
        Assert.Equal(new TokenLogprob(1, top[0].Logprob), top[0]);
    }
}
