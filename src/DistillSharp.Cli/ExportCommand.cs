using System.CommandLine;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;
namespace DistillSharp.Cli;

/// <summary>`distill export --model M --format safetensors|onnx|onnx-int8 --out P`.</summary>
static class ExportCommand
{
    static readonly string[] Formats = ["safetensors", "onnx", "onnx-int8"];

    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "builtin:NAME, an .onnx file, a Hugging Face folder or a run folder.", Required = true };
        var format = new Option<string>("--format", "-f") { Description = "safetensors (Hugging Face folder), onnx (fp32) or onnx-int8.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (safetensors) or .onnx file.", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "safetensors weight type: F32, F16 or BF16.", DefaultValueFactory = _ => "F32" };
        var command = new Command("export", "Export a student as a Hugging Face folder or as ONNX (fp32 or INT8) for ONNX Runtime.") { model, format, output, dtype };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (!Formats.Contains(fmt)) throw new DistillSharpException($"--format '{fmt}' is not known; use {string.Join(", ", Formats)}");
            string spec = parse.GetValue(model)!, path = parse.GetValue(output)!;
            using var encoder = ModelLoader.Load(spec);
            switch (fmt)
            {
                case "safetensors":
                    HuggingFaceFolder.Save(encoder, path, parse.GetValue(dtype)!);
                    Console.WriteLine($"wrote {path}/ (Hugging Face + sentence-transformers layout)");
                    break;
                case "onnx":
                    var fp32 = OnnxExporter.ExportFp32(encoder, path);
                    Console.WriteLine($"wrote {fp32.Path} ({fp32.FileBytes / 1e6:F1} MB)");
                    break;
                default:
                    string quantizedPath = Path.Combine(spec, "student-int8", Int8EncoderFile.QuantizedFile);
                    if (!File.Exists(quantizedPath))
                        throw new DistillSharpException($"onnx-int8 needs a run folder with {Path.Combine("student-int8", Int8EncoderFile.QuantizedFile)}; '{spec}' has none (run `distill run` first)");
                    var int8 = OnnxExporter.ExportInt8(encoder, QuantizedModelFile.Load(quantizedPath), path);
                    Console.WriteLine($"wrote {int8.Path} ({int8.FileBytes / 1e6:F1} MB, {int8.Scheme})");
                    break;
            }
            return CommandRunner.Ok;
        }));
        return command;
    }
}
