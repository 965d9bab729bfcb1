using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime.Encoder;

/// <summary>
/// Inference-only BERT sentence encoder in pure C#: the Linear layers in int8 (packed weights with
/// per-output-channel scales, activations quantized per token at run time, int32 accumulation),
/// the word embedding table in int8 per row (unless <see cref="Int8EncoderOptions.Int8WordEmbeddings"/>
/// is false; gathered rows are dequantized), the other embeddings, LayerNorms, attention and softmax in fp32; pooling and normalisation as the
/// <c>SentenceEncoder</c> it was made from. The semantics are those of
/// <c>BertEncoderModel</c> (post-LayerNorm BERT, exact erf GELU) with the quantized Linears
/// of <c>QuantizedLinearSimulation</c>.
/// </summary>
/// <remarks>
/// <para>Activations are quantized as the model's <see cref="QuantRecipe"/> says: per token at run
/// time (<c>int8-dynamic</c>, the default), with each Linear's calibrated per-tensor scale and zero
/// point (static recipes), or with one run-time scale for all real tokens of the batch
/// (<c>*-dynamic-per-tensor</c>; such a batch runs as one pass). A weight-only model (activation_bits 0) runs its dequantized weights in fp32; a Linear missing
/// from the quantized model runs in fp32 (<see cref="Fp32Gemm"/>).</para>
/// <para>Sequences are packed without padding (every Linear runs over the real tokens only;
/// attention covers each sequence's own tokens), so a padded batch gives exactly the embeddings
/// of its sequences run one by one. A large batch runs in passes of whole sequences of at most
/// <see cref="Int8EncoderOptions.MaxPassTokens"/> tokens each, so that a pass's activations stay
/// in the core's L2 cache instead of streaming through memory at every op. Q, K and V run as one GEMM. Not thread-safe: one forward pass
/// at a time; buffers only grow, so a repeated shape allocates nothing.</para>
/// </remarks>
public sealed class Int8Encoder : IDisposable
{
    sealed record Layer(EncoderLinear? Qkv, EncoderLinear[] QkvParts, EncoderLinear AttentionOutput, float[] AttentionGamma,
        float[] AttentionBeta, EncoderLinear Intermediate, EncoderLinear Output, float[] OutputGamma, float[] OutputBeta);

    readonly EncoderKernels _kernels;
    readonly EncoderWorkspace _ws;
    readonly PassLane _main;                 // op-parallel: every op of a pass spread over _kernels' pool
    readonly PassLane[]? _lanes;             // pass-parallel (threads > 1): one single-threaded lane per thread
    readonly PassJob? _passJob;
    readonly EncoderPassPlan _plan;
    readonly Layer[] _layers;
    readonly float[] _position, _type, _embGamma, _embBeta;
    readonly float[]? _word;                 // float word embeddings, or
    readonly Int8EmbeddingTable? _wordInt8;  // int8 per-row word embeddings (rows dequantized as gathered)
    readonly float _eps;
    readonly Activation _act;
    readonly bool _perTensor;                // one activation scale per pass (a per-tensor recipe's model runs a batch as one pass)

