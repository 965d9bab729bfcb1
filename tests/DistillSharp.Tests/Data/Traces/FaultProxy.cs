using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DistillSharp.Tests.Data.Traces;

/// <summary>What the proxy does with one request.</summary>
internal enum Fault
{
    /// <summary>Forward and return the upstream answer.</summary>
    None,
    /// <summary>429 with Retry-After: 0, upstream not asked.</summary>
    Throttle,
    /// <summary>503, upstream not asked.</summary>
    Unavailable,
    /// <summary>Close the connection before answering, upstream not asked.</summary>
    Drop,
    /// <summary>Forward (the upstream does the work), then close the connection instead of answering.</summary>
    DropAnswer,
    /// <summary>422 as a hosted API answers a field it does not take (echo), upstream not asked.</summary>
    Refuse,
}

/// <summary>
/// A real Kestrel server on a loopback port in front of a real upstream server, failing requests
/// by a schedule (request number → <see cref="Fault"/>): 429s, 503s and dropped connections,
/// before or after the upstream has answered. Counts what it saw.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly HttpClient _upstream;
    int _requests, _forwarded;

    FaultProxy(WebApplication app, HttpClient upstream)
    {
        _app = app;
        _upstream = upstream;
    }

    /// <summary>Base URL of the proxy, up to /v1.</summary>
    public string Endpoint { get; private set; } = "";
    /// <summary>Requests received.</summary>
    public int Requests => Volatile.Read(ref _requests);
    /// <summary>Requests the upstream answered.</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    public static async Task<FaultProxy> StartAsync(Uri upstream, Func<int, Fault> schedule)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var proxy = new FaultProxy(app, new HttpClient { BaseAddress = upstream, Timeout = TimeSpan.FromSeconds(30) });
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            int n = Interlocked.Increment(ref proxy._requests);
            var fault = schedule(n);
            if (fault == Fault.Drop)
            {
                context.Abort();
                return;
            }
            if (fault is Fault.Throttle or Fault.Unavailable)
            {
                context.Response.StatusCode = fault == Fault.Throttle ? 429 : 503;
                context.Response.Headers.RetryAfter = "0";
                await context.Response.WriteAsync("{\"error\":{\"message\":\"injected\"}}");
                return;
            }
            if (fault == Fault.Refuse)
            {
                context.Response.StatusCode = 422;
                await context.Response.WriteAsync("{\"error\":{\"message\":\"echo is not supported\"}}");
                return;
            }
            using var body = new StreamReader(context.Request.Body);
            string json = await body.ReadToEndAsync();
            using var answer = await proxy._upstream.PostAsync(context.Request.Path.Value!.TrimStart('/'),
                new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
            string text = await answer.Content.ReadAsStringAsync();
            Interlocked.Increment(ref proxy._forwarded);
            if (fault == Fault.DropAnswer)
            {
                context.Abort();
                return;
            }
            context.Response.StatusCode = (int)answer.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(text);
        });
        await app.StartAsync();
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.Endpoint = bound.TrimEnd('/') + "/v1";
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
