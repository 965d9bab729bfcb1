using DistillSharp.Models.Decoder;
using DistillSharp.Models.Decoder.Generation;
using DistillSharp.Runtime.Decoder.Generation;
using DistillSharp.Data;

namespace DistillSharp.Tests.Models.Decoder;

public class GenerateCommandTests
{
    [Fact]
    public void GeneratesFromARunFolderAndMatchesTheLibrary()
    {
        string run = DecoderTestKit.TempDir();
        var tokenizer = BpeTrainer.Train(DecoderTokenizerTests.Glosses, 300, ["<|endoftext|>"]);
        using (var model = DecoderTestKit.Create(DecoderTestKit.Llama(tokenizer.VocabSize) with { BosTokenId = 0, EosTokenIds = [0] }))
            DecoderFolder.Save(model, tokenizer, Path.Combine(run, "student"));
        var (code, output, error) = CliHarness.Run("generate", "--model", run, "--prompt", "a young", "--max-new-tokens", "5");
        Assert.True(code == 0, error);
        var (lm, tok) = DecoderFolder.Load(run);
        using var loaded = lm;
        var expected = new TextGenerator(lm, tok!).Generate(["a young"], new GenerationOptions { MaxNewTokens = 5 })[0];
        Assert.Equal("a young" + expected.Text + Environment.NewLine, output);
        Assert.Contains("tokens/s", error);

        (code, output, error) = CliHarness.Run("generate", "--model", run, "--prompt", "a", "--prompt", "the region", "--max-new-tokens", "3", "--temperature", "0.8", "--top-k", "5", "--seed", "3");
        Assert.Equal(0, code);
        Assert.Contains("--- 1\nthe region", output.Replace("\r\n", "\n"));

        (code, _, error) = CliHarness.Run("generate", "--model", run, "--prompt", "a", "--top-p", "0");
        Assert.Equal(2, code);
        Assert.Contains("top-p must be in (0, 1], got 0", error);
        (code, _, error) = CliHarness.Run("generate", "--model", Path.Combine(run, "missing"), "--prompt", "a");
        Assert.Equal(2, code);
        Assert.Contains("folder not found", error);
        Directory.Delete(run, true);
    }
}