    /// <summary>Builds the runtime from <paramref name="weights"/> (packs every Linear once).</summary>
    public Int8Encoder(Int8EncoderWeights weights, Int8EncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Options = (options ?? new Int8EncoderOptions()).Validate();
        weights = weights.Validate();
        Weights = weights = Options.Int8WordEmbeddings ? weights.WithInt8WordEmbeddings() : weights.WithFp32WordEmbeddings();
        var c = weights.Config;
        _act = Activations.Parse(c.HiddenAct);
        _eps = (float)c.LayerNormEps;
        _wordInt8 = weights.Int8WordEmbeddings;
        _word = _wordInt8 is null ? weights.Tensor(Int8EncoderWeights.WordEmbeddingsName, c.VocabSize, c.HiddenSize) : null;
        _position = weights.Tensor("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, c.HiddenSize);
        _type = weights.Tensor("embeddings.token_type_embeddings.weight", c.TypeVocabSize, c.HiddenSize);
        _embGamma = weights.Tensor("embeddings.LayerNorm.weight", c.HiddenSize);
        _embBeta = weights.Tensor("embeddings.LayerNorm.bias", c.HiddenSize);
        _layers = Enumerable.Range(0, c.NumHiddenLayers).Select(i => BuildLayer(weights, i)).ToArray();
        var mode = weights.Quantized.Mode;
        if (Options.PerTensorActivations && mode == ActivationMode.Static && weights.Quantized.ActivationBits != 0)
            throw new DistillSharpException($"{weights.Source}: per-tensor run-time activations were asked for, but the model's recipe " +
                $"{weights.Quantized.Recipe.Name} has calibrated static scales");
        _perTensor = Options.PerTensorActivations || mode == ActivationMode.DynamicPerTensor;
        var scheme = _perTensor ? ActivationQuantization.PerTensorAsymmetricU8
            : weights.Quantized.ActivationSymmetric ? ActivationQuantization.SymmetricS8 : ActivationQuantization.AsymmetricU8;
        int[] widths = [c.HiddenSize, c.IntermediateSize];
        _kernels = new EncoderKernels(Options.Threads, Options.Kernel, Options.Fuse, scheme, widths);
        _ws = new EncoderWorkspace(c.HiddenSize, c.IntermediateSize);
        _main = new PassLane(_kernels, _ws);
        _plan = new EncoderPassPlan(Options.Threads);
        if (Options.Threads > 1 && Options.ParallelPasses)
        {
            // Lane 0 shares the per-pass buffers of _ws: the two modes never run at once.
            _lanes = Enumerable.Range(0, Options.Threads).Select(i => new PassLane(
                new EncoderKernels(1, Options.Kernel, Options.Fuse, scheme, widths),
                i == 0 ? _ws : new EncoderWorkspace(c.HiddenSize, c.IntermediateSize))).ToArray();
            _passJob = new PassJob(this);
        }
        var all = _layers.SelectMany(l => l.QkvParts.Append(l.AttentionOutput).Append(l.Intermediate).Append(l.Output)).ToList();
        Int8Layers = all.Where(l => l.IsInt8).Select(l => l.Name).ToList();
        Fp32Layers = all.Where(l => !l.IsInt8).Select(l => l.Name).ToList();
    }

    // A per-tensor recipe's model quantizes over the whole batch (as its simulation and ONNX do); the
    // comparison option PerTensorActivations keeps the configured passes.
    int PassTokens => _perTensor && !Options.PerTensorActivations ? int.MaxValue : Options.MaxPassTokens;

    /// <summary>What the runtime was built from.</summary>
    public Int8EncoderWeights Weights { get; }
    /// <summary>How it runs.</summary>
    public Int8EncoderOptions Options { get; }
    /// <summary>The model's shape.</summary>
    public BertConfig Config => Weights.Config;
    /// <summary>The tokenizer.</summary>
    public BertTextTokenizer Tokenizer => Weights.Tokenizer;
    /// <summary>The compute objects, for a head that runs after the encoder (<see cref="Classifier.Int8Classifier"/>).</summary>
    internal EncoderKernels Kernels => _kernels;
    /// <summary>Linear layers running in int8 (Q, K, V listed one by one).</summary>
    public IReadOnlyList<string> Int8Layers { get; }
    /// <summary>Linear layers running in fp32.</summary>
    public IReadOnlyList<string> Fp32Layers { get; }

    static Layer BuildLayer(Int8EncoderWeights w, int i)
    {
        var c = w.Config;
        int h = c.HiddenSize, f = c.IntermediateSize;
        var names = Int8EncoderWeights.LinearNames(i);
        var qkv = new[] { w.Linear(names[0], h, h), w.Linear(names[1], h, h), w.Linear(names[2], h, h) };
        string p = $"encoder.layer.{i}.";
        return new Layer(EncoderLinear.Stack(p + "attention.self.qkv", qkv), qkv.Select(EncoderLinear.Create).ToArray(),
            EncoderLinear.Create(w.Linear(names[3], h, h)),
            w.Tensor(p + "attention.output.LayerNorm.weight", h), w.Tensor(p + "attention.output.LayerNorm.bias", h),
            EncoderLinear.Create(w.Linear(names[4], f, h)), EncoderLinear.Create(w.Linear(names[5], h, f)),
            w.Tensor(p + "output.LayerNorm.weight", h), w.Tensor(p + "output.LayerNorm.bias", h));
    }

    /// <summary>
    /// Runs a tokenized batch: last hidden state and pooled sentence embeddings, as views of internal
    /// buffers valid until the next call. Mask values must be 0 or 1; token ids, token types and
    /// positions must fit the embedding tables.
    /// </summary>
    /// <remarks>
    /// Consecutive groups of whole sequences (passes) run through all layers in turn, so a pass's
    /// activations stay in cache; every row is computed the same way whatever the grouping and
    /// whichever thread runs it (attention never crosses a sequence). With several threads and
    /// enough passes to keep them all busy to the end, whole passes run side by side, one per thread
    /// (<see cref="EncoderPassPlan.SideBySide"/>); otherwise each op of a pass is spread over the threads.
    /// </remarks>
    public Int8EncoderOutput Forward(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int b = batch.Count, t = batch.Length, h = Config.HiddenSize;
        var ws = _ws;
        Check(batch);
        Array.Clear(ws.LastHidden, 0, b * t * h);
        var tokens = _ws.SequenceTokens.AsSpan(0, b);
        _plan.Cut(tokens, PassTokens, equalize: _lanes is not null && !_perTensor);
        int passes = _plan.Count;
        RanPassesSideBySide = _lanes is not null && _plan.SideBySide();
        if (RanPassesSideBySide)
        {
            // Any lane may take any pass, on whichever thread is free: every lane grows to the largest
            // pass here, on the caller's thread, so which thread takes which pass never decides whether
            // (or on which thread) a buffer grows, and a repeated batch allocates nothing.
            foreach (var lane in _lanes!) lane.Workspace.EnsurePass(_plan.MaxTokens, _plan.MaxSequences);
            _passJob!.Batch = batch;
            try { _kernels.Pool!.Run(_passJob, passes); }
            finally { _passJob.Batch = null; }
        }
        else
            for (int p = 0; p < passes; p++) RunPass(_main, batch, p);
        return new Int8EncoderOutput(ws.LastHidden.AsMemory(0, b * t * h), ws.Pooled.AsMemory(0, b * h), b, t, h);
    }

    /// <summary>True when the last <see cref="Forward"/> ran whole passes side by side (tests).</summary>
    internal bool RanPassesSideBySide { get; private set; }

    // Pass p of the plan on one lane: gather its tokens, embed, run the layers, write its outputs.
    unsafe void RunPass(PassLane lane, TokenBatch batch, int p)
    {
        var (k, ws) = (lane.Kernels, lane.Workspace);
        int s0 = _plan.First(p), s1 = _plan.First(p + 1), tokens = _plan.Tokens(p);
        var timer = k.Timer;
        double t0 = timer.Mark();
        Pack(ws, batch, s0, s1, tokens);
        fixed (int* ids = ws.Ids) fixed (int* pos = ws.Positions) fixed (int* types = ws.Types)
        {
            if (_wordInt8 is { } q) k.Rows.Embed(ids, pos, types, tokens, q.Values, q.Scales, _position, _type, _embGamma, _embBeta, _eps, ws.Hidden);
            else k.Rows.Embed(ids, pos, types, tokens, _word!, _position, _type, _embGamma, _embBeta, _eps, ws.Hidden);
        }
        timer.Add(EncoderOp.Embed, t0);
        foreach (var layer in _layers) RunLayer(lane, layer, tokens, s1 - s0);
        t0 = timer.Mark();
        Pool(ws, s0, s1, batch.Length, Config.HiddenSize);
        timer.Add(EncoderOp.Pool, t0);
    }

    // The compute objects and per-pass buffers one pass runs with.
    sealed class PassLane(EncoderKernels kernels, EncoderWorkspace workspace)
    {
        public EncoderKernels Kernels { get; } = kernels;
        public EncoderWorkspace Workspace { get; } = workspace;
        public int Busy;   // 1 while a thread runs a pass on this lane
    }

    // Pass-parallel mode: chunk = pass; each running chunk takes a free lane (there are as many lanes
    // as threads, so one is always free).
    sealed class PassJob(Int8Encoder owner) : IParallelJob
    {
        public TokenBatch? Batch;

        public void RunChunk(int chunk)
        {
            var lanes = owner._lanes!;
            int i = 0;
            while (Interlocked.CompareExchange(ref lanes[i].Busy, 1, 0) != 0) i = (i + 1) % lanes.Length;
            try { owner.RunPass(lanes[i], Batch!, chunk); }
            finally { Volatile.Write(ref lanes[i].Busy, 0); }
        }
    }

    // Validates the whole batch before any pass runs; counts each sequence's real tokens.
    void Check(TokenBatch batch)
    {
        var c = Config;
        int b = batch.Count, t = batch.Length;
        if (t > c.MaxPositionEmbeddings)
            throw new DistillSharpException($"sequence length {t} exceeds max_position_embeddings {c.MaxPositionEmbeddings}");
        CheckSize(b, t);
        _ws.EnsureOutputs(b, t);
        var mask = batch.AttentionMask;
        for (int i = 0; i < b; i++)
        {
            int n = 0;
            for (int j = 0; j < t; j++)
            {
                long m = mask[i, j];
                if (m is not (0 or 1)) throw new DistillSharpException($"attention_mask[{i}, {j}] is {m}; allowed: 0, 1");
                if (m == 0) continue;
                long id = batch.InputIds[i, j], type = batch.TokenTypeIds[i, j];
                if ((ulong)id >= (ulong)c.VocabSize) throw new DistillSharpException($"input_ids[{i}, {j}] = {id} is outside the vocabulary [0, {c.VocabSize})");
                if ((ulong)type >= (ulong)c.TypeVocabSize) throw new DistillSharpException($"token_type_ids[{i}, {j}] = {type} is outside [0, {c.TypeVocabSize})");
                n++;
            }
            _ws.SequenceTokens[i] = n;
        }
    }

    // Gathers the real tokens of sequences [s0, s1), in order, into ws (a pass of `tokens` rows).
    static void Pack(EncoderWorkspace ws, TokenBatch batch, int s0, int s1, int tokens)
    {
        int t = batch.Length;
        ws.EnsurePass(tokens, s1 - s0);
        var mask = batch.AttentionMask;
        int n = 0;
        for (int i = s0; i < s1; i++)
        {
            ws.Starts[i - s0] = n;
            for (int j = 0; j < t; j++)
            {
                if (mask[i, j] == 0) continue;
                ws.Ids[n] = (int)batch.InputIds[i, j];
                ws.Types[n] = (int)batch.TokenTypeIds[i, j];
                ws.Positions[n] = j;
                n++;
            }
            ws.Lengths[i - s0] = n - ws.Starts[i - s0];
        }
    }

    /// <summary>
    /// Bytes of the buffers a forward pass over <paramref name="batch"/> sequences of
    /// <paramref name="length"/> tokens needs (every token real: the most it can need).
    /// </summary>
    public long WorkspaceBytes(int batch, int length) =>
        EncoderWorkspace.Bytes(MostPassTokens(batch, length), batch, length, Config.HiddenSize, Config.IntermediateSize, _lanes?.Length ?? 1);

    // Most real tokens of one pass: PassTokens, or one sequence longer than that, or the whole batch.
    long MostPassTokens(long batch, long length) => Math.Min(batch * length, Math.Max(PassTokens, length));

    // The kernels index the buffers with the sizes checked here: each buffer must fit one array and
    // all of them the memory available, before anything is allocated.
    void CheckSize(int batch, int length)
    {
        var c = Config;
        long pass = MostPassTokens(batch, length);
        long largest = Math.Max(pass * Math.Max(3L * c.HiddenSize, c.IntermediateSize), (long)batch * length * c.HiddenSize);
        if (largest > Array.MaxLength)
            throw new DistillSharpException(
                $"a batch of {batch} × {length} tokens needs a buffer of {largest:N0} floats, more than the INT8 runtime's limit of {Array.MaxLength:N0}; use smaller batches");
        long bytes = EncoderWorkspace.Bytes(pass, batch, length, c.HiddenSize, c.IntermediateSize, _lanes?.Length ?? 1);
        if (bytes > MemoryBudget.Bytes) throw MemoryBudget.Refusal(bytes, $"a batch of {batch} × {length} tokens (use smaller batches)");
    }

    void RunLayer(PassLane lane, Layer layer, int tokens, int sequences)
    {
        var (k, ws) = (lane.Kernels, lane.Workspace);
        int h = Config.HiddenSize, heads = Config.NumAttentionHeads, d = Config.HeadDim;
        double t0;
        if (layer.Qkv is { } qkv)
        {
            qkv.Forward(k, ws.Hidden, tokens, ws.Qkv, Activation.None, EncoderOp.QkvGemm);   // (N, 3H): Q | K | V per row
            t0 = k.Timer.Mark();
            k.Attention.Run(ws.Qkv, 0, h, 2 * h, 3 * h, ws.Context, h, ws.Starts, ws.Lengths, sequences, heads, d);
        }
        else
        {
            int plane = tokens * h;                                                              // three (N, H) planes
            for (int p = 0; p < 3; p++)
                layer.QkvParts[p].Forward(k, ws.Hidden, tokens, ws.Qkv.AsSpan(p * plane), Activation.None, EncoderOp.QkvGemm);
            t0 = k.Timer.Mark();
            k.Attention.Run(ws.Qkv, 0, plane, 2 * plane, h, ws.Context, h, ws.Starts, ws.Lengths, sequences, heads, d);
        }
        k.Timer.Add(EncoderOp.Attention, t0);
        layer.AttentionOutput.Forward(k, ws.Context, tokens, ws.Projection, Activation.None, EncoderOp.AttentionOutputGemm);
        t0 = k.Timer.Mark();
        k.Rows.ResidualLayerNorm(ws.Projection, ws.Hidden, tokens, layer.AttentionGamma, layer.AttentionBeta, _eps, ws.Attended, k.Fuse);
        k.Timer.Add(EncoderOp.LayerNorm, t0);
        if (layer.Intermediate.CanQuantizeOutput(k, _act) && layer.Output.IsInt8 && layer.Output.StaticInput is null)
        {
            // The FFN's (N, F) activations go straight from the first GEMM's tiles to int8 rows for the second.
            var ffn = k.Activations(layer.Output.In);
            layer.Intermediate.ForwardQuantize(k, ws.Attended, tokens, ffn, _act, EncoderOp.FfnInGemm);
            layer.Output.Forward(k, ffn, ws.Projection, Activation.None, EncoderOp.FfnOutGemm);
        }
        else
        {
            layer.Intermediate.Forward(k, ws.Attended, tokens, ws.Ffn, _act, EncoderOp.FfnInGemm);
            layer.Output.Forward(k, ws.Ffn, tokens, ws.Projection, Activation.None, EncoderOp.FfnOutGemm);
        }
        t0 = k.Timer.Mark();
        k.Rows.ResidualLayerNorm(ws.Projection, ws.Attended, tokens, layer.OutputGamma, layer.OutputBeta, _eps, ws.Hidden, k.Fuse);
        k.Timer.Add(EncoderOp.LayerNorm, t0);
    }

    // Scatters the pass's hidden state (sequences [s0, s1)) to (B, T, H) and pools each sequence (mean
    // over real tokens or its first token), then L2-normalises when the encoder does.
    void Pool(EncoderWorkspace ws, int s0, int s1, int t, int h)
    {
        var outputs = _ws;
        var hidden = ws.Hidden.AsSpan();
        for (int i = s0; i < s1; i++)
        {
            int start = ws.Starts[i - s0], len = ws.Lengths[i - s0];
            for (int r = 0; r < len; r++)
                hidden.Slice((start + r) * h, h).CopyTo(outputs.LastHidden.AsSpan((i * t + ws.Positions[start + r]) * h, h));
            var pooled = outputs.Pooled.AsSpan(i * h, h);
            pooled.Clear();
            if (len > 0 && Weights.Pooling == Pooling.Cls) hidden.Slice(start * h, h).CopyTo(pooled);
            else if (len > 0)
            {
                for (int r = 0; r < len; r++) ElementwiseKernels.ResidualAdd(pooled, hidden.Slice((start + r) * h, h), pooled);
                float inv = 1f / len;
                foreach (ref float v in pooled) v *= inv;
            }
            if (!Weights.Normalize) continue;
            double norm = 0;
            foreach (float v in pooled) norm += (double)v * v;
            float scale = (float)(1.0 / Math.Max(Math.Sqrt(norm), 1e-12));
            foreach (ref float v in pooled) v *= scale;
        }
    }

    /// <summary>Sentence embeddings of <paramref name="texts"/>, in order (batched, sorted by length as <c>SentenceEncoder.Embed</c>).</summary>
    public float[][] Embed(IReadOnlyList<string> texts, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (batchSize < 1) throw new DistillSharpException($"batch size must be >= 1, got {batchSize}");
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var idx = order.Skip(start).Take(batchSize).ToArray();
            var output = Forward(Tokenizer.EncodeBatch(idx.Select(i => texts[i]).ToList()));
            for (int j = 0; j < idx.Length; j++) result[idx[j]] = output.Embedding(j).ToArray();
        }
        return result;
    }

