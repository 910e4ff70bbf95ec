using System.Diagnostics;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.ModelStandIn;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests.Faults;

/// <summary>
/// A system of the fault suite's own, so that its kills leave nothing behind for other tests: durable Postgres (a
/// crash must lose no committed transaction), a model that takes 1-2 s to answer through the OpenAI client (so that
/// replies are really in flight when a fault strikes) and echoes the customer's newest message (so that every reply
/// says which message it answers), and the system's own timers short enough to run out within a test: a send
/// interrupted inside the Twilio call is looked for after 8 s instead of 2 minutes, retries wait at most 2 s, and the
/// model's circuit breaker stays open 3 s.
/// </summary>
public sealed class FaultFixture : SystemFixture
{
    public const string Model = "gpt-4o-mini";
    private const string ModelApiKey = "sk-fault-suite-model-key";

    private WebApplication _model = null!;

    /// <summary>The model stand-in, driven directly: its behaviour (hang, fail) and the requests it has open.</summary>
    public ModelStandInState ModelState => _model.Services.GetRequiredService<ModelStandInState>();

    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(150);

    /// <summary>How long the model takes to answer while nothing is wrong.</summary>
    public static readonly ModelBehaviour Thinking = new(LatencyMs: 1500);

    protected override int ConsoleInstances => 1;

    protected override IEnumerable<string> Arguments =>
    [
        "--Crm:FastDatabase=false",
        "--AI:Provider=OpenAI",
        $"--AI:Endpoint={_model.Urls.First()}/v1",
        $"--AI:Model={Model}",
        $"--AI:ApiKey={ModelApiKey}",
        "--AI:Timeout=00:00:12",
        "--AI:AttemptTimeout=00:00:05",
        "--AI:MaxRetries=1",
        "--AI:RetryDelay=00:00:00.200",
        "--AI:BreakDuration=00:00:03",
    ];

    protected override TimeSpan StartTimeout => TimeSpan.FromMinutes(5);

    public override async Task InitializeAsync()
    {
        _model = ModelStandInApp.Build(["--urls", "http://127.0.0.1:0"], options => options.ApiKey = ModelApiKey);
        await _model.StartAsync();
        ModelState.SetBehaviour(Thinking);
        await base.InitializeAsync();
        await WarmUpAsync();
    }

    /// <summary>
    /// One conversation through every service before the first test: a freshly started system compiles its code on the
    /// first messages, slowly enough for model calls to time out, and the first test would meet a cold system, not a fault.
    /// </summary>
    private async Task WarmUpAsync()
    {
        var tenant = await CreateTenantAsync("Clínica de calentamiento");
        const string customer = "+573009990001";
        for (var i = 1; i <= 3; i++)
        {
            await SendAsCustomerAsync(customer, tenant.Phone, $"Hola, calentando: mensaje {i}");
            await Eventually.TrueAsync(async () => (await SentToAsync(customer)).Count >= i, "the warm-up conversation answered", TimeSpan.FromSeconds(60));
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _model.DisposeAsync();
    }

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        var ingress = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == ResourceNames.Ingress);
        builder.CreateResourceBuilder(ingress)
            .WithEnvironment("Twilio__InterruptedAfter", "00:00:08")
            .WithEnvironment("Twilio__OutboundStalledAfter", "00:00:10")
            .WithEnvironment("Twilio__RetryBaseDelay", "00:00:00.200")
            .WithEnvironment("Twilio__MaxRetryDelay", "00:00:02");
    }

    /// <summary>A crash: the resource's whole process tree gets SIGKILL, then the orchestrator starts it again.</summary>
    public async Task KillAndStartAsync(string resource, Func<Task>? whileDown = null)
    {
        var before = CurrentState(resource);
        var pid = ProcessIdOf(before) ?? throw new InvalidOperationException($"{resource} has no process id.");
        using (var process = Process.GetProcessById(pid))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        await App.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text != KnownResourceStates.Running)
            .WaitAsync(RecoveryTimeout);
        if (whileDown is not null)
        {
            await whileDown();
        }

        var result = await App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        Assert.True(result.Success, $"Starting {resource} again failed: {result.Message}");
        await WaitHealthyAgainAsync(resource, before);
        if (resource == ResourceNames.Postgres)
        {
            // The services recover on their own; this process's pooled connections died with the old server.
            Npgsql.NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>The Twilio stand-in's next sends meet <paramref name="fault"/> (see its control API).</summary>
    public async Task SetTwilioFaultAsync(object fault)
    {
        using var response = await TwilioStandIn.PostAsJsonAsync("/_standin/faults", fault);
        response.EnsureSuccessStatusCode();
    }

    public async Task ClearTwilioFaultAsync()
    {
        using var response = await TwilioStandIn.DeleteAsync("/_standin/faults");
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Waits until the system has nothing left to do (<see cref="SystemSnapshot.IsQuiet"/>) twice in a row a second
    /// apart, and returns that state; a timeout says what was still moving.
    /// </summary>
    public async Task<SystemSnapshot> WaitQuietAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? RecoveryTimeout);
        var quietInARow = 0;
        while (true)
        {
            var snapshot = await SystemSnapshot.TakeAsync(App, StateDirectory);
            quietInARow = snapshot.IsQuiet ? quietInARow + 1 : 0;
            if (quietInARow == 2)
            {
                return snapshot;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The system was not quiet within {(timeout ?? RecoveryTimeout).TotalSeconds} s:\n{snapshot}");
            }

            await Task.Delay(1000);
        }
    }

    /// <summary>
    /// Waits for a new process of the resource (not the one of <paramref name="before"/>) to be running and to have
    /// passed its health checks since it started: until then the snapshot from before the fault says "Running, Healthy".
    /// </summary>
    private async Task WaitHealthyAgainAsync(string resource, ResourceEvent before)
    {
        var startedBefore = before.Snapshot.StartTimeStamp;
        try
        {
            await App.ResourceNotifications.WaitForResourceAsync(resource, e =>
                    e.Snapshot.StartTimeStamp > startedBefore && e.Snapshot.State?.Text == KnownResourceStates.Running &&
                    e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy &&
                    e.Snapshot.HealthReports.All(report => report.LastRunAt > e.Snapshot.StartTimeStamp))
                .WaitAsync(RecoveryTimeout);
        }
        catch (TimeoutException)
        {
            var current = CurrentState(resource).Snapshot;
            throw new TimeoutException($"{resource} was not running and healthy again within {RecoveryTimeout.TotalSeconds} s " +
                $"(state {current.State?.Text}, health {current.HealthStatus}, exit code {current.ExitCode}, started {current.StartTimeStamp:O}). " +
                $"What the resources reported:\n{ResourceLogs.Troubles(DateTime.UtcNow - RecoveryTimeout - TimeSpan.FromSeconds(30))}");
        }
    }

    private ResourceEvent CurrentState(string resource) =>
        App.ResourceNotifications.TryGetCurrentState(resource, out var current)
            ? current
            : throw new InvalidOperationException($"{resource} is not a resource of the application.");

    private static int? ProcessIdOf(ResourceEvent resourceEvent) =>
        resourceEvent.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, out var pid) => pid,
            _ => null,
        };
}

/// <summary>Runs alone, after the parallel collections: its faults would strike the other tests too.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "the whole system under faults";
}
