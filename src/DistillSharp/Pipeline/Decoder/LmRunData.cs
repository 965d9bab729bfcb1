using System.Security.Cryptography;
using System.Text;
using DistillSharp.Data;
using DistillSharp.Data.Decoder;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Config.Decoder;

namespace DistillSharp.Pipeline.Decoder;

/// <summary>
/// The text of an LM run as token ids: the document-level train/held-out split, the tokenizer
/// (trained on the training split, or the teacher's own), and each split's documents encoded.
/// </summary>
public sealed class LmRunData
{
    /// <summary>Special tokens of a trained tokenizer; the first is end-of-text (EOS).</summary>
    public static readonly string[] SpecialTokens = ["</s>", "<s>", "<pad>"];

    LmRunData(LmCorpusSplit split, DecoderTokenizer tokenizer, IReadOnlyList<int[]> train, IReadOnlyList<int[]> heldOut, string textHash)
    {
        Split = split;
        Tokenizer = tokenizer;
        Train = train;
        HeldOut = heldOut;
        TextHash = textHash;
    }

    /// <summary>The documents.</summary>
    public LmCorpusSplit Split { get; }

    /// <summary>The tokenizer every model of the run shares.</summary>
    public DecoderTokenizer Tokenizer { get; }

    /// <summary>Training documents as ids (no BOS; the packer puts EOS between documents).</summary>
    public IReadOnlyList<int[]> Train { get; }

    /// <summary>Held-out documents as ids.</summary>
    public IReadOnlyList<int[]> HeldOut { get; }

    /// <summary>SHA-256 (hex, 24 chars) of every training and held-out text, in order.</summary>
    public string TextHash { get; }

    /// <summary>End-of-text id.</summary>
    public int EosId => Tokenizer.EosId ?? throw new DistillSharpException("the tokenizer has no end-of-text (EOS) token; the LM pipeline needs one to pack documents");

    /// <summary>Training tokens (documents only).</summary>
    public long TrainTokens => Train.Sum(d => (long)d.Length);

    /// <summary>The corpus the config names, fetched if needed (npm) and split at the document level.</summary>
    public static LmCorpusSplit LoadSplit(LmDataConfig data, TextWriter log) =>
        LmTextCorpus.Load(new LmCorpusOptions(data.Names.Contains("moby-dick"), data.Names.Contains("sotu"), data.Names.Contains("wordnet"), data.Heldout), log);

    /// <summary>Trains a byte-level BPE tokenizer on (the first <see cref="LmTokenizerConfig.MaxTrainChars"/> characters of) the training split.</summary>
    public static DecoderTokenizer TrainTokenizer(LmCorpusSplit split, LmTokenizerConfig config)
    {
        var texts = new List<string>();
        long chars = 0;
        foreach (var text in split.TrainTexts)
        {
            if (config.MaxTrainChars > 0 && chars >= config.MaxTrainChars) break;
            string piece = config.MaxTrainChars > 0 && chars + text.Length > config.MaxTrainChars ? text[..(int)(config.MaxTrainChars - chars)] : text;
            texts.Add(piece);
            chars += piece.Length;
        }
        return BpeTrainer.Train(texts, config.Vocab, SpecialTokens, bosToken: "<s>", padToken: "<pad>");
    }

    /// <summary>Encodes both splits with <paramref name="tokenizer"/>.</summary>
    public static LmRunData Encode(LmCorpusSplit split, DecoderTokenizer tokenizer)
    {
        if (split.Train.Count == 0) throw new DistillSharpException("the LM corpus has no training document");
        if (split.HeldOut.Count == 0) throw new DistillSharpException("the LM corpus has no held-out document; raise data.heldout or add text");
        var train = split.TrainTexts.Select(t => tokenizer.Encode(t)).ToList();
        var heldOut = split.HeldOutTexts.Select(t => tokenizer.Encode(t)).ToList();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var text in split.TrainTexts.Append("\0held-out\0").Concat(split.HeldOutTexts))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(text));
            sha.AppendData([0]);
        }
        return new LmRunData(split, tokenizer, train, heldOut, Convert.ToHexStringLower(sha.GetHashAndReset())[..24]);
    }

    /// <summary>Training blocks of <paramref name="block"/> tokens, <paramref name="batch"/> per micro-batch.</summary>
    public PackedLmBatcher TrainBatcher(int block, int batch, int seed) => new(Train, EosId, block, batch, (ulong)seed);

    /// <summary>
    /// Held-out blocks for perplexity: the first <paramref name="maxBlocks"/> (0 = all) blocks of a fixed
    /// shuffle, in batches of up to 8 (fewer when the held-out text is short).
    /// </summary>
    public IReadOnlyList<LmBatch> HeldOutBatches(int block, int maxBlocks)
    {
        long tokens = HeldOut.Sum(d => (long)d.Length + 1);
        int blocks = (int)Math.Max(0, (tokens - 1) / block);
        if (blocks == 0) throw new DistillSharpException($"the held-out text has {tokens} tokens, less than one block of {block} + 1");
        int batch = Math.Min(8, blocks);
        var batcher = new PackedLmBatcher(HeldOut, EosId, block, batch, seed: 12345);
        int batches = maxBlocks > 0 ? Math.Max(1, Math.Min(batcher.BatchesPerEpoch, maxBlocks / batch)) : batcher.BatchesPerEpoch;
        return batcher.Epoch(0).Take(batches).ToList();
    }

    /// <summary>SHA-256 (hex, 24 chars) of the files of a folder (names and bytes), e.g. a saved tokenizer.</summary>
    public static string FolderHash(string dir)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\0"));
            sha.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..24];
    }
}
