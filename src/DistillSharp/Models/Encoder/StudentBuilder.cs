using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>How a student's weights start.</summary>
public enum StudentInit
{
    /// <summary>Copy the embeddings and chosen teacher layers (widths must match).</summary>
    TeacherLayers,
    /// <summary>
    /// Narrower than the teacher: project the chosen teacher layers onto the top principal
    /// directions of the teacher's word embeddings (see <see cref="StudentBuilder"/>).
    /// </summary>
    Projection,
    /// <summary>BERT's normal(0, 0.02) initialisation.</summary>
    Random,
}

/// <summary>The student's shape and initialisation, relative to a teacher.</summary>
/// <param name="Layers">Number of layers.</param>
/// <param name="Hidden">Width; null = the teacher's.</param>
/// <param name="Heads">Attention heads; null = keep the teacher's head size (hidden / teacher head dim).</param>
/// <param name="Ffn">FFN width; null = 4 × hidden.</param>
/// <param name="Init">Initialisation.</param>
/// <param name="TeacherLayers">Which teacher layer initialises each student layer; null = spread evenly, last layer included.</param>
/// <param name="Dropout">Hidden and attention dropout of the student.</param>
public sealed record StudentSpec(int Layers, int? Hidden = null, int? Heads = null, int? Ffn = null,
    StudentInit Init = StudentInit.TeacherLayers, int[]? TeacherLayers = null, double Dropout = 0);

/// <summary>
/// Builds a student encoder from a teacher. With equal widths, embeddings and the chosen layers are
/// copied. With a narrower student, every weight is projected with P (H_s × H_t), the top H_s
/// right-singular vectors of the centred teacher word-embedding matrix (PCA): hidden→hidden
/// matrices become P W Pᵀ, vectors P b; the FFN keeps the F_s intermediate neurons with the largest
/// ‖W_in row‖·‖W_out column‖ product; LayerNorm gains become Σ_j P_ij² γ_j (a per-direction average,
/// so they stay positive), biases P β. This keeps the student's embedding space the teacher's
/// principal subspace, which is where hidden-state and embedding losses then pull it.
/// </summary>
public static class StudentBuilder
{
    /// <summary>The student config derived from the teacher's.</summary>
    public static BertConfig StudentConfig(BertConfig teacher, StudentSpec spec)
    {
        int hidden = spec.Hidden ?? teacher.HiddenSize;
        int heads = spec.Heads ?? Math.Max(1, hidden / teacher.HeadDim);
        return (teacher with
        {
            NumHiddenLayers = spec.Layers,
            HiddenSize = hidden,
            NumAttentionHeads = heads,
            IntermediateSize = spec.Ffn ?? (hidden == teacher.HiddenSize ? teacher.IntermediateSize : 4 * hidden),
            HiddenDropoutProb = spec.Dropout,
            AttentionProbsDropoutProb = spec.Dropout,
        }).Validate("student");
    }

    /// <summary>The teacher layer for each student layer: evenly spread, ending at the last layer.</summary>
    public static int[] DefaultLayerMap(int teacherLayers, int studentLayers) =>
        Enumerable.Range(0, studentLayers)
            .Select(i => studentLayers == 1 ? teacherLayers - 1 : (int)Math.Round(i * (teacherLayers - 1) / (double)(studentLayers - 1)))
            .ToArray();

