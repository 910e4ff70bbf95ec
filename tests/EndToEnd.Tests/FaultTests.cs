using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The promise under faults: while customers keep writing, the broker restarts, a service is killed outright,
/// the database restarts. Afterwards every customer has exactly one reply: nothing lost, nothing twice.
/// The test plays Twilio faithfully, including its retry of a webhook that was not acknowledged.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FaultTests(SystemFixture system)
{
    private const int CustomersBefore = 5;
    private const int CustomersAfter = 5;
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public Task The_broker_restarted_mid_stream_loses_and_duplicates_nothing() =>
        StreamThroughAsync("Clínica Broker", () => RestartAsync(ResourceNames.RabbitMq));

    [Fact]
    public Task A_consumer_service_killed_mid_stream_and_started_again_loses_and_duplicates_nothing() =>
        StreamThroughAsync("Clínica Caída", () => KillAndStartAsync(ResourceNames.Lead));

    [Fact]
    public Task The_database_restarted_mid_stream_loses_and_duplicates_nothing() =>
        StreamThroughAsync("Clínica Reinicio", () => RestartAsync(ResourceNames.Postgres));

    private async Task StreamThroughAsync(string tenantName, Func<Task> fault)
    {
        var tenant = await system.CreateTenantAsync(tenantName);
        var customers = Enumerable.Range(0, CustomersBefore + CustomersAfter)
            .Select(_ => "whatsapp:+5732" + Random.Shared.Next(10_000_000, 99_999_999)).ToList();

        foreach (var customer in customers.Take(CustomersBefore))
        {
            await SendUntilAcknowledgedAsync(customer, tenant.Phone);
        }

        // The fault strikes while the first messages are still on their way; more arrive during and after it.
        var faultStarted = DateTime.UtcNow;
        var faulting = fault();
        foreach (var customer in customers.Skip(CustomersBefore))
        {
            await SendUntilAcknowledgedAsync(customer, tenant.Phone);
            await Task.Delay(200);
        }

        await faulting;

        try
        {
            await Eventually.TrueAsync(async () => (await CustomersWithoutReplyAsync(customers)).Count == 0,
                "every customer to get a reply after the fault", RecoveryTimeout);
        }
        catch (TimeoutException)
        {
            var missing = await CustomersWithoutReplyAsync(customers);
            throw new TimeoutException($"{missing.Count} of {customers.Count} customers never got a reply after the fault " +
                $"({string.Join(", ", missing)}).\n{await SystemSnapshot.DescribeAsync(system)}\n" +
                $"What the resources reported since the fault began:\n{system.ResourceLogs.Troubles(faultStarted)}");
        }

        // Anything redelivered after the fault would arrive as a second reply: give it the time to show.
        await Task.Delay(TimeSpan.FromSeconds(5));
        foreach (var customer in customers)
        {
            Assert.Single(await system.SentToAsync(customer));
        }
    }

    private async Task<List<string>> CustomersWithoutReplyAsync(IEnumerable<string> customers)
    {
        var missing = new List<string>();
        foreach (var customer in customers)
        {
            if ((await system.SentToAsync(customer)).Count == 0)
            {
                missing.Add(customer);
            }
        }

        return missing;
    }

    /// <summary>As Twilio does: a webhook not acknowledged with 2xx is sent again, with the same MessageSid.</summary>
    private async Task SendUntilAcknowledgedAsync(string customer, string number)
    {
        var messageSid = $"SM{Guid.NewGuid():N}";
        var deadline = DateTime.UtcNow + RecoveryTimeout;
        while (true)
        {
            var (_, status) = await system.SendAsCustomerAsync(customer, number, "Hola, quiero una cita", messageSid);
            if (status is >= 200 and < 300)
            {
                return;
            }

            Assert.True(status >= 500 || status == 429, $"A webhook was refused with {status}, which Twilio would not retry.");
            Assert.True(DateTime.UtcNow < deadline, "Twilio's webhook was never acknowledged.");
            await Task.Delay(500);
        }
    }

    private async Task RestartAsync(string resource)
    {
        var before = CurrentState(resource);
        var result = await system.App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.RestartCommand);
        Assert.True(result.Success, $"Restarting {resource} failed: {result.Message}");
        await WaitHealthyAgainAsync(resource, before);
        if (resource == ResourceNames.Postgres)
        {
            // The services recover on their own; this test process's pooled connections died with the old server and
            // would fail the next test of the collection that opens one (57P01).
            Npgsql.NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>A crash, not a shutdown: the process gets no chance to finish what it was doing.</summary>
    private async Task KillAndStartAsync(string resource)
    {
        var before = CurrentState(resource);
        var pid = ProcessIdOf(before) ?? throw new InvalidOperationException($"{resource} has no process id.");
        using (var process = Process.GetProcessById(pid))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        await system.App.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text != "Running")
            .WaitAsync(RecoveryTimeout);
        var result = await system.App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        Assert.True(result.Success, $"Starting {resource} again failed: {result.Message}");
        await WaitHealthyAgainAsync(resource, before);
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
            await system.App.ResourceNotifications.WaitForResourceAsync(resource, e =>
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
                $"What the resources reported:\n{system.ResourceLogs.Troubles(DateTime.UtcNow - RecoveryTimeout - TimeSpan.FromSeconds(30))}");
        }
    }

    private ResourceEvent CurrentState(string resource) =>
        system.App.ResourceNotifications.TryGetCurrentState(resource, out var current)
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
