using DistillSharp.Data;
using DistillSharp.Models.Decoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.FaultInjection;

/// <summary>
/// A run the harness kills: its config, the files of an uninterrupted run that a resumed run must
/// reproduce byte for byte, and where its teacher cache is written (under the cache root).
/// </summary>
sealed record RunKind(string Name, string Config, IReadOnlyList<string> Compared, string TeacherCacheFolder);

/// <summary>Tiny encoder and LM runs (seconds of training each) over random-weight teachers saved as Hugging Face folders.</summary>
static class TinyRuns
{
    static readonly string[] Words =
    [
        "the", "a", "cat", "dog", "sat", "on", "mat", "ran", "fast", "slow", "big", "small", "red", "blue",
        "house", "tree", "bird", "fish", "eat", "sleep", "and", "or", "not", "is", "was", "it", ".", ",", "##s", "##ed",
    ];

    /// <summary>An encoder run: 2-layer teacher (hidden 64), 1-layer student initialised from it, two stages, teacher cache on.</summary>
    public static RunKind Encoder(string work)
    {
        string teacher = Path.Combine(work, "encoder-teacher"), corpus = Path.Combine(work, "encoder-corpus.txt");
        var config = new BertConfig
        {
            VocabSize = 5 + Words.Length, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 256,
            MaxPositionEmbeddings = 64, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
        };
        manual_seed(2);
        string vocab = string.Join("\n", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat(Words)) + "\n";
        using (var encoder = new SentenceEncoder(new BertEncoderModel(config), new BertTextTokenizer(vocab, true, 32), Pooling.Mean, true, "teacher"))
            HuggingFaceFolder.Save(encoder, teacher);
        File.WriteAllLines(corpus, Enumerable.Range(0, 240).Select(i =>
            string.Join(' ', Enumerable.Range(0, 3 + i % 11).Select(j => Words[(i * 5 + j * 7) % 26]))));
        string yaml = Path.Combine(work, "encoder.yaml");
        File.WriteAllText(yaml, $$"""
            teacher: { source: {{teacher}} }
            student: { layers: 1, hidden: 64, heads: 4, ffn: 256, init: teacher, teacher_layers: [1] }
            data: { corpus: {{corpus}}, max_len: 32, batch: 8 }
            stages:
              - name: align
                steps: 240
                losses: { hidden_mse: 1.0, embedding_cosine: 1.0 }
                optimizer: { lr: 1.0e-3, betas: [0.9, 0.98] }
                checkpoint_every: 20
                log_every: 1
              - name: polish
                steps: 60
                losses: { embedding_mse: 1.0 }
                optimizer: { lr: 3.0e-4 }
                checkpoint_every: 15
                log_every: 1
            quantize: { recipe: int8-dynamic }
            eval: []
            bench: { batch: [1, 2], seq: 16, runs: 3 }
            seed: 11
            """);
        return new RunKind("encoder", yaml, ["student/model.safetensors", "student-int8/quantized.safetensors", "student-int8/fp32.safetensors", "student.onnx"],
            "teacher-cache");
    }

    /// <summary>
    /// An LM run: a random-weight Llama teacher (2 × 32, GQA) with a 320-id BPE tokenizer trained on
    /// Moby-Dick, and a student taught by sequence-level KD then sparse top-8 token KD (teacher cache on).
    /// </summary>
    public static RunKind Lm(string work)
    {
        string teacher = Path.Combine(work, "lm-teacher");
        var split = LmTextCorpus.Load(new LmCorpusOptions(MobyDick: true, StateOfTheUnion: false), TextWriter.Null);
        var tokenizer = BpeTrainer.Train(split.TrainTexts.Take(40).ToList(), 320, ["</s>", "<s>", "<pad>"], bosToken: "<s>", padToken: "<pad>");
        var shape = new DecoderConfig
        {
            ModelType = "llama", VocabSize = tokenizer.VocabSize, HiddenSize = 32, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 8,
            IntermediateSize = 64, MaxPositions = 512, TieWordEmbeddings = true, BosTokenId = tokenizer.BosId, EosTokenIds = [tokenizer.EosId!.Value],
            PadTokenId = tokenizer.PadId,
        };
        manual_seed(3);
        using (var model = DecoderModels.Create(shape)) DecoderFolder.Save(model, tokenizer, teacher);
        string yaml = Path.Combine(work, "lm.yaml");
        File.WriteAllText(yaml, $$"""
            kind: lm
            data: { corpus: [moby-dick], heldout: 0.05, block: 32, batch: 4 }
            teacher: { source: {{teacher}} }
            student: { arch: llama, layers: 1, hidden: 32, heads: 4, kv_heads: 2, ffn: 64, tie_embeddings: true }
            seqkd:
              prompts: 16
              prompt_tokens: 8
              new_tokens: 8
              generate_batch: 8
              train: { steps: 40, lr: 2.0e-3, warmup: 4, batch: 4, log_every: 1 }
            kd:
              loss: forward_kl
              top_k: 8
              train: { steps: 80, lr: 2.0e-3, warmup: 8, log_every: 1 }
            scratch: false
            eval: { max_blocks: 4, max_new_tokens: 4, prompts: ["Call me"] }
            bench: { batch: [1], prompt_tokens: 8, new_tokens: 4, runs: 1 }
            seed: 5
            """);
        return new RunKind("lm", yaml, ["student/model.safetensors"], "lm-kd-cache");
    }
}
