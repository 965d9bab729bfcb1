// Ranking kept in the leading principal directions: Matryoshka Representation Learning (Kusupati et
// al. 2022, "Matryoshka Representation Learning") trains nested prefixes of the embedding; here the
// prefixes are taken in a fixed PCA basis of the teacher (so the full-width embedding, which
// embedding_mse/cosine match to the teacher, is only rotated, never reshaped), and each prefix learns
// the teacher's in-batch similarity distribution (relational KD, Park et al. 2019):
//   fit, once per stage: μ, P = mean and principal directions of the teacher's L2-normalised pooled
//       embeddings of the stage's first fit_texts texts (PrincipalComponents)
//   x̂ = e_s/‖e_s‖,  z = P (x̂ − μ)  (μ = 0 with centre: false),  s_d = z[:d]/‖z[:d]‖,  t = e_t/‖e_t‖
//   S_d,ij = s_d,i·s_d,j / τ_d,   T_ij = t_i·t_j / τ,   j ≠ i (the diagonal is left out)
//   L_d = 1/B Σ_i KL(softmax_j(T_i·) ‖ softmax_j(S_d,i·)),   L = 1/|dims| Σ_d L_d
//   τ_d = τ·σ_d/σ, σ_d and σ: the teacher's own spread of similarities on the fit sample (mean over
//       rows of the std over j ≠ i) in its first d directions and at full width. A prefix's cosines
//       spread wider than the full vector's; without τ_d the KL would ask the student to flatten its
//       prefix, not to rank like the teacher (a first run at one τ drifted from the teacher: docs/RESULTS.md).
// The student side mirrors the embedding-compression evaluation, which centres on a training-side mean,
// rotates by a PCA of normalised embeddings and ranks by cosine in the first D coordinates; the target
// is the teacher's full-width, uncentred ranking, the one its float32 retrieval scores.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>KL between the teacher's in-batch similarity rows and the student's in the first d principal directions, for each d.</summary>
public sealed class MatryoshkaLoss : LossTerm, ITeacherFittedTerm
{
    PrincipalComponents? _basis;
    double[] _temperatures = [];

    /// <summary>Rows of the fit sample the temperatures τ_d are calibrated on (an n × n similarity matrix each).</summary>
    public const int CalibrationRows = 1000;

    /// <summary>Creates the term; the basis comes later, from <see cref="Fit"/>.</summary>
    public MatryoshkaLoss(int studentWidth, int teacherWidth, IReadOnlyList<int> dims, double temperature, bool centre, int fitTexts)
        : base("matryoshka")
    {
        if (studentWidth != teacherWidth)
            throw new DistillSharpException($"loss '{Name}' needs the student's pooled width ({studentWidth}) to equal the teacher's ({teacherWidth}): " +
                "its basis is the teacher's principal directions");
        if (dims.Count == 0 || dims.Any(d => d < 1 || d > teacherWidth))
            throw new DistillSharpException($"loss '{Name}': dims must be in [1, {teacherWidth}] (the pooled width), got [{string.Join(", ", dims)}]");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        if (fitTexts < 2) throw new ArgumentOutOfRangeException(nameof(fitTexts), fitTexts, "fit_texts must be >= 2");
        Width = teacherWidth;
        Dims = [.. dims];
        Temperature = temperature;
        Centre = centre;
        FitTexts = fitTexts;
    }

    /// <summary>The pooled width H.</summary>
    public int Width { get; }

    /// <summary>The prefix widths d.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>Whether the student is centred on the fitted mean before the rotation.</summary>
    public bool Centre { get; }

    /// <inheritdoc/>
    public int FitTexts { get; }

    /// <summary>The fitted mean and directions (max(dims) of them); null before <see cref="Fit"/>.</summary>
    public PrincipalComponents? Basis => _basis;

