using System.Text;
using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// Corpus files named by data.corpus (distill run) and --corpus (distill quantize): wrong encoding,
/// binary, a 50 MB line, empty, not a regular file, malformed JSONL/CSV. Each must be refused, with the
/// file and the line or byte, before the evaluation data and the teacher load.
/// </summary>
public sealed class CorpusCases : IBadInputGenerator
{
    public string Category => "corpus";

    static readonly string[] Good = RobustnessModels.Sentences;

    static IEnumerable<(string Name, string File, Action<string> Write, string Culprit)> Corpora()
    {
        yield return ("Latin-1 text", "corpus.txt", p => File.WriteAllBytes(p, [.. Encoding.UTF8.GetBytes(string.Join("\n", Good[..150]) + "\n"), .. Latin1("le caf\u00e9 est noir\n")]), "line 151");
        yield return ("binary", "corpus.txt", p => { var b = new byte[10000]; new Random(5).NextBytes(b); File.WriteAllBytes(p, b); }, "corpus.txt");
        yield return ("a 50 MB line", "corpus.txt", p => File.WriteAllText(p, string.Join("\n", Good[..10]) + "\n" + new string('a', 50 << 20) + "\n"), "text 11");
        yield return ("a 2-million-character line of words", "corpus.txt", p => File.WriteAllText(p,
            string.Concat(Enumerable.Repeat("the cat sat on the mat ", 90_000)) + "\n" + string.Join("\n", Good)), "text 1");
        yield return ("empty", "corpus.txt", p => File.WriteAllText(p, ""), "corpus.txt");
        yield return ("only blank lines", "corpus.txt", p => File.WriteAllText(p, "\n\n   \n\t\n"), "no text");
        yield return ("symlink to /dev/zero", "corpus.txt", p => Link(p, "/dev/zero"), "corpus.txt");
        yield return ("a named pipe", "corpus.txt", Fifo, "corpus.txt");
        yield return ("a folder", "corpus.txt", p => Directory.CreateDirectory(p), "folder");
        yield return ("sparse 1.5 GB", "corpus.txt", p => Sparse(p, 3L << 29), "limit");
        yield return ("a NUL in the middle", "corpus.txt", p => File.WriteAllText(p, string.Join("\n", Good[..20]) + "\nbad\0line\n"), "line 21");
        yield return ("JSONL with a broken line", "corpus.jsonl", p => File.WriteAllLines(p, ["{\"text\": \"a cat\"}", "{\"text\": "]), "line 2");
        yield return ("JSONL line not an object", "corpus.jsonl", p => File.WriteAllLines(p, ["{\"text\": \"a cat\"}", "[1, 2]"]), "line 2");
        yield return ("JSONL without the text field", "corpus.jsonl", p => File.WriteAllLines(p, ["{\"body\": \"a cat\"}"]), "text");
        yield return ("JSONL text a number", "corpus.jsonl", p => File.WriteAllLines(p, ["{\"text\": 7}"]), "line 1");
        yield return ("CSV with an unclosed quote", "corpus.csv", p => File.WriteAllText(p, "text\n\"a cat sat\n"), "quoted");
        yield return ("CSV with two columns and no text column", "corpus.csv", p => File.WriteAllText(p, "a,b\n1,2\n"), "column");
        yield return ("unknown extension", "corpus.pdf", p => File.WriteAllText(p, "the cat\n"), ".pdf");
    }

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        foreach (var (name, file, write, culprit) in Corpora())
            yield return Case(Category, "run: " + name, dir =>
            {
                string corpus = Path.Combine(dir, file);
                write(corpus);
                string config = Path.Combine(dir, "run.yaml");
                File.WriteAllText(config, m.EncoderRunYaml(corpus));
                return ["run", config, "--out", Path.Combine(dir, "run")];
            }, file, culprit);
        foreach (var (name, file, write, culprit) in Corpora().Where(c => c.Name is "Latin-1 text" or "binary" or "a 50 MB line" or "symlink to /dev/zero"))
            yield return Case(Category, "quantize: " + name, dir =>
            {
                string corpus = Path.Combine(dir, file);
                write(corpus);
                return ["quantize", "--model", m.EncoderDir, "--corpus", corpus, "--out", Path.Combine(dir, "q"), "--mode", "dynamic"];
            }, file, culprit);
        yield return Case(Category, "run: missing file", dir =>
        {
            string config = Path.Combine(dir, "run.yaml");
            File.WriteAllText(config, m.EncoderRunYaml(Path.Combine(dir, "nothing", "corpus.txt")));
            return ["run", config, "--out", Path.Combine(dir, "run")];
        }, "corpus.txt", "not found");
    }
}
