using System.Text;
using DistillSharp.Runtime.Formats;
using DistillSharp.Tests.Robustness;

namespace DistillSharp.Tests.Runtime.Formats;

/// <summary>The safetensors reader's layout rules, each on a two-tensor file (the robustness suite runs them through the CLI).</summary>
public sealed class SafetensorsHeaderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("st-header-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string header, int dataBytes)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(path, SafetensorsBytes.Assemble((ulong)json.Length, json, new byte[dataBytes]));
        return path;
    }

    static string Two(string aOffsets, string bOffsets) =>
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": " + aOffsets + "}, " +
        "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": " + bOffsets + "}}";

    [Fact]
    public void ContiguousTensorsRead()
    {
        var (tensors, _) = Safetensors.Read(Write(Two("[0, 8]", "[8, 16]"), 16));
        Assert.Equal(["a", "b"], tensors.Keys.Order());
    }

    [Theory]
    [InlineData("[0, 8]", "[0, 8]", 16, "overlap tensor 'a'")]              // aliased
    [InlineData("[0, 8]", "[4, 12]", 16, "overlap tensor 'a'")]             // overlapping
    [InlineData("[0, 8]", "[12, 20]", 20, "leave bytes 8..12 unused")]      // hole
    [InlineData("[4, 12]", "[12, 20]", 20, "leave bytes 0..4 unused")]      // hole at the start
    [InlineData("[0, 8]", "[8, 16]", 24, "8 bytes after the last tensor 'b'")]
    [InlineData("[0, 8]", "[8, 16]", 12, "end past the 12 data bytes")]
    [InlineData("[0, 8]", "[\"8\", \"16\"]", 16, "data_offsets must be a list of 2 integers >= 0")]
    [InlineData("[0, 8]", "[8, 9223372036854775808]", 16, "data_offsets must be a list of 2 integers >= 0")]
    [InlineData("[0, 8]", "[16, 8]", 16, "end before they begin")]
    public void BadOffsetsAreRefusedNamingTheTensor(string a, string b, int data, string expected)
    {
        var e = Assert.Throws<DistillSharpException>(() => Safetensors.Read(Write(Two(a, b), data)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DuplicateNamesAndNonStringMetadataAreRefused()
    {
        string dup = """{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}""";
        Assert.Contains("'a' is listed twice", Assert.Throws<DistillSharpException>(() => Safetensors.Read(Write(dup, 16))).Message);
        string meta = """{"__metadata__": {"format": 7}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}""";
        Assert.Contains("__metadata__ 'format' is 7", Assert.Throws<DistillSharpException>(() => Safetensors.Read(Write(meta, 8))).Message);
    }

    [Fact]
    public void HeaderLengthIsCheckedBeforeAnythingIsAllocated()
    {
        string path = Path.Combine(_dir, "huge.safetensors");
        File.WriteAllBytes(path, SafetensorsBytes.Assemble(1UL << 62, [], new byte[16]));
        Assert.Contains("header length 4,611,686,018,427,387,904 does not fit", Assert.Throws<DistillSharpException>(() => Safetensors.Read(path)).Message);
    }

    [Fact]
    public void NonFiniteValuesAreFound()
    {
        var t = new SafeTensor("F32", [3], [0, 0, 0, 0, 0, 0, 0xC0, 0x7F, 0, 0, 0x80, 0x3F]); // 0, NaN, 1
        Assert.Equal(1, t.FirstNonFinite());
        Assert.Equal(-1, new SafeTensor("F16", [1], [0x00, 0x3C]).FirstNonFinite());            // 1.0
        Assert.Equal(0, new SafeTensor("BF16", [1], [0x80, 0x7F]).FirstNonFinite());            // +inf
        Assert.Equal(-1, new SafeTensor("I32", [1], [0xFF, 0xFF, 0xFF, 0x7F]).FirstNonFinite()); // integers are never non-finite
    }
}
