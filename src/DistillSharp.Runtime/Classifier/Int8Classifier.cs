using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Runtime.Classifier;

/// <summary>
/// Inference-only BERT sequence classifier in pure C#: the <see cref="Int8Encoder"/> (pooling its
/// [CLS] hidden state, not normalised), then transformers' head — pooler tanh(W_p·h + b_p) and
/// classifier W_c·p + b_c — each Linear in int8 when the quantized model holds it, else fp32.
/// Semantics: <c>BertForSequenceClassification</c> in eval mode (no dropout). Not thread-safe.
/// </summary>
public sealed class Int8Classifier : IDisposable
{
    readonly Int8Encoder _encoder;
    readonly EncoderLinear _pooler, _classifier;
    float[] _pooled = [], _logits = [];

    /// <summary>Builds the runtime (packs every Linear once).</summary>
    public Int8Classifier(Int8ClassifierWeights weights, Int8EncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights = weights.Validate();
        Config = weights.Config;
        _encoder = new Int8Encoder(weights.Encoder with { Pooling = Pooling.Cls, Normalize = false }, options);
        Weights = weights with { Encoder = _encoder.Weights };
        int h = Config.Encoder.HiddenSize;
        _pooler = EncoderLinear.Create(_encoder.Weights.Linear(Int8ClassifierWeights.PoolerName, h, h));
        _classifier = EncoderLinear.Create(_encoder.Weights.Linear(Int8ClassifierWeights.ClassifierName, Config.NumLabels, h));
    }

    /// <summary>What the runtime was built from (word embeddings as the options hold them).</summary>
    public Int8ClassifierWeights Weights { get; }
    /// <summary>Labels and encoder shape.</summary>
    public ClassifierConfig Config { get; }
    /// <summary>The tokenizer.</summary>
    public BertTextTokenizer Tokenizer => _encoder.Tokenizer;
    /// <summary>Linear layers running in int8 (the head's included).</summary>
    public IReadOnlyList<string> Int8Layers => _encoder.Int8Layers.Concat(Head.Where(l => l.IsInt8).Select(l => l.Name)).ToList();
    /// <summary>Linear layers running in fp32.</summary>
    public IReadOnlyList<string> Fp32Layers => _encoder.Fp32Layers.Concat(Head.Where(l => !l.IsInt8).Select(l => l.Name)).ToList();

    EncoderLinear[] Head => [_pooler, _classifier];

    /// <summary>
    /// Logits (B, C) row-major of a tokenized batch, a view of an internal buffer valid until the next call.
    /// </summary>
    public ReadOnlyMemory<float> Forward(TokenBatch batch)
    {
        var output = _encoder.Forward(batch);                  // Pooled: (B, H) hidden state of [CLS]
        int b = output.Batch, h = output.Hidden, c = Config.NumLabels;
        if (_pooled.Length < b * h) _pooled = new float[b * h];
        if (_logits.Length < b * c) _logits = new float[b * c];
        var kernels = _encoder.Kernels;
        double t0 = kernels.Timer.Mark();
        _pooler.Forward(kernels, output.Pooled.Span, b, _pooled, Activation.None, EncoderOp.Head);
        foreach (ref float v in _pooled.AsSpan(0, b * h)) v = MathF.Tanh(v);
        _classifier.Forward(kernels, _pooled, b, _logits, Activation.None, EncoderOp.Head);
        kernels.Timer.Add(EncoderOp.Head, t0);
        return _logits.AsMemory(0, b * c);
    }

    /// <summary>Class probabilities softmax(logits) of <paramref name="texts"/>, in order (length-sorted batches).</summary>
    public float[][] Probabilities(IReadOnlyList<string> texts, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (batchSize < 1) throw new DistillSharpException($"batch size must be >= 1, got {batchSize}");
        int c = Config.NumLabels;
        var result = new float[texts.Count][];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var idx = order.Skip(start).Take(batchSize).ToArray();
            var logits = Forward(Tokenizer.EncodeBatch(idx.Select(i => texts[i]).ToList())).Span;
            for (int j = 0; j < idx.Length; j++) result[idx[j]] = Softmax(logits.Slice(j * c, c));
        }
        return result;
    }

    /// <summary>softmax over one row, in double for the sum.</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        var p = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += p[i] = MathF.Exp(logits[i] - max);
        for (int i = 0; i < p.Length; i++) p[i] = (float)(p[i] / sum);
        return p;
    }

    /// <summary>A forward pass as an action, for speed measurements (outputs are dropped).</summary>
    public Action<TokenBatch> Runner() => batch => Forward(batch);

    /// <summary>Saves the model to <paramref name="dir"/> (see <see cref="Int8ClassifierFile"/>).</summary>
    public void Save(string dir) => Int8ClassifierFile.Save(Weights, dir);

    /// <summary>Loads an INT8 classifier folder or a run folder's <c>student-int8/</c>.</summary>
    public static Int8Classifier Load(string path, Int8EncoderOptions? options = null, int? maxLength = null) =>
        new(Int8ClassifierFile.Load(path, maxLength), options);

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _encoder.Dispose();
}
