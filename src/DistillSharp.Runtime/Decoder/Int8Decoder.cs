using System.Runtime.CompilerServices;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// Inference-only decoder LM (Llama family: llama, qwen2, mistral; and GPT-2) in pure C#: every Linear, lm_head
/// included, as int8 weights per output channel × int8 activations quantized per token at run time
/// (<see cref="Int8DecoderMode.Dynamic"/>, the encoder runtime's <see cref="EncoderLinear"/> and
/// <see cref="Int8Gemm"/>), or dequantized weights in fp32 (<see cref="Int8DecoderMode.WeightOnly"/>);
/// RMSNorm (GPT-2: LayerNorm), rotary positions (GPT-2: learned positions), grouped-query attention
/// and softmax in fp32 with a preallocated fp32 KV cache per <see cref="Int8DecoderSession"/>. The
/// semantics are those of <c>LlamaForCausalLm</c> / <c>Gpt2LmHeadModel</c> with their Linears quantized.
/// </summary>
/// <remarks>
/// The tokens of a call are packed without padding: prompts of different lengths behave as HF's
/// left padding (each sequence starts at position 0 and sees only its own tokens). q/k/v run as one
/// GEMM, gate/up as another (GPT-2's c_attn is one already). Per-token activation quantization, the row kernels and the attention
/// compute each token the same way whatever the batch, so a decode step reproduces a full recompute
/// (tested). Not thread-safe: one call at a time per decoder.
/// </remarks>
public sealed class Int8Decoder : IDisposable
{
    // Up = gate|up stacked (Llama) or c_fc (GPT-2); norm biases only for GPT-2's LayerNorms.
    sealed record Layer(EncoderLinear Qkv, EncoderLinear Output, EncoderLinear Up, EncoderLinear Down,
        (float[] Weight, float[]? Bias) InputNorm, (float[] Weight, float[]? Bias) PostNorm);

    readonly EncoderKernels _kernels;
    readonly DecoderRowKernels _rows;
    readonly DecoderAttentionKernel _attention;
    readonly Layer[] _layers;
    readonly EncoderLinear _lmHead;
    readonly (float[] Weight, float[]? Bias) _finalNorm;
    readonly float[]? _embed, _positions;
    readonly Int8EmbeddingTable? _embedInt8;
    readonly RotaryFrequencies _rotary;
    readonly float _eps;
    readonly Activation _act;
    readonly Activation _ffnAct; // GPT-2's c_fc activation
    readonly bool _gpt2;

