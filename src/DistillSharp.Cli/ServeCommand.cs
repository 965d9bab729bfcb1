using System.CommandLine;
using DistillSharp.Cli.Serving;
using DistillSharp.Serving;
using DistillSharp.Serving.Batching;
using Microsoft.Extensions.Logging;

namespace DistillSharp.Cli;

/// <summary>
/// `distill serve --model M [--host H] [--port P] [--runtime int8|onnx|onnx-int8|torch]
/// [--max-batch-tokens N] [--max-wait-ms X] [--max-queue N] [--threads N] …`: an OpenAI- and
/// TEI-compatible HTTP server (docs/SERVING.md) until Ctrl+C.
/// </summary>
static class ServeCommand
{
    public static Command Create()
    {
        var b = new BatchingOptions();
        var s = new ServerOptions();
        var model = new Option<string>("--model", "-m")
        {
            Description = "A run folder (int8 → student-int8/, onnx → student.onnx, onnx-int8 → student-int8.onnx, torch → student/), " +
                          "an INT8 encoder or decoder folder, an .onnx file, a Hugging Face folder or builtin:NAME.",
            Required = true,
        };
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1, 0.0.0.0, ::, localhost).", DefaultValueFactory = _ => s.Host };
        var port = new Option<int>("--port", "-p") { Description = "TCP port (0 = any free port).", DefaultValueFactory = _ => s.Port };
        var runtime = new Option<string>("--runtime", "-r") { Description = "Runtime: " + string.Join(", ", ServedModels.Runtimes) + ".", DefaultValueFactory = _ => "int8" };
        runtime.AcceptOnlyFromAmong([.. ServedModels.Runtimes]);
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "Token budget of one model call.", DefaultValueFactory = _ => b.MaxBatchTokens };
        var maxWait = new Option<double>("--max-wait-ms") { Description = "Longest wait of a request for others to join its batch.", DefaultValueFactory = _ => b.MaxWaitMs };
        var maxQueue = new Option<int>("--max-queue") { Description = "Most sequences waiting; beyond it requests get 429.", DefaultValueFactory = _ => b.MaxQueue };
        var threads = new Option<int>("--threads") { Description = "Threads of one model call.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var maxInputs = new Option<int>("--max-inputs") { Description = "Most inputs per request; beyond it 413.", DefaultValueFactory = _ => s.MaxInputs };
        var autoTruncate = new Option<bool>("--auto-truncate") { Description = "Cut too-long /v1/embeddings inputs instead of answering 413." };
        var maxLength = new Option<int?>("--max-length") { Description = "Encoders: longest input in tokens (default: the model's)." };
        var maxBatchSequences = new Option<int>("--max-batch-sequences") { Description = "Decoders: most sequences generated together.", DefaultValueFactory = _ => 8 };
        var maxContext = new Option<int>("--max-context") { Description = "Decoders: most tokens per sequence, prompt included (0 = the model's).", DefaultValueFactory = _ => 0 };
        var command = new Command("serve", "Serve a model over HTTP: OpenAI /v1/embeddings, /v1/completions, /v1/chat/completions; TEI /embed, /predict; /health, /metrics.")
        {
            model, host, port, runtime, maxBatchTokens, maxWait, maxQueue, threads, maxInputs, autoTruncate, maxLength, maxBatchSequences, maxContext,
        };
        command.SetAction(CommandRunner.Guard(parse =>
        {
            var options = new ServerOptions(parse.GetValue(host)!, parse.GetValue(port),
                new BatchingOptions(parse.GetValue(maxBatchTokens), parse.GetValue(maxWait), parse.GetValue(maxQueue)),
                parse.GetValue(maxInputs), parse.GetValue(autoTruncate));
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new DistillSharpException(e.Message.Split(" (Parameter")[0]);
            }
            using var served = ServedModels.Open(parse.GetValue(model)!, parse.GetValue(runtime)!, parse.GetValue(threads), parse.GetValue(maxLength),
                parse.GetValue(maxContext));
            return Serve(served, options, parse.GetValue(maxBatchSequences)).GetAwaiter().GetResult();
        }));
        return command;
    }

    static async Task<int> Serve(ServedModel served, ServerOptions options, int maxBatchSequences)
    {
        ServingServer server;
        try
        {
            server = await ServingServer.StartAsync(served, options,
                logging => logging.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning), maxBatchSequences: maxBatchSequences);
        }
        catch (IOException e)
        {
            throw new DistillSharpException($"cannot listen on {options.Host}:{options.Port}: {e.Message}");
        }
        await using (server)
        {
            Console.WriteLine($"serving {served.Id} ({served.Runtime}) on {server.BaseAddress} — Ctrl+C stops");
            await server.WaitForShutdownAsync();
        }
        return CommandRunner.Ok;
    }
}
