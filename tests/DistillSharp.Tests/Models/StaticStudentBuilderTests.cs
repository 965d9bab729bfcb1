using DistillSharp.Evaluation.Encoder;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Models.Static;
using DistillSharp.Runtime.Encoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models;

/// <summary>The static (Model2Vec-style) student build and the PCA under it.</summary>
public sealed class StaticStudentBuilderTests
{
    [Fact]
    public void PcaFindsTheHandComputedComponents()
    {
        // Rows (2,2), (−2,−2), (1,−1), (−1,1): mean 0, Σ = [[10, 6], [6, 10]] / 3, eigenvalues 16/3 along (1,1)/√2 and 4/3 along (1,−1)/√2.
        float[][] rows = [[2, 2], [-2, -2], [1, -1], [-1, 1]];
        var pca = PrincipalComponents.Fit(rows, 2);
        Assert.Equal(16.0 / 3, pca.Variances[0], 9);
        Assert.Equal(4.0 / 3, pca.Variances[1], 9);
        Assert.Equal(20.0 / 3, pca.TotalVariance, 9);
        float s = MathF.Sqrt(0.5f);
        Assert.Equal([s, s], pca.Components[..2].Select(x => MathF.Round(x, 6)).ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal(1.0, Math.Abs(pca.Components[2] - pca.Components[3]) / 2 / s, 5);        // (±1, ∓1)/√2
        var y = pca.Project(new float[] { 3, 1 });
        Assert.Equal(4 * s, y[0], 5);                                                          // (3 + 1)/√2
        Assert.Equal(new float[] { 3, 1 }, pca.Reconstruct(y), new FloatTolerance(1e-5f));
        Assert.Equal(pca.ProjectAll(rows)[0], pca.Project(rows[0]), new FloatTolerance(1e-5f));
        Assert.Throws<DistillSharpException>(() => PrincipalComponents.Fit(rows, 3));
    }

    [Fact]
    public void UncentredFitIsTheSecondMomentsEigenbasis()
    {
        // Rows (3,1), (1,3): mean (2,2), but uncentred μ = 0 and XᵀX / n = [[5, 3], [3, 5]]:
        // eigenvalues 8 along (1,1)/√2 and 2 along (1,−1)/√2. The centred fit sees only the (1,−1) spread.
        float[][] rows = [[3, 1], [1, 3]];
        var rotation = PrincipalComponents.Fit(rows, 2, centre: false);
        Assert.Equal([0f, 0f], rotation.Mean);
        Assert.Equal(8.0, rotation.Variances[0], 9);
        Assert.Equal(2.0, rotation.Variances[1], 9);
        float s = MathF.Sqrt(0.5f);
        Assert.Equal([s, s], rotation.Components[..2], new FloatTolerance(1e-6f));
        Assert.Equal(4 * s, rotation.ProjectAll(rows)[0][0], 5);                                // (3 + 1)/√2, no mean subtracted
        Assert.Equal(0.0, PrincipalComponents.Fit(rows, 2).Variances[1], 9);                   // centred: (1,1) has no variance
    }

    [Fact]
    public void SifWeightsFollowZipfsLaw()
    {
        // n = 3: 1/(r+2) = 1/2, 1/3, 1/4, sum 13/12 → p = 6/13, 4/13, 3/13; w = a / (a + p).
        var w = StaticStudentBuilder.SifWeights(3, 0.1);
        Assert.Equal(0.1 / (0.1 + 6.0 / 13), w[0], 12);
        Assert.Equal(0.1 / (0.1 + 3.0 / 13), w[2], 12);
        Assert.Equal([1.0, 1.0, 1.0], StaticStudentBuilder.SifWeights(3, 0));
    }

    [Fact]
    public void EachRowIsTheTeachersWeightedProjectedTokenVector()
    {
        using var teacher = TinyModels.Encoder(seed: 5);
        var built = StaticStudentBuilder.Build(teacher, new StaticBuildOptions(Dims: 8, SifCoefficient: 0.05, Batch: 7, MaxLength: 32));
        var e = built.Encoder;
        Assert.Equal((teacher.Tokenizer.VocabSize, 8), (e.Table.Rows, e.Table.Cols));
        int cat = teacher.Tokenizer.Encode("cat")[1];
        // The reference: the teacher's own (un-normalised) mean pooling of "[CLS] cat [SEP]", projected, weighted by its Zipf rank.
        float[] vector;
        using (no_grad())
        {
            var output = teacher.Forward(teacher.Tokenizer.EncodeBatch(["cat"]));
            vector = SentencePooling.Pool(output.LastHiddenState, output.AttentionMask, Pooling.Mean, normalize: false).data<float>().ToArray();
        }
        int rank = Enumerable.Range(0, cat).Count(id => !e.IsSkipped(id));
        int kept = Enumerable.Range(0, e.Table.Rows).Count(id => !e.IsSkipped(id));
        double weight = StaticStudentBuilder.SifWeights(kept, 0.05)[rank];
        var expected = built.Pca.Project(vector).Select(x => x * weight).ToArray();
        for (int j = 0; j < 8; j++) Assert.Equal(expected[j], built.FloatTable[cat * 8 + j], 1e-4);
        Assert.All(Enumerable.Range(0, 8), j => Assert.Equal(0f, built.FloatTable[2 * 8 + j]));     // [CLS]: skipped, zero row
        Assert.True(built.Seconds > 0);
    }

    [Fact]
    public void AtFullWidthWithoutWeightingOneWordTextsMapBackToTheTeachersEmbedding()
    {
        using var teacher = TinyModels.Encoder(seed: 6);
        var built = StaticStudentBuilder.Build(teacher, new StaticBuildOptions(Dims: 32, SifCoefficient: 0, MaxLength: 32));
        string[] words = ["cat", "dog", "house", "blue"];
        var back = built.TeacherSpaceEmbed(words);
        var reference = teacher.Embed(words);
        // Only the int8 rows separate them (one scale per row: |error| ≤ scale / 2 per value).
        for (int i = 0; i < words.Length; i++) Assert.True(Embeddings.Cosine(back[i], reference[i]) > 0.9995, $"{words[i]}: {Embeddings.Cosine(back[i], reference[i])}");
        // And a real student differs from the teacher on a sentence (the static mean is not attention).
        var sentence = built.TeacherSpaceEmbed(["the big dog sat on the red mat"])[0];
        Assert.True(Embeddings.Cosine(sentence, teacher.Embed(["the big dog sat on the red mat"])[0]) < 0.9995);
        Assert.Throws<DistillSharpException>(() => StaticStudentBuilder.Build(teacher, new StaticBuildOptions(Dims: 33)));
    }
}

/// <summary>Element-wise float comparison within a tolerance.</summary>
sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
    public int GetHashCode(float x) => 0;
}
