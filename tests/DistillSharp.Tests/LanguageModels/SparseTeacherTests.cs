using DistillSharp.Distillation.Divergences;
using DistillSharp.Data.Decoder;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Tests.Distillation;
using static TorchSharp.torch;

namespace DistillSharp.Tests.LanguageModels;

public sealed class SparseTeacherTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "ds-sparse-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void WithKEqualToTheVocabularyEveryLossEqualsTheDenseOne()
    {
        using var scope = NewDisposeScope();
        var student = LossTestKit.Randn(1, 2, 3, 6);
        var teacher = LossTestKit.Randn(2, 2, 3, 6) * 2;
        var mask = tensor(new[] { true, true, true, false, true, true }, 2, 3);
        foreach (string name in DivergenceRegistry.All.Keys)
        {
            var loss = TokenKdRegistry.Create(new TokenKdSpec(name, Temperature: 2));
            double dense = LossTestKit.Item(loss.Compute(student, new DenseTeacher(teacher), mask));
            double sparse = LossTestKit.Item(loss.Compute(student, SparseTeacher.FromLogits(teacher, 6, 2), mask));
            Assert.True(Math.Abs(dense - sparse) <= 1e-5 * Math.Abs(dense) + 1e-6, $"{name}: dense {dense}, sparse {sparse}"); // sparse teacher is float32
        }
    }

    [Fact]
    public void ForwardKlGapIsTheTailTermAndWithinTheDocumentedBound()
    {
        using var scope = NewDisposeScope();
        const int V = 50, K = 8;
        var student = LossTestKit.Randn(7, 4, 8, V) * 3;
        var teacher = LossTestKit.Randn(8, 4, 8, V) * 3;
        var sparse = SparseTeacher.FromLogits(teacher, K, 1);
        var kl = new TokenKdLoss(new ForwardKl());
        var (dP, dQ) = new DenseTeacher(teacher).Align(student, 1);
        var (sP, sQ) = sparse.Align(student, 1);
        double[] dense = kl.PerToken(dP, dQ).to_type(ScalarType.Float64).data<double>().ToArray();
        double[] approx = kl.PerToken(sP, sQ).to_type(ScalarType.Float64).data<double>().ToArray();
        double[] p = teacher.softmax(-1).data<double>().ToArray(), q = student.softmax(-1).data<double>().ToArray();
        long[] top = sparse.Ids.data<long>().ToArray();
        for (int pos = 0; pos < dense.Length; pos++)
        {
            // Scalar reference: chain rule KL(P‖Q) = KL(P̃‖Q̃) + m_P · KL(P(·|tail) ‖ Q(·|tail)).
            var tail = Enumerable.Range(0, V).Except(top.Skip(pos * K).Take(K).Select(i => (int)i)).ToList();
            double mP = tail.Sum(v => p[pos * V + v]), mQ = tail.Sum(v => q[pos * V + v]);
            double condKl = tail.Sum(v => p[pos * V + v] / mP * Math.Log(p[pos * V + v] / mP / (q[pos * V + v] / mQ)));
            double maxLogRatio = tail.Max(v => Math.Log(p[pos * V + v] / mP / (q[pos * V + v] / mQ)));
            double gap = dense[pos] - approx[pos];
            Assert.True(gap >= -1e-5, $"position {pos}: sparse KL {approx[pos]} exceeds dense {dense[pos]}");
            Assert.True(Math.Abs(gap - mP * condKl) <= 1e-5 + 1e-4 * mP * condKl, $"position {pos}: gap {gap} vs m·KL {mP * condKl}");
            Assert.True(gap <= mP * Math.Max(0, maxLogRatio) + 1e-5, $"position {pos}: gap {gap} above bound {mP * maxLogRatio}");
        }
        // Data-processing inequality: every divergence is smaller on the k + 1 buckets.
        foreach (string name in DivergenceRegistry.All.Keys)
        {
            var loss = TokenKdRegistry.Create(new TokenKdSpec(name));
            var d = loss.PerToken(dP, dQ) - loss.PerToken(sP, sQ);
            Assert.True(LossTestKit.Item(d.min()) >= -1e-5, $"{name}: sparse above dense by {-LossTestKit.Item(d.min())}");
        }
    }

    static LmBatch Batch(long[] examples, int t, long[] lossMask)
    {
        int b = examples.Length;
        var ones = Enumerable.Repeat(1L, b * t).ToArray();
        return new LmBatch(b, t, new long[b * t], new long[b * t], ones, lossMask, examples);
    }

    [Theory]
    [InlineData(LogProbPrecision.Float32, 0.0)]
    [InlineData(LogProbPrecision.Float16, 1.0 / 2048)]
    public void CacheRoundTripsScoredPositions(LogProbPrecision precision, double relativeError)
    {
        using var scope = NewDisposeScope();
        var options = new SparseCacheOptions(4, precision, 1.0);
        var logits = LossTestKit.Randn(9, 2, 3, 10).to_type(ScalarType.Float32) * 3;
        var batch = Batch([5, 9], 3, [1, 1, 0, 0, 1, 1]);
        var key = SparseTeacherCache.Key("teacher", "data", options);
        SparseTeacher first;
        using (var cache = new SparseTeacherCache(_dir, key, options)) first = cache.Get(batch, () => logits);
        using var reopened = new SparseTeacherCache(_dir, key, options);
        Assert.Equal(2, reopened.Count);
        var second = reopened.Get(batch, () => throw new InvalidOperationException("must be a cache hit"));
        Assert.Equal(2, reopened.Hits);
        var direct = SparseTeacher.FromLogits(logits, 4, 1);
        var scored = batch.LossMaskTensor().unsqueeze(-1);
        Assert.True(LossTestKit.Item(where(scored, direct.Ids - second.Ids, zeros_like(direct.Ids)).abs().max()) == 0);
        var err = where(scored, (direct.LogProbs - second.LogProbs).abs() - direct.LogProbs.abs() * relativeError, zeros_like(direct.LogProbs));
        Assert.True(LossTestKit.Item(err.max()) <= 1e-7);
        Assert.True(LossTestKit.Item(where(batch.LossMaskTensor(), (direct.TailLogMass - second.TailLogMass).abs(), zeros_like(direct.TailLogMass)).max()) == 0);
        Assert.True(LossTestKit.Item((first.LogProbs - second.LogProbs).abs().max()) == 0); // a cold miss trains on the stored form
        // 4 scored tokens: per example an int32 count, per token k ids + k log-probs + one tail.
        Assert.Equal(2 * 4 + 4 * options.BytesPerToken, reopened.Bytes);
        Assert.Equal(precision == LogProbPrecision.Float16 ? 28 : 36, options.BytesPerToken);
    }

    [Fact]
    public void TornOrCorruptedRecordsAreRecomputedAndNeverTrainedOn()
    {
        var options = new SparseCacheOptions(3);
        string key = SparseTeacherCache.Key("t", "d", options);
        var batch = Batch([0, 1], 2, [1, 1, 1, 1]);
        using var scope = NewDisposeScope();
        var logits = LossTestKit.Randn(1, 2, 2, 5);
        SparseTeacher first;
        using (var cache = new SparseTeacherCache(_dir, key, options)) first = cache.Get(batch, () => logits);
        string data = Path.Combine(_dir, key, "data.bin");
        byte[] bytes = File.ReadAllBytes(data);
        bytes[^3] ^= 0x55;                                   // a flipped bit in the last record
        File.WriteAllBytes(data, bytes);
        using (var cache = new SparseTeacherCache(_dir, key, options))
        {
            Assert.Contains("torn or corrupt", Assert.Throws<DistillSharpException>(() => cache.Assemble(batch)).Message);
            var again = cache.Get(batch, () => logits);      // the dropped row is recomputed from the teacher
            Assert.Equal((1L, 1L, 1L), (cache.Hits, cache.Misses, cache.Dropped));
            Assert.True(LossTestKit.Item((first.LogProbs - again.LogProbs).abs().max()) == 0);
        }
        File.WriteAllBytes(data, File.ReadAllBytes(data)[..^10]); // a kill mid-append: the last record is torn
        using (var cache = new SparseTeacherCache(_dir, key, options))
        {
            Assert.Equal(1, cache.Dropped);                  // the torn entry; row 1's older, corrupt record is caught on read
            var again = cache.Get(batch, () => logits);
            Assert.Equal(2, cache.Dropped);
            Assert.True(LossTestKit.Item((first.LogProbs - again.LogProbs).abs().max()) == 0);
        }
        Assert.Contains("k = 3", Assert.Throws<DistillSharpException>(() => new SparseTeacherCache(_dir, key, options with { TopK = 4 })).Message);
        Assert.NotEqual(key, SparseTeacherCache.Key("t", "d", options with { TopK = 4 }));
    }

    [Fact]
    public void TemperatureMismatchIsRefused()
    {
        using var scope = NewDisposeScope();
        var sparse = SparseTeacher.FromLogits(LossTestKit.Randn(1, 1, 2, 5), 2, 1.0);
        var e = Assert.Throws<DistillSharpException>(() => new TokenKdLoss(new ForwardKl(), 2).Compute(LossTestKit.Randn(2, 1, 2, 5), sparse, ones(1, 2).gt(0)));
        Assert.Contains("temperature 1", e.Message);
    }
}
