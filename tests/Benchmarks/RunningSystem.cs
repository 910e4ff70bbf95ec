using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>The whole system booted from the AppHost on throw-away state and random ports, as the end-to-end tests do.</summary>
public sealed class RunningSystem : IAsyncDisposable
{
    public const string OperatorKey = "sn_op_benchmark_operator_key";

    private readonly string _state;

    /// <summary>The throw-away state folder the system runs on (its servers' data, the generated secrets).</summary>
    public string StateDirectory => _state;

    private RunningSystem(DistributedApplication app, string state, HttpClient gateway, string accountSid, string authToken)
    {
        App = app;
        _state = state;
        Gateway = gateway;
        AccountSid = accountSid;
        AuthToken = authToken;
    }

    public DistributedApplication App { get; }
    public HttpClient Gateway { get; }
    public string AccountSid { get; }
    public string AuthToken { get; }

    /// <summary>Boots the system; <paramref name="moreArguments"/> go to the AppHost (e.g. <c>--Crm:Replicas=2</c>, <c>--AI:Provider=OpenAI</c>).</summary>
    public static async Task<RunningSystem> StartAsync(params string[] moreArguments)
    {
        var state = Directory.CreateTempSubdirectory("safenotify-bench-").FullName;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            $"--Crm:StateDirectory={state}", "--Crm:Throwaway=true", "--Crm:DemoData=false", "--Crm:Infrastructure=local",
            // Durable as in production: a webhook acknowledged is a message on disk, and the flush is part of the cost.
            "--Crm:FastDatabase=false",
            // The services as deployed, not as a developer runs them (no developer exception page, no DI scope checks).
            "--Crm:ServiceEnvironment=Production",
            "--Gateway:Port=0", $"--Crm:OperatorApiKey={OperatorKey}", "--Crm:ExportTelemetry=false", .. moreArguments,
        ]);
        // The services' own logs and the loader's HTTP logs would drown the results: warnings and errors only.
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Gateway, timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.TwilioStandIn, timeout.Token);
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(state, "secrets.json")))!;
        return new RunningSystem(app, state, app.CreateHttpClient(ResourceNames.Gateway), secrets["twilio-standin-account-sid"], secrets["twilio-standin-auth-token"]);
    }

    public Uri EndpointOf(string resource) => App.GetEndpoint(resource, "http");

    public async Task<JsonNode> CallAsync(HttpMethod method, string path, string key, object? body = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            using var response = await Gateway.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode == 409 && response.Headers.RetryAfter is not null && attempt < 100)
            {
                await Task.Delay(100);
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
            }

            return string.IsNullOrEmpty(text) ? new JsonObject() : JsonNode.Parse(text)!;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
