using System.Text;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Tests.Runtime.Formats;

/// <summary>Bounded, typed reads of input files and the output-path checks.</summary>
public sealed class InputFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("inputfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void DevicesAndOversizedFilesAreRefusedWithoutReading()
    {
        string link = Path.Combine(_dir, "zero.json");
        File.CreateSymbolicLink(link, "/dev/zero");
        Assert.Contains("not a regular file", Assert.Throws<DistillSharpException>(() => InputFile.ReadText(link, 1000, "JSON")).Message);
        string big = Path.Combine(_dir, "big.txt");
        File.WriteAllText(big, new string('a', 2000));
        Assert.Contains("more than the 1,000-byte limit", Assert.Throws<DistillSharpException>(() => InputFile.ReadText(big, 1000, "text")).Message);
        Assert.Contains("is a folder", Assert.Throws<DistillSharpException>(() => InputFile.ReadText(_dir, 1000, "text")).Message);
    }

    [Fact]
    public void TextMustBeUtf8WithoutNul()
    {
        Assert.Equal("héllo", InputFile.DecodeText([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("héllo")], "t"));
        var latin1 = Assert.Throws<DistillSharpException>(() => InputFile.DecodeText([.. Encoding.UTF8.GetBytes("ok\nab"), 0xE9, (byte)'\n'], "t.txt"));
        Assert.Contains("not valid UTF-8 at byte 5 (line 2)", latin1.Message);
        Assert.Contains("NUL byte at byte 1 (line 1)", Assert.Throws<DistillSharpException>(() => InputFile.DecodeText([65, 0, 66], "t")).Message);
    }

    [Fact]
    public void JsonKeysAreTypeChecked()
    {
        var o = JsonKeys.ParseObject("""{"a": "32", "b": 1e12, "c": 1.5, "d": "yes", "e": 7}""", "c.json");
        Assert.Contains("a must be an integer, got \"32\"", Assert.Throws<DistillSharpException>(() => JsonKeys.Int(o, "a", "c.json")).Message);
        Assert.Contains("b 1e12 is out of range", Assert.Throws<DistillSharpException>(() => JsonKeys.Int(o, "b", "c.json")).Message);
        Assert.Contains("c must be an integer", Assert.Throws<DistillSharpException>(() => JsonKeys.Int(o, "c", "c.json")).Message);
        Assert.Contains("d must be true or false", Assert.Throws<DistillSharpException>(() => JsonKeys.Bool(o, "d", "c.json")).Message);
        Assert.Contains("e must be a string", Assert.Throws<DistillSharpException>(() => JsonKeys.String(o, "e", "c.json")).Message);
        Assert.Contains("not a JSON object", Assert.Throws<DistillSharpException>(() => JsonKeys.ParseObject("[1]", "c.json")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<DistillSharpException>(() => JsonKeys.ParseObject("""{"a": 1, "a": 2}""", "c.json")).Message);
    }

    [Fact]
    public void OutputFoldersMustBeWritableFolders()
    {
        string file = Path.Combine(_dir, "plain");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file, not a folder", Assert.Throws<DistillSharpException>(() => OutputPath.Folder(file, "--out")).Message);
        Assert.Contains("lies under", Assert.Throws<DistillSharpException>(() => OutputPath.Folder(Path.Combine(file, "a", "b"), "--out")).Message);
        Assert.Contains("in /proc", Assert.Throws<DistillSharpException>(() => OutputPath.Folder("/proc/x", "--out")).Message);
        Assert.Contains("in /dev", Assert.Throws<DistillSharpException>(() => OutputPath.File("/dev/null", "--out")).Message);
        string fresh = Path.Combine(_dir, "new", "run");
        Assert.Equal(fresh, OutputPath.Folder(fresh, "--out"));
        Assert.Empty(Directory.GetFileSystemEntries(fresh)); // the write probe is gone
    }
}
