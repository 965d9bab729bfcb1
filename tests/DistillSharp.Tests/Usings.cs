global using Xunit;

// libtorch has one global random generator per process: tests that seed it and then build models
// would see other tests' draws if classes ran in parallel. Determinism beats the small speed-up.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DistillSharp.Tests
{
    /// <summary>Tests that change process-wide state (environment variables) run alone.</summary>
    [CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class ProcessEnvironmentCollection
    {
        public const string Name = "process environment";
    }
}
