using System.Diagnostics;
using System.Globalization;
using DistillSharp.Serving.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace DistillSharp.Serving.Http;

/// <summary>The error object of OpenAI's error body.</summary>
public sealed record ErrorDetail(string Message, string Type, int Code);
/// <summary><c>{"error": {"message", "type", "code"}}</c>.</summary>
public sealed record ErrorBody(ErrorDetail Error);

/// <summary>
/// The outermost middleware: turns <see cref="ServingException"/>s and Kestrel's bad-request errors
/// into JSON error bodies (never a 500 for bad input), counts every request by endpoint and status,
/// times it, and sets <c>x-total-time</c>. A request whose client went away is counted as status 499.
/// </summary>
public sealed class ServingMiddleware(RequestDelegate next, ServingMetrics metrics, ILogger<ServingMiddleware> log)
{
    /// <summary>Runs the rest of the pipeline.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        long start = Stopwatch.GetTimestamp();
        context.Response.OnStarting(() =>
        {
            context.Response.Headers["x-total-time"] = Stopwatch.GetElapsedTime(start).TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        int? status = null;
        try
        {
            await next(context);
        }
        catch (ServingException e)
        {
            await WriteAsync(context, e.Status, e.Type, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            await WriteAsync(context, e.StatusCode, e.StatusCode == 413 ? ServingException.TooLarge : ServingException.InvalidRequest, e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499; // client closed the request (nginx's code); nothing can be sent
        }
        catch (Exception e)
        {
            log.LogError(e, "{Path} failed", context.Request.Path);
            await WriteAsync(context, 500, ServingException.Server, $"internal error: {e.Message}");
        }
        finally
        {
            string endpoint = context.GetEndpoint() is RouteEndpoint r ? r.RoutePattern.RawText ?? "?" : "unmatched";
            string code = (status ?? context.Response.StatusCode).ToString(CultureInfo.InvariantCulture);
            metrics.Requests.WithLabels(endpoint, code).Inc();
            metrics.RequestDuration.WithLabels(endpoint).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    /// <summary>Writes an error body unless the response has started (a stream reports its errors in-band).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string type, string message)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested) return;
        context.Response.Clear();
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new ErrorBody(new ErrorDetail(message, type, status)), ServingJson.Options);
    }
}
