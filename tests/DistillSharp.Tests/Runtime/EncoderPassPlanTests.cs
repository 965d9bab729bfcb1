using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Runtime;

/// <summary>How the INT8 encoder cuts a batch into passes and when it runs them side by side.</summary>
public class EncoderPassPlanTests
{
    static int[] Sizes(EncoderPassPlan plan) => Enumerable.Range(0, plan.Count).Select(p => plan.First(p + 1) - plan.First(p)).ToArray();

    [Fact]
    public void ThirtyTwoFullSequencesOnTwoThreadsAreEightEqualPassesSideBySide()
    {
        var plan = new EncoderPassPlan(2);
        var tokens = Enumerable.Repeat(64, 32).ToArray();
        plan.Cut(tokens, 256, equalize: true);
        Assert.Equal(Enumerable.Repeat(4, 8), Sizes(plan));
        Assert.Equal(Enumerable.Repeat(256, 8), Enumerable.Range(0, plan.Count).Select(plan.Tokens));
        Assert.Equal((256, 4), (plan.MaxTokens, plan.MaxSequences));
        Assert.True(plan.SideBySide());
    }

    [Fact]
    public void EqualizingRoundsThePassCountUpToAMultipleOfTheThreads()
    {
        var plan = new EncoderPassPlan(2);
        var tokens = Enumerable.Repeat(64, 12).ToArray();         // 768 tokens: 3 passes of 256, or 4 of 192
        plan.Cut(tokens, 256, equalize: false);
        Assert.Equal([4, 4, 4], Sizes(plan));
        Assert.False(plan.SideBySide());                     // 2 passes on one thread, 1 on the other
        plan.Cut(tokens, 256, equalize: true);
        Assert.Equal([3, 3, 3, 3], Sizes(plan));
        Assert.True(plan.SideBySide());
    }

    [Fact]
    public void OnePassOrOneThreadNeverRunsSideBySide()
    {
        var tokens = new[] { 10, 20, 30 };
        var two = new EncoderPassPlan(2);
        two.Cut(tokens, 256, equalize: true);
        Assert.Equal([3], Sizes(two));
        Assert.False(two.SideBySide());
        var one = new EncoderPassPlan(1);
        one.Cut(tokens, 16, equalize: false);
        Assert.Equal([1, 1, 1], Sizes(one));                      // a sequence longer than a pass runs alone
        Assert.False(one.SideBySide());
    }

    [Fact]
    public void UnevenPassesStayOpWise()
    {
        var plan = new EncoderPassPlan(2);
        var tokens = new[] { 200, 20 };                            // busiest thread 200 of 220 tokens
        plan.Cut(tokens, 100, equalize: false);
        Assert.Equal([1, 1], Sizes(plan));
        Assert.Equal((200, 1), (plan.MaxTokens, plan.MaxSequences));
        Assert.False(plan.SideBySide());
    }
}
