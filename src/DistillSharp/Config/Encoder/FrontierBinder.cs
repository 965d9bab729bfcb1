using System.Text.RegularExpressions;
using DistillSharp.Config.Yaml;
using DistillSharp.Distillation.Encoder;

namespace DistillSharp.Config.Encoder;

/// <summary>
/// Binds the multi-student keys of an encoder config: <c>students:</c> (named student specs, each
/// with optional own stages, else the top-level <c>stages:</c>) and <c>select:</c> (exactly one
/// constraint). Errors name the YAML path.
/// </summary>
static partial class FrontierBinder
{
    /// <summary>Names that would collide with report.json keys or the single-student rows.</summary>
    static readonly string[] ReservedNames = ["teacher", "student", "baseline", "run", "targets", "distillation", "notes", "frontier"];

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex NamePattern();

    /// <summary>The <c>students:</c> list; top-level stages are bound per transformer student that has none of its own.</summary>
    public static List<NamedStudent> BindStudents(MappingReader root, YamlDotNet.RepresentationModel.YamlNode node)
    {
        var items = YamlValues.Items(node, "students").ToList();
        if (items.Count == 0) throw new ConfigException("students", "must list at least one student, got an empty list");
        var students = new List<NamedStudent>();
        bool topStagesUsed = false;
        foreach (var (item, path) in items)
        {
            var r = new MappingReader(item, path);
            string name = ConfigBinder.NonEmpty(r.Required("name"), r.PathOf("name"));
            if (!NamePattern().IsMatch(name))
                throw new ConfigException(r.PathOf("name"), $"must be 1–32 lower-case letters, digits or '_' starting with a letter, got '{name}'");
            if (ReservedNames.Contains(name) || students.Any(s => name.StartsWith(s.Name + "_") || s.Name.StartsWith(name + "_")))
                throw new ConfigException(r.PathOf("name"), $"must be neither reserved ({string.Join(", ", ReservedNames)}) nor NAME_… of another student (report rows are NAME, NAME_int8, NAME_baseline, …), got '{name}'");
            if (students.FindIndex(s => s.Name == name) is var first && first >= 0)
                throw new ConfigException(r.PathOf("name"), $"must be unique, got '{name}' (also students[{first}].name)");
            var student = ConfigBinder.BindStudent(new MappingReader(r.Required("student"), r.PathOf("student")));
            List<StageConfig> stages = [];
            if (student.IsStatic)
            {
                if (r.Node("stages") is not null)
                    throw new ConfigException(r.PathOf("stages"), "must be absent: a static student is built from the teacher, not trained");
            }
            else
            {
                bool own = r.Node("stages") is not null;
                topStagesUsed |= !own;
                stages = ConfigBinder.BindStages(own ? r : root, student);
            }
            r.RejectUnknown();
            students.Add(new NamedStudent(name, student, stages));
        }
        if (!topStagesUsed && root.Node("stages") is { } top && YamlValues.Items(top, "stages").Any())
            throw new ConfigException("stages", "is used by no student: every entry of students: is static or has its own stages; drop one of them");
        return students;
    }

    /// <summary>The <c>select:</c> section: exactly one constraint with a value in range.</summary>
    public static SelectConfig BindSelect(MappingReader r)
    {
        var present = SelectConfig.Keys.Where(k => r.Keys.Contains(k)).ToList();
        var unknown = r.Keys.Where(k => !SelectConfig.Keys.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ConfigException(r.PathOf(unknown[0]), $"is not a select constraint; use one of {string.Join(", ", SelectConfig.Keys)}");
        if (present.Count != 1)
            throw new ConfigException("select", present.Count == 0
                ? $"must give one constraint: {string.Join(", ", SelectConfig.Keys)}"
                : $"must give one constraint, got {string.Join(" and ", present)}");
        string key = present[0];
        double value = key switch
        {
            SelectConfig.MinQuality => r.Double(key, 0, v => v > 0 && v <= 1, "a fraction of the teacher's quality in (0, 1]"),
            SelectConfig.MaxLatencyMs => r.Double(key, 0, v => v > 0 && double.IsFinite(v), "milliseconds > 0"),
            _ => r.Double(key, 0, v => v >= 1 && double.IsFinite(v), "bytes >= 1"),
        };
        r.RejectUnknown();
        return new SelectConfig(key, value);
    }
}
