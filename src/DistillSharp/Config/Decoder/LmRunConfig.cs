using DistillSharp.Benchmarks.Decoder;
using DistillSharp.Data.Decoder.Traces;
namespace DistillSharp.Config.Decoder;

/// <summary>
/// A language-model distillation run (<c>kind: lm</c> in the YAML), as <see cref="LmConfigBinder"/>
/// binds and validates it: data → tokenizer → teacher (loaded or pretrained) → student trained by
/// sequence-level KD then token-level KD → a scratch student with the same steps and no teacher →
/// evaluation → benchmark → report. Every error names its YAML path; the rest of the code trusts it.
/// </summary>
public sealed record LmRunConfig : IRunConfig
{
    /// <inheritdoc/>
    public string Kind => ConfigKinds.Lm;

    /// <summary>Corpora, held-out split and token blocks.</summary>
    public LmDataConfig Data { get; init; } = new();

    /// <summary>The tokenizer trained on the training split.</summary>
    public LmTokenizerConfig Tokenizer { get; init; } = new();

    /// <summary>The teacher: an existing HF decoder folder or a pretraining recipe.</summary>
    public required LmTeacherConfig Teacher { get; init; }

    /// <summary>The student's architecture (trained by the teacher, and again from scratch as the baseline).</summary>
    public required DecoderShape Student { get; init; }

    /// <summary>Sequence-level KD: the teacher writes responses, the student is fine-tuned on them; null = skipped.</summary>
    public SeqKdConfig? SeqKd { get; init; }

    /// <summary>Token-level KD on the corpus against the teacher's (sparse top-k) distribution; null = skipped.</summary>
    public TokenKdConfig? Kd { get; init; }

    /// <summary>Train the scratch baseline (same architecture and step count, next-token CE only).</summary>
    public bool Scratch { get; init; } = true;

    /// <summary>Perplexity and samples.</summary>
    public LmEvalConfig Eval { get; init; } = new();

    /// <summary>Prefill/decode speed measurement.</summary>
    public LmBenchConfig Bench { get; init; } = new();

    /// <summary>Run folder.</summary>
    public string Output { get; init; } = "runs/lm";

    /// <summary>Seed for weights, data order and sampling.</summary>
    public int Seed { get; init; }

    /// <summary>Optimizer steps of the student's teacher-taught phases (= the scratch student's steps).</summary>
    public int StudentSteps => (SeqKd?.Train.Steps ?? 0) + (Kd?.Train.Steps ?? 0);

    /// <summary>The resolved config as YAML (defaults spelled out); <see cref="ConfigLoader"/> reads it back.</summary>
    public string ToYaml() => ConfigWriter.Write(this);
}

/// <summary>Text corpora and how they become training blocks.</summary>
/// <param name="Corpora">Dataset names (the catalog's, e.g. moby-dick, sotu); training text is their union.</param>
/// <param name="Heldout">Fraction of documents held out for perplexity, in (0, 0.5].</param>
/// <param name="Block">Tokens per training block (and per perplexity window).</param>
/// <param name="Batch">Default blocks per micro-batch.</param>
public sealed record LmDataConfig(IReadOnlyList<string>? Corpora = null, double Heldout = 0.05, int Block = 128, int Batch = 16)
{
    /// <summary>Corpus names the data section accepts.</summary>
    public static readonly string[] KnownCorpora = ["moby-dick", "sotu", "wordnet"];

    /// <summary>The corpora (default moby-dick and sotu).</summary>
    public IReadOnlyList<string> Names => Corpora ?? ["moby-dick", "sotu"];
}

/// <summary>The byte-level BPE tokenizer trained on the training split.</summary>
/// <param name="Vocab">Vocabulary size including the special tokens.</param>
/// <param name="MaxTrainChars">Characters of training text the BPE merges are learnt from (0 = all).</param>
public sealed record LmTokenizerConfig(int Vocab = 4096, int MaxTrainChars = 2_000_000)
{
    /// <summary>Special tokens, in id order.</summary>
    public static readonly string[] SpecialTokens = ["<pad>", "<s>", "</s>"];
}

