using static TorchSharp.torch;

namespace DistillSharp.Tests;

public class TorchSmokeTests
{
    [Fact]
    public void ForwardAndBackwardRunInsideTheTestProcess()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = randn(4, 3, requires_grad: true);
        var y = (x * x).sum();
        y.backward();
        var expected = 2 * x.detach();
        Assert.True(allclose(x.grad!, expected));
    }
}
