using DistillSharp.Serving.LoadTesting;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>The open-loop load generator against a real server, and the `distill loadtest` command line.</summary>
public sealed class LoadTestTests(Xunit.Abstractions.ITestOutputHelper log)
{
    [Fact]
    public async Task ASweepReportsPercentilesThroughputAndErrors()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var server = await StartEncoder();
        log.WriteLine($"started {clock.ElapsedMilliseconds} ms");
        string png = Path.Combine(Path.GetTempPath(), $"loadtest-{Guid.NewGuid():N}.png");
        try
        {
            var url = new Uri(server.BaseAddress, "v1/embeddings");
            var report = await LoadTest.RunAsync(new LoadTestOptions(url, [40, 80], 0.5, Concurrency: 8, Texts: Texts));
            log.WriteLine($"sweep {clock.ElapsedMilliseconds} ms");
            Assert.Equal(2, report.Runs.Count);
            foreach (var r in report.Runs)
            {
                Assert.Equal((int)Math.Round(r.TargetRate * 0.5), r.Sent);
                Assert.Equal(r.Sent, r.Ok);
                Assert.Empty(r.Errors);
                Assert.True(r.P50Ms > 0 && r.P50Ms <= r.P90Ms && r.P90Ms <= r.P99Ms && r.P99Ms <= r.MaxMs, $"{r}");
                Assert.True(r.AchievedQps > 0);
            }
            Assert.Contains("\"p99_ms\"", LoadTest.ToJson(report));
            LoadTestPlot.Write(report, png);
            Assert.True(new FileInfo(png).Length > 1000);
            log.WriteLine($"plot {clock.ElapsedMilliseconds} ms");

            var errors = await LoadTest.RunAsync(new LoadTestOptions(new Uri(server.BaseAddress, "predict"), [40], 0.25));
            log.WriteLine($"errors {clock.ElapsedMilliseconds} ms");
            Assert.Equal(0, errors.Runs[0].Ok);
            Assert.Equal(10, errors.Runs[0].Errors["400"]);                 // an encoder is no classifier
            Assert.True(double.IsNaN(errors.Runs[0].P99Ms));
        }
        finally
        {
            File.Delete(png);
            await StopAsync(server);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/v1/embeddings", "{\"input\":\"hi\"}")]
    [InlineData("http://127.0.0.1:1/embed", "{\"inputs\":\"hi\"}")]
    [InlineData("http://127.0.0.1:1/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":3,\"temperature\":0}")]
    [InlineData("http://127.0.0.1:1/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3,\"temperature\":0}")]
    public void TheBodyFollowsTheEndpoint(string url, string body) => Assert.Equal(body, LoadTest.Body(new Uri(url), "hi", 3));

    [Fact]
    public void PercentilesAreNearestRank()
    {
        double[] v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(5, LoadTest.Percentile(v, 0.5));
        Assert.Equal(10, LoadTest.Percentile(v, 0.99));
        Assert.Equal(1, LoadTest.Percentile(v, 0));
        Assert.True(double.IsNaN(LoadTest.Percentile([], 0.5)));
    }

    [Theory]
    [InlineData("--url http://127.0.0.1:9/embed", "exactly one of --rate")]
    [InlineData("--url http://127.0.0.1:9/embed --rate 5 --sweep 1,2", "exactly one of --rate")]
    [InlineData("--url http://127.0.0.1:9/embed --sweep 1,x", "'x' is not a number")]
    [InlineData("--url http://10.1.2.3:9/embed --rate 5", "loopback")]
    [InlineData("--url http://127.0.0.1:9/embed --rate -1", "rates must be > 0")]
    [InlineData("--url http://127.0.0.1:9/embed --rate 5 --texts /nonexistent/file.txt", "file not found")]
    [InlineData("--url nowhere --rate 5", "not an absolute URL")]
    public void BadLoadtestArgumentsExitWith2(string args, string message)
    {
        var (code, _, error) = CliHarness.Run(["loadtest", .. args.Split(' ')]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("--model /nonexistent/run", "not an INT8 model")]
    [InlineData("--model builtin:all-MiniLM-L6-v2 --runtime onnx-int8", "fp32 ONNX only")]
    [InlineData("--model x --runtime tflite", "tflite")]
    [InlineData("--model x --max-inputs 10 --max-queue 5", "max-queue (5) must be >= max-inputs (10)")]
    [InlineData("--model x --max-batch-tokens 0", "max-batch-tokens must be >= 1")]
    [InlineData("--model x --port 70000", "port must be in [0, 65535]")]
    [InlineData("--model x --threads 0", "threads must be >= 1")]
    public void BadServeArgumentsExitWith2(string args, string message)
    {
        var (code, _, error) = CliHarness.Run(["serve", .. args.Split(' ')]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(message, error);
    }
}
