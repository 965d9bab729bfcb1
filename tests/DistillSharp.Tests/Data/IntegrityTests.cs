using System.Formats.Tar;
using System.IO.Compression;
using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

public sealed class IntegrityTests : IDisposable
{
    // SHA-256("abc") is the FIPS 180-2 test vector.
    const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    static readonly NpmDataset Dataset = new("test", "test-pkg", "1.0.0", "dict/key.txt", "test") { KeyFiles = [new("dict/key.txt", 3, AbcSha256)] };
    readonly string _dir = Path.Combine(Path.GetTempPath(), "distillsharp-integrity-" + Guid.NewGuid().ToString("N")[..8]);

    public IntegrityTests() => Directory.CreateDirectory(Path.Combine(_dir, "dict"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    void Write(string content) => File.WriteAllText(Path.Combine(_dir, "dict", "key.txt"), content);

    [Fact]
    public void IntactFilePasses()
    {
        Write("abc");
        DatasetIntegrity.Verify(Dataset, _dir, hash: true);
        Assert.Equal("abc"u8.ToArray(), DatasetIntegrity.ReadVerified(Dataset, _dir, "dict/key.txt"));
    }

    [Theory]
    [InlineData("ab", "truncated")]
    [InlineData("abcd", "4 bytes, expected 3")]
    [InlineData("abd", "is corrupt: SHA-256")]
    public void DamagedFileFailsWithAFix(string content, string expected)
    {
        Write(content);
        var e = Assert.Throws<DistillSharpException>(() => DatasetIntegrity.ReadVerified(Dataset, _dir, "dict/key.txt"));
        Assert.Contains(expected, e.Message);
        Assert.Contains("distill fetch test", e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var e = Assert.Throws<DistillSharpException>(() => DatasetIntegrity.Verify(Dataset, _dir, hash: false));
        Assert.Contains("key.txt is missing", e.Message);
    }

    [Fact]
    public void CatalogHasKeyFilesWithHashesForEveryDataset()
    {
        Assert.All(DatasetCatalog.All.Values, d =>
        {
            Assert.NotEmpty(d.KeyFiles);
            Assert.Contains(d.KeyFiles, k => k.RelativePath == d.MarkerFile);
            Assert.All(d.KeyFiles, k => Assert.Matches("^[0-9a-f]{64}$", k.Sha256));
        });
    }

    [Fact]
    public void TarballUnpacksWithoutThePackagePrefixAndRefusesEscapes()
    {
        string tgz = Path.Combine(_dir, "p.tgz");
        WriteTarball(tgz, ("package/dict/key.txt", "abc"));
        Assert.Equal(1, NpmTarball.Extract(tgz, Path.Combine(_dir, "out")));
        Assert.Equal("abc", File.ReadAllText(Path.Combine(_dir, "out", "dict", "key.txt")));

        WriteTarball(tgz, ("package/../../evil.txt", "x"));
        var e = Assert.Throws<DistillSharpException>(() => NpmTarball.Extract(tgz, Path.Combine(_dir, "out2")));
        Assert.Contains("outside the package", e.Message);
    }

    [Fact]
    public void TruncatedTarballIsReportedAsDamaged()
    {
        string tgz = Path.Combine(_dir, "p.tgz");
        WriteTarball(tgz, ("package/dict/key.txt", new string('x', 5000)));
        byte[] bytes = File.ReadAllBytes(tgz);
        File.WriteAllBytes(tgz, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<DistillSharpException>(() => NpmTarball.Extract(tgz, Path.Combine(_dir, "out")));
        Assert.Contains("damaged", e.Message);
    }

    [Fact]
    public void SpamFileNamesAreCheckedForForm()
    {
        Assert.Equal(("spam-2", "00001", "317e78a2e8b2b6b4d1e1a3e3f5e5a5b5"), SpamCorpus.ParseFileName("spam-2/00001.317e78a2e8b2b6b4d1e1a3e3f5e5a5b5.txt"));
        var e = Assert.Throws<DistillSharpException>(() => SpamCorpus.ParseFileName("junk/00001.317e78a2e8b2b6b4d1e1a3e3f5e5a5b5.txt"));
        Assert.Contains("easy-ham-1", e.Message);
    }

    static void WriteTarball(string path, params (string Name, string Content)[] files)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, content) in files)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
            tar.WriteEntry(entry);
        }
    }
}
