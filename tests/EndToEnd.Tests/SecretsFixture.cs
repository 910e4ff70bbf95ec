using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.ModelStandIn;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The whole system as <see cref="SystemFixture"/> boots it, with everything it writes captured: every resource's
/// console log, the telemetry (traces, logs, metrics) the services export over OTLP to a small receiver in this
/// process, and every answer the gateway gives. The Agent service talks to a model (the model stand-in, started
/// here) with a model key, so that key is one of the secrets in play too.
/// </summary>
public sealed class SecretsFixture : SystemFixture
{
    public const string ModelApiKey = "sk-e2e-model-key-7c1d0b5f9a2e4b6c8d3f1a0e";

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _watchers = [];
    private WebApplication _model = null!;

    public OtlpReceiver Otlp { get; } = new();

    /// <summary>Every line any resource wrote to its console, prefixed with the resource's name.</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>Every answer the gateway gave to the tests: the request line, the headers and the body.</summary>
    public ConcurrentQueue<RecordedResponse> Responses { get; } = new();

    public IReadOnlyDictionary<string, string> GeneratedSecrets { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyList<ModelRequest> ModelRequests => _model.Services.GetRequiredService<ModelStandInState>().Requests.ToList();

    protected override int ConsoleInstances => 1;

    protected override IEnumerable<string> Arguments =>
    [
        "--AI:Provider=OpenAI",
        $"--AI:Endpoint={_model.Urls.First()}/v1",
        "--AI:Model=gpt-4o-mini",
        $"--AI:ApiKey={ModelApiKey}",
    ];

    public override async Task InitializeAsync()
    {
        _model = ModelStandInApp.Build(["--urls", "http://127.0.0.1:0"], options => options.ApiKey = ModelApiKey);
        await _model.StartAsync();
        Otlp.Start();
        await base.InitializeAsync();
        WatchLogs();
        GeneratedSecrets = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(
            await File.ReadAllTextAsync(Path.Combine(StateDirectory, "secrets.json")))!;
    }

    /// <summary>
    /// How long a key replaced in a rotation keeps working here: shorter than the gateway remembers a key (5 s), so that
    /// the rotation test sees the end of the grace period and not of the gateway's memory. No secrets test depends on it.
    /// </summary>
    public static readonly TimeSpan RotationGracePeriod = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Every project exports its telemetry to the receiver, over OTLP/HTTP, in small batches (not every 5 s); Routing
    /// ends rotated keys' grace after <see cref="RotationGracePeriod"/>.
    /// </summary>
    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        var routing = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == ResourceNames.Routing);
        builder.CreateResourceBuilder(routing).WithEnvironment("Crm__ApiKeys__RotationGracePeriod", RotationGracePeriod.ToString("c"));
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Url;
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                context.EnvironmentVariables["OTEL_BSP_SCHEDULE_DELAY"] = "200";
                context.EnvironmentVariables["OTEL_BLRP_SCHEDULE_DELAY"] = "200";
                context.EnvironmentVariables["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            });
        }
    }

    /// <summary>
    /// Follows every resource's console from the start (the orchestrator replays what was written before): once the
    /// system runs, since a resource's log stream is named after its running instance.
    /// </summary>
    private void WatchLogs()
    {
        var loggers = App.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in App.Services.GetRequiredService<DistributedApplicationModel>().Resources
                     .Where(r => r is ProjectResource or ExecutableResource or ContainerResource))
        {
            _watchers.Add(Task.Run(async () =>
            {
                try
                {
                    await foreach (var lines in loggers.WatchAsync(resource).WithCancellation(_stop.Token))
                    {
                        foreach (var line in lines)
                        {
                            Logs.Enqueue($"{resource.Name}: {line.Content}");
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }));
        }
    }

    protected override HttpClient CreateGatewayClient()
    {
        var client = App.CreateHttpClient(ResourceNames.Gateway);
        return new HttpClient(new RecordingHandler(Responses) { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = client.BaseAddress };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _stop.CancelAsync();
        await Task.WhenAll(_watchers);
        Otlp.Dispose();
        await _model.DisposeAsync();
        _stop.Dispose();
    }

    private sealed class RecordingHandler(ConcurrentQueue<RecordedResponse> responses) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"));
            responses.Enqueue(new RecordedResponse($"{request.Method} {request.RequestUri?.PathAndQuery}", headers, await response.Content.ReadAsStringAsync(cancellationToken)));
            return response;
        }
    }
}

public sealed record RecordedResponse(string Request, string Headers, string Body);

/// <summary>Runs alone, after the other collections: two whole systems at once would only slow each other down.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SecretsCollection : ICollectionFixture<SecretsFixture>
{
    public const string Name = "the whole system, everything it writes captured";
}
