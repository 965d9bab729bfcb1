using System.CommandLine;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;
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
        var activations = new Option<string>("--activations")
        {
            Description = "onnx-int8 of a dynamic model: model (its own recipe; per token for int8-dynamic), per-tensor " +
                "(its *-dynamic-per-tensor twin: ONNX Runtime's fused DynamicQuantizeMatMul) or per-token.",
            DefaultValueFactory = _ => "model",
        };
        var command = new Command("export", "Export a student as a Hugging Face folder or as ONNX (fp32 or INT8) for ONNX Runtime.") { model, format, output, dtype, activations };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (!Formats.Contains(fmt)) throw new DistillSharpException($"--format '{fmt}' is not known; use {string.Join(", ", Formats)}");
            var dynamic = parse.GetValue(activations) switch
            {
                "model" => OnnxDynamicActivations.Model,
                "per-tensor" => OnnxDynamicActivations.OrtPerTensor,
                "per-token" => OnnxDynamicActivations.PerToken,
                var a => throw new DistillSharpException($"--activations '{a}' is not known; use model, per-tensor, per-token"),
            };
            string spec = parse.GetValue(model)!, path = parse.GetValue(output)!, weightType = parse.GetValue(dtype)!;
            if (fmt == "safetensors" && weightType is not ("F32" or "F16" or "BF16"))
                throw new DistillSharpException($"--dtype '{weightType}' is not known; use F32, F16 or BF16");
            string quantizedPath = Path.Combine(spec, "student-int8", Int8EncoderFile.QuantizedFile);
            if (fmt == "onnx-int8" && !File.Exists(quantizedPath))
                throw new DistillSharpException($"onnx-int8 needs a run folder with {Path.Combine("student-int8", Int8EncoderFile.QuantizedFile)}; '{spec}' has none (run `distill run` first)");
            if (fmt == "safetensors") OutputPath.Folder(path, "--out");
            else OutputPath.File(path, "--out");
            var quantized = fmt == "onnx-int8" ? QuantizedModelFile.Load(quantizedPath) : null;
            using var encoder = ModelLoader.Load(spec);
            switch (fmt)
            {
                case "safetensors":
                    HuggingFaceFolder.Save(encoder, path, weightType);
                    Console.WriteLine($"wrote {path}/ (Hugging Face + sentence-transformers layout)");
                    break;
                case "onnx":
                    var fp32 = OnnxExporter.ExportFp32(encoder, path);
                    Console.WriteLine($"wrote {fp32.Path} ({fp32.FileBytes / 1e6:F1} MB)");
                    break;
                default:
                    var int8 = OnnxExporter.ExportInt8(encoder, quantized!, path, new OnnxExportOptions(DynamicActivations: dynamic));
                    Console.WriteLine($"wrote {int8.Path} ({int8.FileBytes / 1e6:F1} MB, {int8.Scheme})");
                    break;
            }
            return CommandRunner.Ok;
        }));
        return command;
    }
}
