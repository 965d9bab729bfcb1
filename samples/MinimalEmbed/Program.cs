// Embeds the texts given on the command line with an INT8 student folder (a run's student-int8/)
// and prints one JSON line: the embedding width, the first values of each embedding, and the time
// from process start to the first embedding (cold start).
using System.Diagnostics;
using System.Globalization;
using DistillSharp;
using DistillSharp.Runtime.Encoder;

var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MinimalEmbed STUDENT_INT8_DIR TEXT...");
    return 2;
}
try
{
    using var encoder = new Int8Encoder(Int8EncoderFile.Load(args[0]));
    var embeddings = encoder.Embed(args[1..]);
    double coldStartMs = (DateTime.UtcNow - started).TotalMilliseconds;
    string F(float v) => v.ToString("0.#####", CultureInfo.InvariantCulture);
    var heads = embeddings.Select(e => "[" + string.Join(", ", e.Take(4).Select(F)) + "]");
    Console.WriteLine($"{{\"dims\": {embeddings[0].Length}, \"texts\": {embeddings.Length}, \"cold_start_ms\": {coldStartMs.ToString("0.0", CultureInfo.InvariantCulture)}, \"first_values\": [{string.Join(", ", heads)}]}}");
    return 0;
}
catch (DistillSharpException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