    /// <summary>A forward pass as an action, for <c>Pipeline.VariantMeasurer.Speed</c> (outputs are dropped).</summary>
    public Action<TokenBatch> Runner() => batch => Forward(batch);

    /// <summary>
    /// Starts timing each <see cref="EncoderOp"/> of the following forward passes with
    /// <paramref name="clock"/> (seconds; default the wall clock, which includes waiting for other threads).
    /// </summary>
    /// <remarks>Passes that run side by side are timed on their own threads and summed.</remarks>
    public void StartProfile(Func<double>? clock = null)
    {
        _kernels.Timer.Start(clock);
        foreach (var lane in _lanes ?? []) lane.Kernels.Timer.Start(clock);
    }

    /// <summary>Stops profiling; seconds spent per <see cref="EncoderOp"/> since <see cref="StartProfile"/>.</summary>
    public IReadOnlyDictionary<string, double> StopProfile()
    {
        var seconds = new Dictionary<string, double>(_kernels.Timer.Stop());
        foreach (var lane in _lanes ?? [])
            foreach (var (op, s) in lane.Kernels.Timer.Stop()) seconds[op] += s;
        return seconds;
    }

    /// <summary>Saves the model to <paramref name="dir"/> (layout: <see cref="Int8EncoderFile"/>).</summary>
    public void Save(string dir) => Int8EncoderFile.Save(Weights, dir);

    /// <summary>Loads an INT8 encoder folder or a run folder's <c>student-int8/</c> (see <see cref="Int8EncoderFile.Load"/>).</summary>
    public static Int8Encoder Load(string path, Int8EncoderOptions? options = null, int? maxLength = null) =>
        new(Int8EncoderFile.Load(path, maxLength), options);

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        _kernels.Dispose();
        foreach (var lane in _lanes ?? []) lane.Kernels.Dispose();
    }
}
