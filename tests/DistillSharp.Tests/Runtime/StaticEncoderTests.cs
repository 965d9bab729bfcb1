using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Static;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Tests.Runtime;

/// <summary>The static encoder (token table + mean) and its folder.</summary>
public sealed class StaticEncoderTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "static-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The tiny test vocabulary with an [unused0] slot appended; table rows r·(1, −1, 0.5) + (0, 0, id % 3), int8 per row.</summary>
    static StaticEncoder Tiny(bool normalize = true)
    {
        string vocab = TinyModels.Vocab + "[unused0]\n";
        var tokenizer = new BertTextTokenizer(vocab, lowerCase: true, maxLength: 16);
        int rows = tokenizer.VocabSize, cols = 3;
        var table = new float[rows * cols];
        for (int r = 0; r < rows; r++) (table[r * 3], table[r * 3 + 1], table[r * 3 + 2]) = (r, -r, 0.5f * r + r % 3);
        return new StaticEncoder(tokenizer, Int8EmbeddingTable.Quantize(new([.. table], [rows, cols])), normalize);
    }

    static float[] Row(StaticEncoder e, int id) =>
        Enumerable.Range(0, e.Dimensions).Select(j => e.Table.Values[id * e.Dimensions + j] * e.Table.Scales[id]).ToArray();

    [Fact]
    public void AnEmbeddingIsTheNormalisedMeanOfItsTokensRowsWithoutSpecialTokens()
    {
        var e = Tiny();
        var ids = e.Tokenizer.Encode("cat sat");          // [CLS] cat sat [SEP]
        Assert.Equal(4, ids.Count);
        var (cat, sat) = (Row(e, ids[1]), Row(e, ids[2]));
        var mean = cat.Zip(sat, (a, b) => (a + b) / 2).ToArray();
        double norm = Math.Sqrt(mean.Sum(x => (double)x * x));
        var got = e.Embed(["cat sat"])[0];
        for (int j = 0; j < 3; j++) Assert.Equal(mean[j] / norm, got[j], 6);
        var raw = Tiny(normalize: false).Embed(["cat sat"])[0];
        for (int j = 0; j < 3; j++) Assert.Equal(mean[j], raw[j], 5);
    }

    [Fact]
    public void SpecialAndUnusedTokensAreSkippedAndATextWithoutTokensIsZero()
    {
        var e = Tiny();
        int unused = e.Tokenizer.VocabSize - 1;
        foreach (int id in new[] { 0, 1, 2, 3, 4, unused }) Assert.True(e.IsSkipped(id), $"id {id}");
        Assert.False(e.IsSkipped(5));
        Assert.Equal(new float[3], e.Embed([""])[0]);
        Assert.Equal(new float[3], e.Embed(["[UNK]"])[0]);
        var output = new float[3];
        e.Pool([2, 5, unused, 3], output);                 // [CLS] the [unused0] [SEP] = "the" alone
        Assert.Equal(e.Embed(["the"])[0], output);
    }

    [Fact]
    public void ThePaddedBatchRunnerPoolsWhatEmbedPools()
    {
        var e = Tiny();
        var batch = e.Tokenizer.EncodeBatch(["the big red house", "cat"]);
        Assert.True(batch.AttentionMask[1, batch.Length - 1] == 0, "the second row is padded");
        e.Runner()(batch);                                  // pads are [PAD]: skipped, no exception
        var output = new float[3];
        var ids = Enumerable.Range(0, batch.Length).Select(t => (int)batch.InputIds[1, t]).ToArray();
        e.Pool(ids, output);
        Assert.Equal(e.Embed(["cat"])[0], output);
        Assert.Throws<DistillSharpException>(() => e.Pool([e.Tokenizer.VocabSize], output));
    }

    [Fact]
    public void SaveLoadRoundTripGivesIdenticalEmbeddings()
    {
        var e = Tiny();
        string folder = Path.Combine(_dir, StaticEncoderFile.RunSubfolder);
        StaticEncoderFile.Save(e, folder, new Dictionary<string, string> { ["teacher"] = "tiny" });
        var loaded = StaticEncoderFile.Load(_dir);           // the run folder
        string[] texts = ["the cat sat on the mat", "blue fish", ""];
        Assert.Equal(e.Embed(texts), loaded.Embed(texts));
        Assert.Equal(e.Tokenizer.MaxLength, loaded.Tokenizer.MaxLength);
        Assert.Contains("\"teacher\": \"tiny\"", File.ReadAllText(Path.Combine(folder, StaticEncoderFile.RuntimeFile)));
        Assert.True(StaticEncoderFile.Bytes(folder) > e.Table.Values.Length);
    }

    [Fact]
    public void BadFoldersFailNamingTheFile()
    {
        var e = Tiny();
        string folder = Path.Combine(_dir, "s");
        StaticEncoderFile.Save(e, folder);
        File.WriteAllText(Path.Combine(folder, StaticEncoderFile.VocabFile), TinyModels.Vocab);   // one token fewer than the table
        var rows = Assert.Throws<DistillSharpException>(() => StaticEncoderFile.Load(folder));
        Assert.Contains("static.safetensors", rows.Message);
        Assert.Contains("rows", rows.Message);
        File.Delete(Path.Combine(folder, StaticEncoderFile.TableFile));
        Assert.Contains("missing static.safetensors", Assert.Throws<DistillSharpException>(() => StaticEncoderFile.Load(folder)).Message);
        File.WriteAllText(Path.Combine(folder, StaticEncoderFile.RuntimeFile), "{\"format\": \"other\"}");
        Assert.Contains("format 'other'", Assert.Throws<DistillSharpException>(() => StaticEncoderFile.Load(folder)).Message);
        Assert.Contains("not a static model", Assert.Throws<DistillSharpException>(() => StaticEncoderFile.Load(_dir)).Message);
    }
}
