global using Xunit;

namespace DistillSharp.Tests
{
    /// <summary>Tests that change process-wide state (environment variables) run alone.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class ProcessEnvironmentCollection
    {
        public const string Name = "process environment";
    }
}