/// <summary>A decoder's architecture.</summary>
/// <param name="Arch">"llama" (RMSNorm, RoPE, SwiGLU, grouped-query attention) or "gpt2".</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Hidden">Model width; divisible by <paramref name="Heads"/>.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads; divides <paramref name="Heads"/>.</param>
/// <param name="Ffn">Feed-forward (SwiGLU) width.</param>
/// <param name="TieEmbeddings">Share the input embedding with the output projection.</param>
/// <param name="RopeTheta">Rotary embedding base.</param>
public sealed record DecoderShape(string Arch = "llama", int Layers = 2, int Hidden = 192, int Heads = 3, int KvHeads = 1,
    int Ffn = 512, bool TieEmbeddings = true, double RopeTheta = 10000)
{
    /// <summary>Known architectures.</summary>
    public static readonly string[] Archs = ["llama", "gpt2"];

    /// <summary>Parameters of this shape with a vocabulary of <paramref name="vocab"/> (no biases; llama layout).</summary>
    public long EstimateParams(int vocab)
    {
        long h = Hidden, kv = (long)Hidden / Heads * KvHeads;
        long attention = h * h * 2 + h * kv * 2;
        long mlp = Arch == "gpt2" ? 2 * h * Ffn : 3 * h * Ffn;
        long embeddings = vocab * h * (TieEmbeddings ? 1 : 2);
        return embeddings + Layers * (attention + mlp + 2 * h) + h;
    }
}

/// <summary>One training phase's optimizer and loop settings.</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="Lr">Peak learning rate (AdamW).</param>
/// <param name="Warmup">Linear warm-up steps before the cosine decay.</param>
/// <param name="Batch">Blocks/examples per micro-batch; null = <see cref="LmDataConfig.Batch"/>.</param>
/// <param name="Accumulate">Micro-batches per optimizer step.</param>
/// <param name="WeightDecay">AdamW weight decay.</param>
/// <param name="ClipGradNorm">Max global gradient norm; null = no clipping.</param>
/// <param name="LogEvery">Write metrics every N steps.</param>
public sealed record LmTrainConfig(int Steps = 100, double Lr = 1e-3, int Warmup = 10, int? Batch = null, int Accumulate = 1,
    double WeightDecay = 0.1, double? ClipGradNorm = 1.0, int LogEvery = 10)
{
    /// <summary>The micro-batch size: the phase's own or the data default.</summary>
    public int BatchSize(LmDataConfig data) => Batch ?? data.Batch;
}

/// <summary>The teacher; exactly one of <paramref name="Source"/>, <paramref name="Pretrain"/> and <see cref="Endpoint"/> is set.</summary>
/// <param name="Source">An HF decoder folder (config.json, model.safetensors, tokenizer).</param>
/// <param name="Pretrain">Pretrain a teacher of this shape on the training split (cached by content hash).</param>
public sealed record LmTeacherConfig(string? Source = null, LmPretrainConfig? Pretrain = null)
{
    /// <summary>A teacher behind an OpenAI-compatible endpoint (<c>endpoint</c>, <c>model</c>, <c>api_key_env</c>): it writes the seqkd traces.</summary>
    public EndpointTeacher? Endpoint { get; init; }

    /// <summary>Endpoint teachers only: a folder with the teacher's tokenizer.json, which the student then uses (null = train a BPE tokenizer).</summary>
    public string? Tokenizer { get; init; }
}

/// <summary>How the traces of an endpoint teacher are collected (<c>seqkd.collect</c>).</summary>
/// <param name="Api">The route asked: completions (base models) or chat.</param>
/// <param name="TokenIds">Ask for tokens as <c>token_id:N</c> (vLLM's extension; needed for token-level KD; turn off for endpoints that reject it).</param>
/// <param name="TopP">Nucleus mass sent with every request (1 = not sent).</param>
/// <param name="Limits">Concurrency, rate limit, timeout and retries.</param>
public sealed record TraceCollectConfig(TraceApi Api = TraceApi.Completions, bool TokenIds = true, double TopP = 1, CollectLimits? Limits = null)
{
    /// <summary>Concurrency, rate limit, timeout and retries (never null after binding).</summary>
    public CollectLimits Limits { get; init; } = Limits ?? new();
}

/// <summary>Teacher pretraining: architecture and next-token training.</summary>
public sealed record LmPretrainConfig(DecoderShape Shape, LmTrainConfig Train);

