using DistillSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// A stage's objective: Σ weight·term over the stage's <see cref="LossSpec"/>s. Collects the
/// terms' trainable parameters and teacher needs, and merges their scalars (each term's value is
/// logged unweighted under its name, the weighted total under "loss").
/// </summary>
public sealed class StageLoss
{
    readonly List<(ILossTerm Term, double Weight)> terms;

    /// <summary>Builds every term of <paramref name="specs"/> for the given model shapes.</summary>
    public StageLoss(IEnumerable<LossSpec> specs, LossContext context)
    {
        terms = specs.Select(s => (LossRegistry.Create(s, context), s.Weight)).ToList();
        if (terms.Count == 0) throw new DistillSharpException("a stage needs at least one loss term");
    }

    /// <summary>Wraps already-built terms with their weights.</summary>
    public StageLoss(IEnumerable<(ILossTerm Term, double Weight)> weighted)
    {
        terms = weighted.ToList();
        if (terms.Count == 0) throw new DistillSharpException("a stage needs at least one loss term");
    }

    /// <summary>The terms with their weights, in config order.</summary>
    public IReadOnlyList<(ILossTerm Term, double Weight)> Terms => terms;

    /// <summary>What the teacher cache must keep for this stage (terms with weight 0 need nothing).</summary>
    public TeacherNeeds Needs => TeacherNeeds.Of(terms.Where(t => t.Weight != 0).Select(t => t.Term));

    /// <summary>The terms' trainable parameters (projections), to add to the optimizer.</summary>
    public IEnumerable<Parameter> Parameters() => terms.SelectMany(t => t.Term.Parameters());

    /// <summary>Terms with weight 0 are skipped (not computed); the total is a scalar tensor.</summary>
    public LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var scalars = new Dictionary<string, double>();
        Tensor? total = null;
        foreach (var (term, weight) in terms)
        {
            if (weight == 0) continue;
            var result = term.Compute(student, teacher, batch);
            foreach (var (k, v) in result.Scalars) scalars[k] = v;
            var weighted = result.Loss * weight;
            total = total is null ? weighted : total + weighted;
        }
        if (total is null) throw new DistillSharpException("every loss term of the stage has weight 0");
        scalars["loss"] = total.detach().to_type(ScalarType.Float64).item<double>();
        return new LossResult(total, scalars);
    }
}
