using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// `distill run --resume` over a run folder whose checkpoint was damaged: torn or missing RNG,
/// optimizer and weight files, training states that are not JSON, negative, or from another config,
/// a hostile <c>checkpoints/latest</c>, and a resume with another config. Each is refused with the
/// checkpoint file (or config.yaml) named, no native abort; the run's config.yaml is never rewritten.
/// </summary>
public sealed class CheckpointCases : IBadInputGenerator
{
    public string Category => "checkpoint";

    const string Step = "step-00000002";

    static void Truncate(string path, double keep)
    {
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);
    }

    static void Random(string path)
    {
        var bytes = new byte[new FileInfo(path).Length];
        new Random(9).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
    }

    static Action<string> State(string json) => p => File.WriteAllText(p, json);

    // The state the base run wrote is {GlobalStep 2, Stage 0, StageStep 2, …} of a 4-step stage.
    static string StateJson(long global = 2, int stage = 0, int stageStep = 2, int epoch = 0, int batch = 2, int skipped = 0) =>
        $"{{\"GlobalStep\": {global}, \"Stage\": {stage}, \"StageStep\": {stageStep}, \"Epoch\": {epoch}, \"Batch\": {batch}, \"SkippedSteps\": {skipped}}}";

    static IEnumerable<(string Name, string File, Action<string> Damage, string Culprit)> Damages()
    {
        yield return ("rng.bin truncated", "rng.bin", p => Truncate(p, 0.5), "rng.bin");
        yield return ("rng.bin empty", "rng.bin", p => File.WriteAllBytes(p, []), "rng.bin");
        yield return ("rng.bin missing", "rng.bin", File.Delete, "rng.bin");
        yield return ("rng.bin 1 MB", "rng.bin", p => File.WriteAllBytes(p, new byte[1 << 20]), "rng.bin");
        yield return ("rng.bin a link to /dev/zero", "rng.bin", p => Link(p, "/dev/zero"), "rng.bin");
        yield return ("optimizer.bin truncated", "optimizer.bin", p => Truncate(p, 0.5), "optimizer.bin");
        yield return ("optimizer.bin 10 bytes", "optimizer.bin", p => Truncate(p, 0.0005), "optimizer.bin");
        yield return ("optimizer.bin missing", "optimizer.bin", File.Delete, "optimizer.bin");
        yield return ("optimizer.bin empty", "optimizer.bin", p => File.WriteAllBytes(p, []), "optimizer.bin");
        yield return ("student.safetensors truncated", "student.safetensors", p => Truncate(p, 0.5), "student.safetensors");
        yield return ("student.safetensors random bytes", "student.safetensors", Random, "student.safetensors");
        yield return ("student.safetensors missing", "student.safetensors", File.Delete, "student.safetensors");
        yield return ("loss_terms.safetensors missing", "loss_terms.safetensors", File.Delete, "loss_terms.safetensors");
        yield return ("state.json not JSON", "state.json", State("{\"GlobalStep\": "), "state.json");
        yield return ("state.json an array", "state.json", State("[2, 0, 2]"), "state.json");
        yield return ("state.json a count as a string", "state.json", State(StateJson().Replace("\"GlobalStep\": 2", "\"GlobalStep\": \"2\"")), "state.json");
        yield return ("state.json a count 2^63", "state.json", State(StateJson().Replace("\"GlobalStep\": 2", "\"GlobalStep\": 9223372036854775808")), "state.json");
        yield return ("state.json a fractional count", "state.json", State(StateJson().Replace("\"Batch\": 2", "\"Batch\": 1.5")), "state.json");
        yield return ("state.json an unknown key", "state.json", State(StateJson().Replace("{", "{\"Extra\": 1, ")), "state.json");
        yield return ("state.json a missing key", "state.json", State("{\"GlobalStep\": 2, \"Stage\": 0, \"StageStep\": 2}"), "state.json");
        yield return ("state.json negative step", "state.json", State(StateJson(global: -5)), "state.json");
        yield return ("state.json negative epoch", "state.json", State(StateJson(epoch: -1)), "state.json");
        yield return ("state.json step 999999 of stage 7", "state.json", State(StateJson(global: 999999, stage: 7, stageStep: 999999)), "state.json");
        yield return ("state.json past the stage's steps", "state.json", State(StateJson(global: 40, stageStep: 40)), "state.json");
        yield return ("state.json global step disagrees", "state.json", State(StateJson(global: 3)), "state.json");
        yield return ("state.json more skipped than done", "state.json", State(StateJson(skipped: 3)), "state.json");
        yield return ("state.json a link to /dev/zero", "state.json", p => Link(p, "/dev/zero"), "state.json");
    }

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        foreach (var (name, file, damage, culprit) in Damages())
            yield return Case(Category, name, dir =>
            {
                string run = Copy(m, dir);
                damage(Path.Combine(run, "checkpoints", Step, file));
                return Resume(m, run);
            }, culprit);
        // A hostile or torn pointer neither leads outside the run folder nor hides the step folder: the
        // (damaged) step folder is what the error names, so it is what the resume found.
        foreach (var (name, pointer) in new[] { ("latest points outside the run", "../../.."), ("latest is garbage", "\u0001\u0002 x"), ("latest names a missing step", "step-00000099") })
            yield return Case(Category, name, dir =>
            {
                string run = Copy(m, dir);
                File.WriteAllText(Path.Combine(run, "checkpoints", "latest"), pointer);
                Truncate(Path.Combine(run, "checkpoints", Step, "rng.bin"), 0.5);
                return Resume(m, run);
            }, Step, "rng.bin");
        yield return Case(Category, "latest a link to /dev/zero", dir =>
        {
            string run = Copy(m, dir);
            Link(Path.Combine(run, "checkpoints", "latest"), "/dev/zero");
            File.WriteAllText(Path.Combine(run, "checkpoints", Step, "state.json"), "[]");
            return Resume(m, run);
        }, Step, "state.json");
        yield return new BadInputCase(Category, "resume with another config", dir =>
        {
            string run = Copy(m, dir);
            string other = Path.Combine(dir, "other.yaml");
            File.WriteAllText(other, File.ReadAllText(m.CheckpointRunYaml).Replace("seed: 3", "seed: 4"));
            return new CliCall(["run", other, "--out", run, "--resume"]);
        }, ["config.yaml", "seed"]);
    }

    static string Copy(RobustnessModels m, string dir) => RobustnessModels.Copy(m.CheckpointRun, Path.Combine(dir, "run"));

    static string[] Resume(RobustnessModels m, string run) => ["run", m.CheckpointRunYaml, "--out", run, "--resume"];
}
