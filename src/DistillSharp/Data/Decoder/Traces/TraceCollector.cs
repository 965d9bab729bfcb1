using System.Diagnostics;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>What one collection did.</summary>
/// <param name="Prompts">Distinct requests asked for (prompts with equal keys count once).</param>
/// <param name="Cached">Already in the store: not asked again.</param>
/// <param name="Collected">Answered and stored in this collection.</param>
/// <param name="Failed">Refused (4xx) or still failing after every retry; a later collection asks them again.</param>
/// <param name="Seconds">Wall time of this collection.</param>
/// <param name="CompletionTokens">Tokens the teacher wrote (scoring: the tokens it scored) for <paramref name="Collected"/>.</param>
/// <param name="Attempts">HTTP attempts.</param>
/// <param name="Retries">Retried attempts.</param>
/// <param name="Throttled">429 answers.</param>
/// <param name="ServerErrors">5xx answers.</param>
/// <param name="Dropped">Connections that failed or closed before an answer.</param>
/// <param name="Timeouts">Attempts past the timeout.</param>
/// <param name="FirstError">The first failure's message, when any.</param>
public sealed record CollectResult(int Prompts, int Cached, int Collected, int Failed, double Seconds, long CompletionTokens,
    long Attempts, long Retries, long Throttled, long ServerErrors, long Dropped, long Timeouts, string? FirstError)
{
    /// <summary>Answers stored per second of this collection.</summary>
    public double RequestsPerSecond => Seconds > 0 ? Collected / Seconds : 0;
    /// <summary>Teacher tokens stored per second of this collection.</summary>
    public double TokensPerSecond => Seconds > 0 ? CompletionTokens / Seconds : 0;
}

/// <summary>
/// Asks the teacher endpoint for every prompt whose key is not yet in the <see cref="TraceStore"/>
/// (at most <see cref="CollectLimits.Concurrency"/> at once, paced and retried by the
/// <see cref="EndpointClient"/>) and appends each answer as it arrives. Killed or cancelled at any
/// moment, the store holds whole answers only, and the next collection asks exactly the rest.
/// </summary>
public static class TraceCollector
{
    /// <summary>Collects into <paramref name="store"/>; <paramref name="progress"/> gets (done, total) after each prompt.</summary>
    public static Task<CollectResult> CollectAsync(EndpointClient client, TraceStore store, EndpointTeacher teacher, TraceApi api,
        IReadOnlyList<TracePrompt> prompts, TraceSampling sampling, int concurrency, Action<int, int>? progress = null,
        CancellationToken cancel = default) =>
        RunAsync(client, store, prompts.Select(p =>
        {
            string key = OpenAiWire.Key(teacher, api, p.Text, sampling);
            return new TeacherRequest(key, OpenAiWire.Route(api), () => OpenAiWire.Request(teacher, api, p.Text, sampling),
                body => OpenAiWire.Parse(api, body, key, p));
        }).ToList(), concurrency, progress, cancel);

    /// <summary>
    /// Sends every request whose key is not in <paramref name="store"/> (requests with equal keys once),
    /// appending each parsed answer as it arrives: the loop under trace collection and corpus scoring.
    /// </summary>
    public static async Task<CollectResult> RunAsync(EndpointClient client, TraceStore store, IReadOnlyList<TeacherRequest> all, int concurrency,
        Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<string>();
        var requests = all.Where(r => seen.Add(r.Key)).ToList();
        var todo = requests.Where(r => !store.Contains(r.Key)).ToList();
        int cached = requests.Count - todo.Count, collected = 0, failed = 0, done = cached;
        long tokens = 0;
        string? firstError = null;
        var (a0, r0, t0, s0, d0, o0) = (client.Attempts, client.Retries, client.Throttled, client.ServerErrors, client.Dropped, client.Timeouts);
        progress?.Invoke(done, requests.Count);
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = cancel },
            async (request, token) =>
            {
                try
                {
                    string body = await client.PostAsync(request.Route, request.Body(), token).ConfigureAwait(false);
                    var trace = request.Parse(body);
                    if (store.Append(trace))
                    {
                        Interlocked.Increment(ref collected);
                        Interlocked.Add(ref tokens, request.CountsPrompt ? trace.Tokens?.Count ?? 0 : trace.CompletionTokens);
                    }
                }
                catch (Exception e) when (e is TeacherRequestException or DistillSharpException)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                }
                progress?.Invoke(Interlocked.Increment(ref done), requests.Count);
            }).ConfigureAwait(false);
        return new CollectResult(requests.Count, cached, collected, failed, clock.Elapsed.TotalSeconds, tokens,
            client.Attempts - a0, client.Retries - r0, client.Throttled - t0, client.ServerErrors - s0, client.Dropped - d0, client.Timeouts - o0, firstError);
    }
}

/// <summary>One request to the teacher.</summary>
/// <param name="Key">The store key of its answer.</param>
/// <param name="Route">The route below the endpoint's base URL.</param>
/// <param name="Body">Builds the JSON body (when it is sent).</param>
/// <param name="Parse">The answer as a stored record; a <see cref="DistillSharpException"/> refuses it (counted failed, not stored).</param>
/// <param name="CountsPrompt">The echoed tokens count as the request's work (scoring, where the teacher writes nothing).</param>
public sealed record TeacherRequest(string Key, string Route, Func<string> Body, Func<string, TeacherTrace> Parse, bool CountsPrompt = false);
