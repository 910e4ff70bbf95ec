using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The whole system, booted from the AppHost as the run command does it (Postgres, RabbitMQ, five
/// services, the gateway and the Twilio stand-in), but on throw-away state and random ports. One per
/// test collection: it takes about 20 seconds to become healthy. A fixture that needs the system set up differently
/// derives from it (see <see cref="SecretsFixture"/>).
/// </summary>
public class SystemFixture : IAsyncLifetime
{
    public const string OperatorKey = "sn_op_end_to_end_tests_operator_key";
    public const int WebhooksPerNumberPerSecond = 50;

    public const int WebhooksPerAccountPerSecond = 2 * WebhooksPerNumberPerSecond;

    /// <summary>Gateway routes that lead to <see cref="Recorder"/>: an API path (behind a key) and a webhook path.</summary>
    public const string RecordedApiPath = "/api/test-recorder";
    public const string RecordedWebhookPath = "/webhooks/twilio/test-recorder";
    private string _state = "";

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>
    /// A stand-in destination behind the gateway (at <see cref="RecordedApiPath"/> and <see cref="RecordedWebhookPath"/>):
    /// what it received is exactly what the gateway passes a service.
    /// </summary>
    public RequestRecorder Recorder { get; } = new();

    /// <summary>The resources' recent console lines, for a failing test to show.</summary>
    public ResourceLogRecorder ResourceLogs { get; } = new();

    /// <summary>The throw-away state folder (data and the generated secrets.json).</summary>
    public string StateDirectory => _state;

    /// <summary>Signs identities as the console does, with the key the AppHost generated into the state folder.</summary>
    public SafeNotify.Crm.ServiceDefaults.IdentitySigner ConsoleSigner() => new(SafeNotify.Crm.ServiceDefaults.IdentityTokens.ConsoleIssuer,
        JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(_state, "secrets.json")))!["console-identity-key"],
        TimeSpan.FromMinutes(1), TimeProvider.System);
    public HttpClient Gateway { get; private set; } = null!;
    public HttpClient TwilioStandIn { get; private set; } = null!;

    /// <summary>The stand-in's Twilio credentials, which the AppHost generated into the state folder.</summary>
    public (string AccountSid, string AuthToken) Twilio { get; private set; }

    /// <summary>More AppHost arguments for a collection that boots the system differently, after the defaults (a later one wins).</summary>
    protected virtual IEnumerable<string> Arguments => [];

    /// <summary>Two console instances behind the gateway, so every browser test runs across them; systems without browser tests need one.</summary>
    protected virtual int ConsoleInstances => 2;

    /// <summary>How long the system may take to become healthy.</summary>
    protected virtual TimeSpan StartTimeout => TimeSpan.FromMinutes(4);

    /// <summary>Changes the application model before it is built.</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    protected virtual HttpClient CreateGatewayClient() => App.CreateHttpClient(ResourceNames.Gateway);

    public virtual async Task InitializeAsync()
    {
        _state = Directory.CreateTempSubdirectory("safenotify-e2e-").FullName;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            $"--Crm:StateDirectory={_state}",
            "--Crm:Throwaway=true",
            "--Crm:DemoData=false",
            "--Crm:Infrastructure=local",
            "--Gateway:Port=0",
            "--Crm:ExportTelemetry=false",
            $"--Crm:OperatorApiKey={OperatorKey}",
            // Low enough for a test to cross quickly, far above what the other tests send to one number and one account.
            $"--Gateway:RateLimits:WebhooksPerNumberPerSecond={WebhooksPerNumberPerSecond}",
            $"--Gateway:RateLimits:WebhooksPerAccountPerSecond={WebhooksPerAccountPerSecond}",
            // An ended session (signed out elsewhere, a disabled account) leaves an open console within seconds, not 30.
            "--Crm:Console:SessionCheckInterval=00:00:03",
            $"--Crm:Console:Instances={ConsoleInstances}",
            .. Arguments,
        ]);
        // The services' direct endpoints keep the fixed ports of their launch profiles: another system booted at the
        // same time (another test run on this machine) would take them.
        PrivatePorts.Apply(builder);
        builder.Services.AddLogging(logging => logging.AddProvider(ResourceLogs));
        RouteToRecorder(builder);
        Configure(builder);
        App = await builder.BuildAsync();
        var startedAt = DateTime.UtcNow;
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await App.StartAsync(timeout.Token);
            await App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.Gateway, timeout.Token);
            await App.ResourceNotifications.WaitForResourceHealthyAsync(ResourceNames.TwilioStandIn, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // A start that hangs on a CI machine nobody can log into must say what the resources reported meanwhile.
            throw new TimeoutException(
                $"The system was not healthy within {StartTimeout.TotalMinutes} min of starting.\n" +
                $"What the resources reported:\n{ResourceLogs.Troubles(startedAt)}");
        }

        Gateway = CreateGatewayClient();
        TwilioStandIn = App.CreateHttpClient(ResourceNames.TwilioStandIn);
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(_state, "secrets.json")))!;
        Twilio = (secrets["twilio-standin-account-sid"], secrets["twilio-standin-auth-token"]);
    }

    /// <summary>Two test-only routes of the gateway's, both to <see cref="Recorder"/> (YARP's configuration, as environment).</summary>
    private void RouteToRecorder(IDistributedApplicationTestingBuilder builder)
    {
        Recorder.Start();
        var gateway = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == ResourceNames.Gateway);
        builder.CreateResourceBuilder(gateway)
            .WithEnvironment("ReverseProxy__Routes__test-recorder-api__ClusterId", "test-recorder")
            .WithEnvironment("ReverseProxy__Routes__test-recorder-api__Match__Path", RecordedApiPath + "/{**rest}")
            .WithEnvironment("ReverseProxy__Routes__test-recorder-webhook__ClusterId", "test-recorder")
            .WithEnvironment("ReverseProxy__Routes__test-recorder-webhook__Match__Path", RecordedWebhookPath)
            .WithEnvironment("ReverseProxy__Clusters__test-recorder__Destinations__recorder__Address", Recorder.Url);
    }

    public virtual async Task DisposeAsync()
    {
        await App.DisposeAsync();
        Recorder.Dispose();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    /// <summary>
    /// A client of the gateway whose connections come from another loopback address (127.0.0.2 and up): the gateway
    /// limits keys that fail per client address, and a test that spends many keeps the other tests' address out of it.
    /// </summary>
    public HttpClient GatewayFrom(string address) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = Gateway.BaseAddress };

    /// <summary>Calls the API and reads the JSON answer, failing with the body when the status is not the expected one.</summary>
    public async Task<JsonNode> CallAsync(HttpMethod method, string path, string? key, object? body = null, int expected = 200)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await Gateway.SendAsync(Request(method, path, key, body));
            var text = await response.Content.ReadAsStringAsync();
            // A service that has not yet heard of a tenant or agent created a moment ago says 409 + Retry-After; one whose
            // database is coming back (after a restart another test made) says 503 + Retry-After. A client waits and retries.
            if ((int)response.StatusCode is 409 or 503 && response.Headers.RetryAfter is not null && attempt < 100)
            {
                await Task.Delay(100);
                continue;
            }

            Assert.True((int)response.StatusCode == expected, $"{method} {path}: expected {expected}, got {(int)response.StatusCode}: {text}");
            return string.IsNullOrEmpty(text) ? new JsonObject() : JsonNode.Parse(text)!;
        }
    }

    /// <summary>A new tenant with an agent and a WhatsApp number of its own: what each test writes to.</summary>
    public async Task<TestTenant> CreateTenantAsync(string name, string agentName = "DrBot", string plan = "pro")
    {
        var suffix = Random.Shared.Next(10_000_000, 99_999_999).ToString();
        var tenant = await CallAsync(HttpMethod.Post, "/api/admin/tenants", OperatorKey,
            new { safeNotifyUserId = $"user-{suffix}", name, crmPlan = plan, timezone = "America/Bogota" }, expected: 201);
        var key = tenant["apiKey"]!.GetValue<string>();
        var agent = await CallAsync(HttpMethod.Post, "/api/agents", key, new
        {
            name = agentName,
            personalityPrompt = "Eres un asistente profesional y empático.",
            businessPrompt = "Clínica dental en Bogotá.",
            objectivesPrompt = "Agendar citas.",
            businessRules = new { canScheduleAppointments = true, workingHours = "08:00-18:00" },
            triggerKeywords = new[] { "cita", "limpieza" },
        }, expected: 201);
        var phone = $"+5730{suffix}";
        var number = await CallAsync(HttpMethod.Post, "/api/numbers", key, new
        {
            phoneNumber = phone,
            displayName = "Citas",
            defaultAgentId = agent["id"]!.GetValue<string>(),
        }, expected: 201);
        return new TestTenant(tenant["id"]!.GetValue<string>(), key, agent["id"]!.GetValue<string>(), number["id"]!.GetValue<string>(), phone);
    }

    /// <summary>Plays a customer: the stand-in posts a signed inbound message to the gateway, as Twilio would.</summary>
    public async Task<(string MessageSid, int WebhookStatus)> SendAsCustomerAsync(string from, string to, string body, string? messageSid = null, string? signature = null)
    {
        using var response = await TwilioStandIn.PostAsJsonAsync("/_standin/inbound", new { from, to, body, profileName = "María González", messageSid, signature });
        response.EnsureSuccessStatusCode();
        var result = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        return (result["messageSid"]!.GetValue<string>(), result["webhookStatus"]!.GetValue<int>());
    }

    /// <summary>What the stand-in sent to one customer through the Messages API, oldest first.</summary>
    public async Task<JsonArray> SentToAsync(string customer) =>
        (await TwilioStandIn.GetFromJsonAsync<JsonArray>($"/_standin/messages?to={Uri.EscapeDataString(customer)}"))!;
}

public sealed record TestTenant(string Id, string ApiKey, string AgentId, string NumberId, string Phone);

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "the whole system";
}