/// <summary>Sequence-level KD: prompts cut from the training split, continued by the teacher, learnt by the student.</summary>
/// <param name="Prompts">Number of prompts.</param>
/// <param name="PromptTokens">Tokens per prompt.</param>
/// <param name="NewTokens">Tokens the teacher generates per prompt.</param>
/// <param name="Temperature">Sampling temperature (0 = greedy).</param>
/// <param name="TopK">Sample from the k most likely tokens (0 = all).</param>
/// <param name="GenerateBatch">Prompts generated together.</param>
/// <param name="Train">Fine-tuning of the student on the responses (loss on response tokens).</param>
public sealed record SeqKdConfig(int Prompts = 256, int PromptTokens = 32, int NewTokens = 64, double Temperature = 0.8,
    int TopK = 50, int GenerateBatch = 16, LmTrainConfig? Train = null)
{
    /// <summary>Fine-tuning settings (never null after binding).</summary>
    public LmTrainConfig Train { get; init; } = Train ?? new();

    /// <summary>Endpoint teachers: how the traces are collected.</summary>
    public TraceCollectConfig Collect { get; init; } = new();

    /// <summary>Endpoint teachers: which traces become SFT examples.</summary>
    public TraceFilterOptions Filter { get; init; } = new();

    /// <summary>Endpoint teachers: a JSONL file of <c>{"prompt": …, "answer": …}</c> used instead of prompts cut from the corpus (null = cut).</summary>
    public string? PromptsFile { get; init; }
}

/// <summary>Token-level KD on the training corpus.</summary>
/// <param name="Loss">Loss name from the KD loss registry (forward_kl, reverse_kl, jsd, skew_kl, …).</param>
/// <param name="Temperature">Softmax temperature of both distributions.</param>
/// <param name="TopK">Teacher tokens kept per position in the sparse cache (0 = full distribution, no cache).</param>
/// <param name="Beta">JSD teacher weight β in [0, 1] (jsd only).</param>
/// <param name="Alpha">Skew α in [0, 1) (skew_kl, skew_reverse_kl only).</param>
/// <param name="CeWeight">Weight of the plain next-token cross-entropy added to the KD loss.</param>
/// <param name="Train">Optimizer and loop settings.</param>
public sealed record TokenKdConfig(string Loss = "forward_kl", double Temperature = 1.0, int TopK = 32, double Beta = 0.5,
    double Alpha = 0.1, double CeWeight = 0.0, LmTrainConfig? Train = null)
{
    /// <summary>Optimizer and loop settings (never null after binding).</summary>
    public LmTrainConfig Train { get; init; } = Train ?? new();

    /// <summary>When set, KD runs on the student's own samples (on-policy, GKD) instead of the corpus blocks.</summary>
    public OnPolicyConfig? OnPolicy { get; init; }

    /// <summary>
    /// <c>kd.on</c>: what an endpoint teacher's token KD trains on — corpus blocks it scores with echo, or
    /// its traces' own tokens; null = traces for an endpoint (a teacher in this process always scores the corpus).
    /// </summary>
    public KdData? On { get; init; }
}

/// <summary>The text token-level KD runs on.</summary>
public enum KdData
{
    /// <summary>Training-split blocks, as the in-process KD phase picks them.</summary>
    Corpus,
    /// <summary>The endpoint teacher's kept traces (their returned top log-probabilities).</summary>
    Traces,
}

/// <summary>
/// On-policy token-level KD (GKD with λ = 1): each step the student samples responses to prompts
/// cut from the training text, and the KD loss scores its response tokens against the live teacher.
/// </summary>
/// <param name="Prompts">Prompts cut from the training split.</param>
/// <param name="PromptTokens">Tokens per prompt.</param>
/// <param name="NewTokens">Tokens the student samples per prompt.</param>
/// <param name="Temperature">Student sampling temperature (&gt; 0: on-policy means sampling).</param>
public sealed record OnPolicyConfig(int Prompts = 256, int PromptTokens = 32, int NewTokens = 32, double Temperature = 1.0);

/// <summary>Evaluation settings.</summary>
/// <param name="MaxBlocks">Held-out blocks the perplexity is computed on (0 = all).</param>
/// <param name="Prompts">Fixed prompts every model continues in the report.</param>
/// <param name="MaxNewTokens">Tokens generated per sample.</param>
/// <param name="Temperature">Sampling temperature for the samples (0 = greedy).</param>
/// <param name="RepetitionPenalty">Penalty (≥ 1) on tokens already in a sample, so small models' greedy samples do not loop on one word (1 = none).</param>
public sealed record LmEvalConfig(int MaxBlocks = 64, IReadOnlyList<string>? Prompts = null, int MaxNewTokens = 48, double Temperature = 0,
    double RepetitionPenalty = 1.3)
{
    /// <summary>The sample prompts (default three fixed openings).</summary>
    public IReadOnlyList<string> SamplePrompts => Prompts ?? ["Call me", "The whale", "Fellow citizens, the state of the Union"];
}