    /// <summary>τ_d of each of <see cref="Dims"/>, calibrated by <see cref="Fit"/>; empty before.</summary>
    public IReadOnlyList<double> Temperatures => _temperatures;

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Pooled = true };

    /// <inheritdoc/>
    public void Fit(IReadOnlyList<float[]> teacherPooled)
    {
        if (teacherPooled.Count < 2)
            throw new DistillSharpException($"loss '{Name}' fits its basis on at least 2 teacher embeddings, got {teacherPooled.Count}");
        if (teacherPooled.FirstOrDefault(r => r.Length != Width) is { } bad)
            throw new DistillSharpException($"loss '{Name}': a teacher embedding has {bad.Length} values, the pooled width is {Width}");
        var unit = teacherPooled.Select(r =>
        {
            double norm = Math.Sqrt(r.Sum(v => (double)v * v));
            return r.Select(v => (float)(v / Math.Max(norm, 1e-12))).ToArray();
        }).ToList();
        var basis = PrincipalComponents.Fit(unit, Dims.Max());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = unit.Take(CalibrationRows).ToList();
        var x = tensor(sample.SelectMany(r => r).ToArray(), [sample.Count, Width]).to_type(ScalarType.Float64);   // (n, H)
        var offDiagonal = eye(sample.Count).eq(0);                                                           // (n, n)
        double full = Spread(x, offDiagonal);
        var z = Rotate(x, basis);                                                                            // (n, K)
        _temperatures = [.. Dims.Select(d => Spread(Unit(z.narrow(1, 0, d)), offDiagonal) is var spread && spread > 0 && full > 0
            ? Temperature * spread / full : Temperature)];
        _basis = basis;
    }

    // Mean over rows of the (population) std of one row's similarities to the others.
    static double Spread(Tensor unit, Tensor offDiagonal)
    {
        long n = unit.shape[0];
        return n < 3 ? 0 : unit.matmul(unit.t()).masked_select(offDiagonal).view(n, n - 1).std(1, unbiased: false).mean().item<double>();
    }

    // z = P (x̂ − μ) (or P x̂): (B, H) unit rows → (B, K) principal coordinates.
    Tensor Rotate(Tensor unit, PrincipalComponents basis)
    {
        var mean = tensor(basis.Mean, [1, Width]).to(unit.device).to_type(unit.dtype);                 // (1, H)
        var directions = tensor(basis.Components, [basis.Count, Width]).to(unit.device).to_type(unit.dtype); // (K, H)
        return (Centre ? unit - mean : unit).matmul(directions.t());
    }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var basis = _basis ?? throw new DistillSharpException(
            $"loss '{Name}' has no basis yet: Fit it on teacher embeddings first (the Distiller does at stage start)");
        var es = Require(student.Pooled, "pooled embedding", "student");                      // (B, H)
        var et = Require(teacher.Pooled, "pooled embedding", "teacher").detach();               // (B, H)
        Masks.CheckSameShape(es, et, Name, "pooled embedding");
        long b = es.shape[0];
        if (b < 2) return Result(es.sum() * 0);                                                 // no pair to rank
        var offDiagonal = eye(b, device: es.device).eq(0);                                     // (B, B) bool
        var logP = Similarities(Unit(et), offDiagonal, Temperature).log_softmax(-1);          // (B, B−1)
        var p = logP.exp();
        var z = Rotate(Unit(es), basis);                                                       // (B, K)
        var scalars = new Dictionary<string, double>();
        Tensor? sum = null;
        for (int k = 0; k < Dims.Count; k++)
        {
            int d = Dims[k];
            var logQ = Similarities(Unit(z.narrow(1, 0, d)), offDiagonal, _temperatures[k]).log_softmax(-1); // (B, B−1)
            var kl = (p * (logP - logQ)).sum(-1).mean();
            scalars[$"{Name}/{d}"] = kl.detach().to_type(ScalarType.Float64).item<double>();
            sum = sum is null ? kl : sum + kl;
        }
        return Result(sum! / Dims.Count, scalars);
    }

    static Tensor Unit(Tensor x) => nn.functional.normalize(x, p: 2, dim: -1);

    // Row i's similarities to every other row j ≠ i, scaled by 1/τ: (B, B−1).
    static Tensor Similarities(Tensor unit, Tensor offDiagonal, double temperature)
    {
        long b = unit.shape[0];
        return (unit.matmul(unit.t()) / temperature).masked_select(offDiagonal).view(b, b - 1);
    }
}
