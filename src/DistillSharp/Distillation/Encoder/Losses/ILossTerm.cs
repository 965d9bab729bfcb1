using DistillSharp.Models;
using static TorchSharp.torch;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// One distillation or task loss. The Distiller weights and sums the terms of a stage; the
/// term itself is unweighted.
/// </summary>
public interface ILossTerm
{
    /// <summary>The registry name ("kl", "hidden_mse", …).</summary>
    string Name { get; }

    /// <summary>Which model outputs the term reads; the teacher cache stores only their union.</summary>
    TeacherNeeds Needs { get; }

    /// <summary>
    /// The loss (a scalar tensor in the caller's dispose scope, differentiable with respect to the
    /// student outputs and to <see cref="Parameters"/>) and named scalars for the metrics log.
    /// </summary>
    LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch);

    /// <summary>Trainable parameters the term owns (projections); empty for most terms.</summary>
    IEnumerable<Parameter> Parameters();
}

/// <summary>A loss value and the scalars worth logging ("kl" → 0.31, "hidden_mse/s1-t3" → …).</summary>
/// <param name="Loss">Scalar tensor.</param>
/// <param name="Scalars">Detached values; the term's own value is always under its name.</param>
public sealed record LossResult(Tensor Loss, IReadOnlyDictionary<string, double> Scalars);

/// <summary>
/// Base class of the built-in terms. A term is an <see cref="nn.Module"/> so that its projections
/// are trained by the optimizer (via <see cref="Parameters"/>), moved with <c>.to(…)</c> and saved
/// in checkpoints with <c>state_dict()</c>.
/// </summary>
public abstract class LossTerm : Module, ILossTerm
{
    /// <summary>Creates the module; subclasses call <c>RegisterComponents()</c> after building layers.</summary>
    protected LossTerm(string name) : base(name) => Name = name;

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public abstract TeacherNeeds Needs { get; }

    /// <inheritdoc/>
    public abstract LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch);

    /// <inheritdoc/>
    public IEnumerable<Parameter> Parameters() => parameters();

    /// <summary>A result whose only scalar is the loss itself, under the term's name.</summary>
    protected LossResult Result(Tensor loss) =>
        new(loss, new Dictionary<string, double> { [Name] = loss.detach().to_type(ScalarType.Float64).item<double>() });

    /// <summary>A result with extra scalars; the loss itself is added under the term's name.</summary>
    protected LossResult Result(Tensor loss, Dictionary<string, double> extra)
    {
        extra[Name] = loss.detach().to_type(ScalarType.Float64).item<double>();
        return new LossResult(loss, extra);
    }

    /// <summary>Fails with a message naming the term and the missing output.</summary>
    protected T Require<T>(T? value, string what, string side) where T : class =>
        value ?? throw new DistillSharpException(
            $"loss '{Name}' needs the {side}'s {what}, but the model output has none");
}
