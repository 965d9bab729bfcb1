using System.Text.Json;
using System.Text.Json.Serialization;

namespace DistillSharp.Reports.Encoder;

/// <summary>
/// Reads and writes report.json: snake_case names, nulls left out, enums as snake_case strings.
/// Top-level keys other than <see cref="ReservedKeys"/> are
/// model variants, kept in file order.
/// </summary>
public static class RunReportJson
{
    /// <summary>The top-level keys that are not model variants.</summary>
    public static readonly IReadOnlyList<string> ReservedKeys = ["run", "targets", "distillation", "notes", "frontier"];

    /// <summary>Options for every record of report.json (the converter for <see cref="RunReport"/> included).</summary>
    public static readonly JsonSerializerOptions Options = CreateOptions();

    /// <summary>Parses report.json text.</summary>
    public static RunReport Parse(string json) =>
        JsonSerializer.Deserialize<RunReport>(json, Options) ?? new RunReport();

    /// <summary>Serializes a report as indented JSON.</summary>
    public static string Serialize(RunReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>Reads report.json; a malformed file is a <see cref="DistillSharpException"/> naming the file and the line.</summary>
    public static RunReport Load(string path)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"report file not found: {path}");
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" (line {line + 1}{(e.Path is { Length: > 0 } p ? ", at " + p : "")})" : "";
            throw new DistillSharpException($"{path} is not a valid report.json{where}: {e.Message}");
        }
    }

    /// <summary>Writes report.json atomically (temp file, then rename) and returns its path.</summary>
    public static string Save(RunReport report, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        File.WriteAllText(temp, Serialize(report) + "\n");
        File.Move(temp, path, overwrite: true);
        return path;
    }

    static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.Converters.Add(new RunReportConverter());
        return options;
    }

    /// <summary>Maps the flat top-level object to <see cref="RunReport"/> and back.</summary>
    sealed class RunReportConverter : JsonConverter<RunReport>
    {
        public override RunReport Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new JsonException($"report.json must be a JSON object, not {reader.TokenType}");
            var report = new RunReport();
            var variants = new OrderedDictionary<string, VariantReport>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string key = reader.GetString()!;
                reader.Read();
                switch (key)
                {
                    case "run": report = report with { Run = JsonSerializer.Deserialize<RunInfo>(ref reader, options) }; break;
                    case "targets": report = report with { Targets = JsonSerializer.Deserialize<List<TargetResult>>(ref reader, options) }; break;
                    case "distillation": report = report with { Distillation = JsonSerializer.Deserialize<DistillationSummary>(ref reader, options) }; break;
                    case "notes": report = report with { Notes = JsonSerializer.Deserialize<List<string>>(ref reader, options) }; break;
                    case "frontier": report = report with { Frontier = JsonSerializer.Deserialize<FrontierReport>(ref reader, options) }; break;
                    default:
                        if (reader.TokenType == JsonTokenType.Null) break;
                        if (reader.TokenType != JsonTokenType.StartObject)
                            throw new JsonException($"'{key}' should be a model variant (an object with params, file_bytes, quality, latency_ms, throughput) or one of {string.Join(", ", ReservedKeys)}; found {reader.TokenType}");
                        variants[key] = JsonSerializer.Deserialize<VariantReport>(ref reader, options)!;
                        break;
                }
            }
            return report with { Variants = variants };
        }

        public override void Write(Utf8JsonWriter writer, RunReport value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            if (value.Run != null) Write(writer, "run", value.Run, options);
            foreach (var (name, variant) in value.Variants)
            {
                if (ReservedKeys.Contains(name))
                    throw new ArgumentException($"a model variant may not be called '{name}': {string.Join(", ", ReservedKeys)} are reserved");
                Write(writer, name, variant, options);
            }
            if (value.Targets != null) Write(writer, "targets", value.Targets, options);
            if (value.Distillation != null) Write(writer, "distillation", value.Distillation, options);
            if (value.Frontier != null) Write(writer, "frontier", value.Frontier, options);
            if (value.Notes != null) Write(writer, "notes", value.Notes, options);
            writer.WriteEndObject();
        }

        static void Write<T>(Utf8JsonWriter writer, string name, T value, JsonSerializerOptions options)
        {
            writer.WritePropertyName(name);
            JsonSerializer.Serialize(writer, value, options);
        }
    }
}
