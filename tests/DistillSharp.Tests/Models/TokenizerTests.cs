using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Tests.Models;

public class TokenizerTests
{
    static BertTextTokenizer MiniLm(int maxLength = 256)
    {
        var (_, vocab) = BuiltinTeachers.Get("all-MiniLM-L6-v2").ReadResources();
        return new BertTextTokenizer(vocab, lowerCase: true, maxLength);
    }

    [Fact]
    public void MatchesHuggingFaceIdsForAKnownSentence()
    {
        // bert-base-uncased / all-MiniLM-L6-v2 ids, as transformers' BertTokenizer gives them.
        int[] expected = [101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102];
        Assert.Equal(expected, MiniLm().Encode("The quick brown fox jumps over the lazy dog."));
    }

    [Fact]
    public void LowerCasesAndStripsAccents()
    {
        var t = MiniLm();
        Assert.Equal(t.Encode("cafe"), t.Encode("CAFÉ"));
    }

    [Fact]
    public void TruncatesToMaxLengthKeepingSep()
    {
        var t = MiniLm(maxLength: 8);
        var ids = t.Encode("one two three four five six seven eight nine ten");
        Assert.Equal(8, ids.Count);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
    }

    [Fact]
    public void PadsMixedLengthBatchesWithMask()
    {
        var t = MiniLm();
        var batch = t.EncodeBatch(["a b c d e", "x"]);
        Assert.Equal(7, batch.Length);
        Assert.Equal(new long[] { 1, 1, 1, 0, 0, 0, 0 }, Enumerable.Range(0, 7).Select(i => batch.AttentionMask[1, i]));
        Assert.Equal(0, batch.InputIds[1, 6]); // [PAD]
        Assert.Equal(10, batch.RealTokens);
    }

    [Fact]
    public void VocabularyWithoutSpecialTokensIsRejected()
    {
        var e = Assert.Throws<DistillSharpException>(() => new BertTextTokenizer("hello\nworld\n", true, 16, "my-vocab.txt"));
        Assert.Contains("my-vocab.txt", e.Message);
        Assert.Contains("[CLS]", e.Message);
    }
}