    /// <summary>Builds and initialises a student from <paramref name="teacher"/>.</summary>
    public static BertEncoderModel Build(BertEncoderModel teacher, StudentSpec spec, long seed = 0)
    {
        var tc = teacher.Config;
        var sc = StudentConfig(tc, spec);
        manual_seed(seed);
        var student = new BertEncoderModel(sc);
        if (spec.Init == StudentInit.Random) return student;

        int[] map = spec.TeacherLayers ?? DefaultLayerMap(tc.NumHiddenLayers, spec.Layers);
        if (map.Length != spec.Layers)
            throw new DistillSharpException($"student.init lists {map.Length} teacher layers for {spec.Layers} student layers");
        if (map.Any(l => l < 0 || l >= tc.NumHiddenLayers))
            throw new DistillSharpException($"student.init teacher layers [{string.Join(", ", map)}] must lie in 0..{tc.NumHiddenLayers - 1}");
        bool sameWidth = sc.HiddenSize == tc.HiddenSize && sc.IntermediateSize == tc.IntermediateSize;
        if (spec.Init == StudentInit.TeacherLayers && !sameWidth)
            throw new DistillSharpException(
                $"student.init teacher-layers needs the teacher's widths (hidden {tc.HiddenSize}, ffn {tc.IntermediateSize}); " +
                $"got hidden {sc.HiddenSize}, ffn {sc.IntermediateSize}: use init 'projection' or 'random'");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var source = teacher.state_dict();
        var target = student.state_dict();
        var p = sameWidth ? null : PrincipalProjection(source["embeddings.word_embeddings.weight"], sc.HiddenSize);
        var ffnKeep = new Dictionary<int, Tensor>();
        foreach (var (name, dest) in target)
        {
            string from = TeacherKey(name, map);
            var w = source[from];
            var value = p is null ? w : Project(name, from, w, p, source, ffnKeep, sc.IntermediateSize);
            dest.copy_(value);
        }
        return student;
    }

    static string TeacherKey(string studentKey, int[] map)
    {
        if (!studentKey.StartsWith("encoder.layer.")) return studentKey;
        string[] parts = studentKey.Split('.');
        parts[2] = map[int.Parse(parts[2])].ToString();
        return string.Join('.', parts);
    }

    /// <summary>P (k × H): the top-k principal directions of the rows of <paramref name="embeddings"/> (V × H).</summary>
    public static Tensor PrincipalProjection(Tensor embeddings, int k)
    {
        using var centred = embeddings - embeddings.mean([0], keepdim: true);
        var (_, _, vh) = linalg.svd(centred, fullMatrices: false); // vh: (H, H), rows by descending singular value
        return vh.narrow(0, 0, k).contiguous();
    }

    static Tensor Project(string name, string from, Tensor w, Tensor p, IReadOnlyDictionary<string, Tensor> source,
        Dictionary<int, Tensor> ffnKeep, int ffn)
    {
        bool isLayerNormWeight = name.EndsWith("LayerNorm.weight");
        if (name.Contains("intermediate.dense") || name.EndsWith("output.dense.weight") && !name.Contains("attention") || name.EndsWith("output.dense.bias") && !name.Contains("attention"))
        {
            string layerPrefix = from[..(from.IndexOf(".intermediate") is int i and > 0 ? i : from.IndexOf(".output"))];
            int layer = int.Parse(layerPrefix.Split('.')[2]);
            var keep = ffnKeep.TryGetValue(layer, out var k) ? k : ffnKeep[layer] = KeptNeurons(source, layerPrefix, ffn);
            if (name.EndsWith("intermediate.dense.weight")) return w.index_select(0, keep).matmul(p.t()); // (F_s, H_s)
            if (name.EndsWith("intermediate.dense.bias")) return w.index_select(0, keep);
            if (name.EndsWith("output.dense.weight")) return p.matmul(w.index_select(1, keep));           // (H_s, F_s)
            return p.matmul(w);                                                                            // output bias
        }
        if (isLayerNormWeight) return (p * p).matmul(w);
        return w.dim() switch
        {
            1 => p.matmul(w),                                      // biases, LayerNorm biases
            2 when name.Contains("embeddings") => w.matmul(p.t()), // (rows, H) → (rows, H_s)
            2 => p.matmul(w).matmul(p.t()),                        // hidden → hidden
            _ => throw new InvalidOperationException($"cannot project {name} of shape [{string.Join(", ", w.shape)}]"),
        };
    }

    static Tensor KeptNeurons(IReadOnlyDictionary<string, Tensor> source, string layerPrefix, int count)
    {
        var inNorm = source[layerPrefix + ".intermediate.dense.weight"].norm(1, keepdim: false);   // (F)
        var outNorm = source[layerPrefix + ".output.dense.weight"].norm(0, keepdim: false);        // (F)
        var (_, idx) = (inNorm * outNorm).topk(count);
        return idx.sort().Values;
    }
}
