using DistillSharp.Models.Encoder;

namespace DistillSharp.Tests.Models;

public class MiniLmReferenceTests
{
    [Fact]
    public void QuickBrownFoxMatchesThePublishedEmbedding()
    {
        using var encoder = ModelLoader.Load("builtin:all-MiniLM-L6-v2");
        var e = encoder.Embed(["The quick brown fox jumps over the lazy dog."])[0];
        // Reference from the issue: sentence-transformers all-MiniLM-L6-v2, mean pooling, L2-normalised.
        float[] expected = [0.043934f, 0.058934f, 0.048178f, 0.077548f, 0.026744f];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], e[i], 5e-6f);
    }
}
