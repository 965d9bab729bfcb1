using DistillSharp.Distillation;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

/// <summary>A checkpoint's manifest finds torn and altered files when the state is read, before any model loads.</summary>
public sealed class CheckpointManifestTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "distillsharp-manifest-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Save()
    {
        manual_seed(5);
        using var student = nn.Linear(8, 4);
        var optimizer = optim.AdamW(student.parameters(), lr: 1e-3, beta1: 0.9, beta2: 0.98);
        using (var loss = student.call(randn(3, 8)).square().mean()) loss.backward();
        optimizer.step();
        return DistillCheckpoint.Save(_dir, new TrainingState(1, 0, 1, 0, 1, 0), student, new Dictionary<string, nn.Module>(), optimizer);
    }

    [Fact]
    public void AnIntactCheckpointReadsAndRecordsEveryBinaryFile()
    {
        string checkpoint = Save();
        Assert.Equal(1, DistillCheckpoint.ReadState(checkpoint).GlobalStep);
        string manifest = File.ReadAllText(Path.Combine(checkpoint, "manifest.json"));
        foreach (string f in new[] { "student.safetensors", "loss_terms.safetensors", "optimizer.bin", "rng.bin" })
            Assert.Contains($"\"{f}\"", manifest);
    }

    [Fact]
    public void ATornFileIsFoundByItsSize()
    {
        string checkpoint = Save(), path = Path.Combine(checkpoint, "optimizer.bin");
        long bytes = new FileInfo(path).Length;
        using (var f = File.Open(path, FileMode.Open)) f.SetLength(bytes / 2);
        var e = Assert.Throws<DistillSharpException>(() => DistillCheckpoint.ReadState(checkpoint));
        Assert.Contains("optimizer.bin", e.Message);
        Assert.Contains($"the checkpoint wrote {bytes}", e.Message);
    }

    [Fact]
    public void AnAlteredByteIsFoundByItsHash()
    {
        string checkpoint = Save(), path = Path.Combine(checkpoint, "student.safetensors");
        var data = File.ReadAllBytes(path);
        data[^1] ^= 0x40;                                   // the same size, one weight bit flipped
        File.WriteAllBytes(path, data);
        var e = Assert.Throws<DistillSharpException>(() => DistillCheckpoint.ReadState(checkpoint));
        Assert.Contains("student.safetensors", e.Message);
        Assert.Contains("SHA-256", e.Message);
    }

    [Fact]
    public void ACorruptManifestIsOneLineAndAMissingOneIsAnOlderCheckpoint()
    {
        string checkpoint = Save(), manifest = Path.Combine(checkpoint, "manifest.json");
        File.WriteAllText(manifest, "{\"files\": {\"student.safetensors\": {\"bytes\": \"many\"}}}");
        var e = Assert.Throws<DistillSharpException>(() => DistillCheckpoint.ReadState(checkpoint));
        Assert.Contains("manifest.json", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        File.Delete(manifest);
        Assert.Equal(1, DistillCheckpoint.ReadState(checkpoint).GlobalStep);
    }
}
