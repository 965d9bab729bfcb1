using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation;

/// <summary>
/// What every trainer does around <c>optimizer.step()</c>: AdamW with two parameter groups (no
/// weight decay on biases and norm gains, as in BERT's recipe), and a guarded step that clips the
/// gradient norm, skips the step with a message when the loss or the norm is not finite, and gives
/// up after <see cref="MaxConsecutiveSkips"/> skips in a row.
/// </summary>
public sealed class OptimizerStep
{
    /// <summary>Non-finite steps in a row that end the run.</summary>
    public const int MaxConsecutiveSkips = 10;

    /// <summary>AdamW over <paramref name="parameters"/>: matrices decay, vectors (biases, norm weights) do not.</summary>
    public static AdamW CreateAdamW(IEnumerable<Parameter> parameters, OptimizerConfig o)
    {
        if (o.Name != "adamw") throw new DistillSharpException($"unknown optimizer '{o.Name}'; known: {string.Join(", ", OptimizerConfig.Names)}");
        var all = parameters.ToList();
        static bool Decays(Parameter p) => p.dim() >= 2;
        var groups = new List<AdamW.ParamGroup>
        {
            new(all.Where(Decays), o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, false, false),
            new(all.Where(p => !Decays(p)), o.Lr, o.Beta1, o.Beta2, o.Eps, 0, false, false),
        };
        return optim.AdamW(groups.Where(g => g.Parameters.Any()), o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay);
    }

    /// <summary>Steps skipped so far (restored from a checkpoint by the caller).</summary>
    public int Skipped { get; set; }

    /// <summary>Skips in a row up to now.</summary>
    public int Consecutive { get; private set; }

    /// <summary>
    /// Clips and steps, or skips: returns the gradient norm before clipping (NaN when the loss was
    /// not finite) and whether the optimizer stepped. <paramref name="context"/> starts the warning
    /// ("stage 'x' step 7"); <paramref name="advice"/> ends the error after too many skips.
    /// </summary>
    public (double GradNorm, bool Stepped) Apply(optim.Optimizer optimizer, IList<Parameter> parameters, double? clipNorm,
        double loss, bool lossFinite, string context, string advice)
    {
        double gradNorm = double.NaN;
        bool finite = lossFinite;
        if (finite)
        {
            gradNorm = nn.utils.clip_grad_norm_(parameters, clipNorm ?? float.MaxValue);
            finite = double.IsFinite(gradNorm);
        }
        if (finite)
        {
            // One pass over memory instead of eight tensor operations per parameter; bit-identical (FusedAdamW).
            if (!FusedAdamW.TryStep(optimizer, get_num_threads())) optimizer.step();
            Consecutive = 0;
            return (gradNorm, true);
        }
        Skipped++;
        Consecutive++;
        Console.Error.WriteLine($"warning: {context}: non-finite {(double.IsFinite(loss) ? "gradient norm" : "loss")} ({loss}); step skipped");
        if (Consecutive >= MaxConsecutiveSkips)
            throw new DistillSharpException($"{context}: {MaxConsecutiveSkips} consecutive non-finite steps; {advice}");
        return (gradNorm, false);
    }
}