    /// <summary>Builds the runtime from <paramref name="weights"/> (packs every Linear once).</summary>
    public Int8Decoder(Int8DecoderWeights weights, Int8DecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Options = (options ?? new Int8DecoderOptions()).Validate();
        Weights = weights.Validate();
        var c = Config;
        bool int8 = Options.Mode == Int8DecoderMode.Dynamic;
        _eps = (float)c.NormEps;
        _gpt2 = c.IsGpt2;
        if (_gpt2) _ffnAct = Activations.Parse(c.HiddenAct);
        else _act = Activations.Parse(c.HiddenAct);
        _embedInt8 = weights.Int8Embeddings;
        _embed = _embedInt8 is null ? weights.Tensor(weights.EmbeddingsName, c.VocabSize, c.HiddenSize) : null;
        _positions = _gpt2 ? weights.Tensor(Int8DecoderWeights.PositionsName, c.MaxPositions, c.HiddenSize) : null;
        _finalNorm = weights.Norm(weights.FinalNormName);
        var shapes = weights.LinearShapes();
        var all = new List<EncoderLinear>();
        _layers = Enumerable.Range(0, c.NumLayers).Select(i =>
        {
            var names = Int8DecoderWeights.LinearNames(c, i);
            var norms = weights.NormNames(i);
            var src = names.Select((n, j) => weights.Linear(n, shapes[j].Out, shapes[j].In, int8)).ToArray();
            var layer = _gpt2
                ? new Layer(EncoderLinear.Create(src[0]), EncoderLinear.Create(src[1]), EncoderLinear.Create(src[2]), EncoderLinear.Create(src[3]),
                    weights.Norm(norms[0]), weights.Norm(norms[1]))
                : new Layer(Stack($"model.layers.{i}.self_attn.qkv_proj", src[..3]), EncoderLinear.Create(src[3]),
                    Stack($"model.layers.{i}.mlp.gate_up_proj", src[4..6]), EncoderLinear.Create(src[6]),
                    weights.Norm(norms[0]), weights.Norm(norms[1]));
            for (int j = 0; j < names.Count; j++) (src[j].Int8Weight is null ? Fp32Layers : Int8Layers).Add(names[j]);
            all.AddRange([layer.Qkv, layer.Output, layer.Up, layer.Down]);
            return layer;
        }).ToArray();
        var head = weights.Linear(Int8DecoderWeights.LmHeadName, c.VocabSize, c.HiddenSize, int8);
        (head.Int8Weight is null ? Fp32Layers : Int8Layers).Add(Int8DecoderWeights.LmHeadName);
        _lmHead = EncoderLinear.Create(head);
        all.Add(_lmHead);
        _rotary = new RotaryFrequencies(c.HeadDim, c.RopeTheta, c.RopeScaling, c.MaxPositions);
        var scheme = Options.ActivationSymmetric ? ActivationQuantization.SymmetricS8 : ActivationQuantization.AsymmetricU8;
        _kernels = new EncoderKernels(Options.Threads, Options.Kernel, fuse: true, scheme, [c.HiddenSize, c.NumHeads * c.HeadDim, c.IntermediateSize]);
        _rows = new DecoderRowKernels(_kernels.Pool);
        _attention = new DecoderAttentionKernel(_kernels.Pool);
        static long NormFloats((float[] Weight, float[]? Bias) n) => n.Weight.Length + (n.Bias?.Length ?? 0);
        ModelBytes = all.Sum(LinearBytes) + 4L * (NormFloats(_finalNorm) + _layers.Sum(l => NormFloats(l.InputNorm) + NormFloats(l.PostNorm)))
            + (_embedInt8 is { } t ? t.Values.LongLength + 4L * t.Scales.Length : 4L * _embed!.LongLength) + 4L * (_positions?.LongLength ?? 0);
    }

    static EncoderLinear Stack(string name, LinearSource[] parts) => EncoderLinear.Stack(name, parts)
        ?? throw new DistillSharpException($"{string.Join(", ", parts.Select(p => p.Name))} must all be int8 or all fp32 (they run as one GEMM, {name})");

    static long LinearBytes(EncoderLinear l) => 4L * l.Bias.Length + (l.Int8 is { } q
        ? q.Data.LongLength + 4L * (q.Scales.Length + q.ColumnSums.Length)
        : 4L * l.Fp32!.Data.LongLength);

    /// <summary>What the runtime was built from.</summary>
    public Int8DecoderWeights Weights { get; }
    /// <summary>How it runs.</summary>
    public Int8DecoderOptions Options { get; }
    /// <summary>The model's shape.</summary>
    public DecoderConfig Config => Weights.Config;
    /// <summary>Bytes the runtime holds for the model (packed weights, scales, biases, norms, embeddings), without sessions.</summary>
    public long ModelBytes { get; }
    /// <summary>Linear layers running in int8 (HF names).</summary>
    public List<string> Int8Layers { get; } = [];
    /// <summary>Linear layers running in fp32.</summary>
    public List<string> Fp32Layers { get; } = [];

    /// <summary>
    /// A session for <paramref name="batch"/> sequences of up to <paramref name="capacity"/> tokens each
    /// (0 = the config's max_position_embeddings). Allocates its KV cache now.
    /// </summary>
    public Int8DecoderSession NewSession(int batch, int capacity = 0)
    {
        if (batch < 1) throw new DistillSharpException($"session batch must be >= 1, got {batch}");
        if (capacity < 0) throw new DistillSharpException($"session capacity must be >= 0 (0 = max_position_embeddings), got {capacity}");
        if (_gpt2 && capacity > Config.MaxPositions)
            throw new DistillSharpException($"session capacity {capacity} exceeds n_positions {Config.MaxPositions} of this GPT-2 model");
        return new Int8DecoderSession(this, batch, capacity == 0 ? Config.MaxPositions : capacity);
    }

