using DistillSharp.Serving;

namespace DistillSharp.Tests.Serving;

/// <summary>The server deploys without libtorch: it references the runtime assembly, never TorchSharp or the training library.</summary>
public sealed class ServingArchitectureTests
{
    [Fact]
    public void ServingReferencesTheRuntimeButNotTorchSharpOrTheTrainingLibrary()
    {
        var seen = new HashSet<string>();
        var pending = new Stack<System.Reflection.AssemblyName>([typeof(ServingServer).Assembly.GetName()]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name.Name!) || !name.Name!.StartsWith("DistillSharp", StringComparison.Ordinal)) continue;
            foreach (var r in System.Reflection.Assembly.Load(name).GetReferencedAssemblies()) pending.Push(r);
        }
        Assert.Contains("DistillSharp.Runtime", seen);
        Assert.DoesNotContain("DistillSharp", seen);
        Assert.DoesNotContain(seen, n => n.StartsWith("TorchSharp", StringComparison.Ordinal));
    }
}
