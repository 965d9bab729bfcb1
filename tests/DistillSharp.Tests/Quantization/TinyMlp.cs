using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

/// <summary>Fixed-seed test models: a Sequential MLP and a field-based one.</summary>
internal static class TinyMlp
{
    public const int In = 16, Hidden = 32, Out = 8;

    public static Sequential Sequential(int seed = 11)
    {
        manual_seed(seed);
        return nn.Sequential(("fc1", nn.Linear(In, Hidden)), ("act", nn.ReLU()), ("fc2", nn.Linear(Hidden, Out)));
    }

    public static List<Tensor> Batches(int count, int seed = 3)
    {
        manual_seed(seed);
        return Enumerable.Range(0, count).Select(_ => randn(64, In).DetachFromDisposeScope()).ToList();
    }
}

/// <summary>Holds its layers in fields typed Module&lt;Tensor, Tensor&gt; so they can be swapped in place.</summary>
internal sealed class FieldMlp : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> fc1;
    private nn.Module<Tensor, Tensor> fc2;

    public FieldMlp() : base(nameof(FieldMlp))
    {
        manual_seed(11);
        fc1 = nn.Linear(TinyMlp.In, TinyMlp.Hidden);
        fc2 = nn.Linear(TinyMlp.Hidden, TinyMlp.Out);
        RegisterComponents();
    }

    public nn.Module<Tensor, Tensor> First => fc1;

    public override Tensor forward(Tensor x) => fc2.forward(nn.functional.relu(fc1.forward(x)));
}

/// <summary>Declares its layer as the sealed Linear: cannot be swapped.</summary>
internal sealed class SealedFieldModel : nn.Module<Tensor, Tensor>
{
    private Linear proj;

    public SealedFieldModel() : base(nameof(SealedFieldModel))
    {
        proj = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => proj.forward(x);
}
