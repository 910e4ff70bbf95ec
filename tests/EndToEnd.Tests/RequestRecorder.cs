using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Net;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>A request as it arrived: path and query, headers, body.</summary>
public sealed record RecordedRequest(string PathAndQuery, NameValueCollection Headers, byte[] Body);

/// <summary>
/// A stand-in destination on a free local port: keeps every request it is sent and answers each one 200 with
/// <paramref name="contentType"/> and no body. Tests point the system at it to see what arrived, exactly as it arrived.
/// </summary>
public class RequestRecorder(string contentType = "application/json") : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();

    public string Url { get; } = $"http://127.0.0.1:{FreePorts.Next()}";

    public ConcurrentQueue<RecordedRequest> Received { get; } = new();

    public void Start()
    {
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                Received.Enqueue(new RecordedRequest(context.Request.Url?.PathAndQuery ?? "", context.Request.Headers, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.ContentType = contentType;
                context.Response.Close();
            }
        });
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