    /// <summary>
    /// Starts the session over with one prompt per sequence (lengths may differ; each is run as if
    /// left-padded) and returns the logits of each prompt's last token, (batch, vocab) row-major — a
    /// view of a session buffer valid until the session's next call.
    /// </summary>
    public ReadOnlySpan<float> Prefill(Int8DecoderSession session, IReadOnlyList<int[]> prompts)
    {
        Check(session);
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count != session.Batch)
            throw new DistillSharpException($"prefill got {prompts.Count} prompts for a session of batch {session.Batch}");
        long total = 0;
        for (int b = 0; b < prompts.Count; b++)
        {
            int n = prompts[b]?.Length ?? 0;
            if (n < 1 || n > session.Capacity)
                throw new DistillSharpException($"prompt {b} has {n} tokens; allowed: 1 … session capacity {session.Capacity}");
            total += n;
        }
        if (total > Array.MaxLength) throw new DistillSharpException($"the prompts hold {total:N0} tokens together; prefill them in smaller batches");
        int tokens = (int)total;
        session.Reset();
        session.Ensure(tokens);
        int r = 0;
        for (int b = 0; b < prompts.Count; b++)
        {
            session.Starts[b] = r;
            session.Counts[b] = prompts[b].Length;
            session.Past[b] = 0;
            for (int t = 0; t < prompts[b].Length; t++, r++) Place(session, r, b, t, prompts[b][t], $"prompt {b} token {t}");
            session.OutputRows[b] = r - 1;
        }
        Forward(session, tokens, session.OutputRows, session.Batch, session.Logits);
        for (int b = 0; b < prompts.Count; b++) session.LengthArray[b] = prompts[b].Length;
        return session.Logits.AsSpan(0, session.Batch * Config.VocabSize);
    }

    /// <summary>
    /// Appends one token per sequence and returns the next-token logits, (batch, vocab) row-major, a
    /// view valid until the session's next call. Allocates nothing.
    /// </summary>
    public ReadOnlySpan<float> Decode(Int8DecoderSession session, scoped ReadOnlySpan<int> nextTokens)
    {
        Check(session);
        if (nextTokens.Length != session.Batch)
            throw new DistillSharpException($"decode got {nextTokens.Length} tokens for a session of batch {session.Batch}");
        for (int b = 0; b < session.Batch; b++)
        {
            int len = session.Lengths[b];
            if (len == 0) throw new DistillSharpException($"sequence {b} has no prompt yet; call Prefill first");
            if (len >= session.Capacity) throw new DistillSharpException($"sequence {b} is full ({len} tokens = session capacity)");
            session.Starts[b] = b;
            session.Counts[b] = 1;
            session.Past[b] = len;
            session.OutputRows[b] = b;
            Place(session, b, b, len, nextTokens[b], "next token");
        }
        Forward(session, session.Batch, session.OutputRows, session.Batch, session.Logits);
        for (int b = 0; b < session.Batch; b++) session.LengthArray[b]++;
        return session.Logits.AsSpan(0, session.Batch * Config.VocabSize);
    }

    /// <summary>Logits of every position of one sequence, (T, vocab) row-major (for perplexity; allocates).</summary>
    public float[] Logits(int[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length == 0) throw new DistillSharpException("Logits needs at least one token");
        if ((long)ids.Length * Config.VocabSize > Array.MaxLength)
            throw new DistillSharpException($"logits of {ids.Length:N0} tokens × {Config.VocabSize:N0} ids do not fit one array; score shorter sequences");
        var session = NewSession(1, ids.Length);
        session.Ensure(ids.Length);
        session.Starts[0] = 0;
        session.Counts[0] = ids.Length;
        session.Past[0] = 0;
        var rows = new int[ids.Length];
        for (int t = 0; t < ids.Length; t++)
        {
            Place(session, t, 0, t, ids[t], $"token {t}");
            rows[t] = t;
        }
        var logits = new float[(long)ids.Length * Config.VocabSize];
        Forward(session, ids.Length, rows, ids.Length, logits);
        return logits;
    }

    void Check(Int8DecoderSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!ReferenceEquals(session.Owner, this)) throw new DistillSharpException("the session belongs to another Int8Decoder");
    }

    void Place(Int8DecoderSession s, int row, int seq, int pos, int id, string what)
    {
        if ((uint)id >= (uint)Config.VocabSize) throw new DistillSharpException($"{what} = {id} is outside the vocabulary [0, {Config.VocabSize})");
        s.Ids[row] = id;
        s.Seq[row] = seq;
        s.Pos[row] = pos;
    }

    // Runs the packed tokens [0, n) of the session through the model (their K/V enter the cache) and
    // writes the logits of token rows outputRows[0 .. outputs) to logits.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code in short benchmarks
    void Forward(Int8DecoderSession s, int n, int[] outputRows, int outputs, float[] logits)
    {
        var c = Config;
        int h = c.HiddenSize, d = c.HeadDim, qkvWidth = (c.NumHeads + 2 * c.NumKvHeads) * d;
        Embed(s, n);
        if (!_gpt2) _rotary.CosSin(s.Pos.AsSpan(0, n), s.Cos, s.Sin);
        var k = _kernels;
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            Norm(s.Hidden, l == 0 ? null : s.Projection, n, layer.InputNorm, s.Normed);                           // x += mlp(previous)
            layer.Qkv.Forward(k, s.Normed, n, s.Qkv, Activation.None, EncoderOp.QkvGemm);                  // (N, (h + 2kvh)·d)
            _rows.Rotary(s.Qkv, n, s.Cos, s.Sin, s.Seq, s.Pos, c.NumHeads, c.NumKvHeads, d, s.Keys[l], s.Values[l], s.Capacity, rotate: !_gpt2);
            _attention.Run(s.Qkv, qkvWidth, s.Keys[l], s.Values[l], s.Capacity, s.Context, s.Scores, s.Starts, s.Counts, s.Past,
                s.Batch, c.NumHeads, c.NumKvHeads, d, c.SlidingWindow);
            layer.Output.Forward(k, s.Context, n, s.Projection, Activation.None, EncoderOp.AttentionOutputGemm);
            Norm(s.Hidden, s.Projection, n, layer.PostNorm, s.Normed);                                             // x += attn
            if (_gpt2) layer.Up.Forward(k, s.Normed, n, s.Gated, _ffnAct, EncoderOp.FfnInGemm);                 // (N, F), bias + activation
            else
            {
                layer.Up.Forward(k, s.Normed, n, s.GateUp, Activation.None, EncoderOp.FfnInGemm);              // (N, 2F): gate | up
                _rows.Gate(s.GateUp, n, c.IntermediateSize, _act, s.Gated);
            }
            layer.Down.Forward(k, s.Gated, n, s.Projection, Activation.None, EncoderOp.FfnOutGemm);
        }
        Norm(s.Hidden, s.Projection, n, _finalNorm, s.Normed);
        for (int i = 0; i < outputs; i++) s.Normed.AsSpan(outputRows[i] * h, h).CopyTo(s.LastRows.AsSpan(i * h, h));
        _lmHead.Forward(k, s.LastRows, outputs, logits, Activation.None, EncoderOp.FfnOutGemm);
    }

    void Norm(float[] x, float[]? add, int n, (float[] Weight, float[]? Bias) norm, float[] output) =>
        _rows.ResidualNorm(x, add, n, norm.Weight, norm.Bias, _eps, output);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code in short benchmarks
    void Embed(Int8DecoderSession s, int n)
    {
        int h = Config.HiddenSize;
        for (int r = 0; r < n; r++)
        {
            int id = s.Ids[r];
            var row = s.Hidden.AsSpan(r * h, h);
            if (_embedInt8 is { } t)
            {
                var q = t.Values.AsSpan(id * h, h);
                float scale = t.Scales[id];
                for (int j = 0; j < h; j++) row[j] = q[j] * scale;
            }
            else _embed.AsSpan(id * h, h).CopyTo(row);
            if (_positions is not null) ElementwiseKernels.ResidualAdd(row, _positions.AsSpan(s.Pos[r] * h, h), row); // wte + wpe
        }
    }

    /// <summary>Saves the model to <paramref name="dir"/> (layout: <see cref="Int8DecoderFile"/>).</summary>
    public void Save(string dir) => Int8DecoderFile.Save(Weights, dir);

    /// <summary>Loads a folder written by <see cref="Save"/>.</summary>
    public static Int8Decoder Load(string dir, Int8DecoderOptions? options = null) => new(Int8DecoderFile.Load(dir), options);

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _kernels.Dispose();
}
