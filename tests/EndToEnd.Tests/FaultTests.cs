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
        var faulting = fault();
        foreach (var customer in customers.Skip(CustomersBefore))
        {
            await SendUntilAcknowledgedAsync(customer, tenant.Phone);
            await Task.Delay(200);
        }

        await faulting;

        await Eventually.TrueAsync(async () =>
        {
            foreach (var customer in customers)
            {
                if ((await system.SentToAsync(customer)).Count == 0)
                {
                    return false;
                }
            }

            return true;
        }, "every customer to get a reply after the fault", RecoveryTimeout);

        // Anything redelivered after the fault would arrive as a second reply: give it the time to show.
        await Task.Delay(TimeSpan.FromSeconds(5));
        foreach (var customer in customers)
        {
            Assert.Single(await system.SentToAsync(customer));
        }
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
        var result = await system.App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.RestartCommand);
        Assert.True(result.Success, $"Restarting {resource} failed: {result.Message}");
        await WaitHealthyAsync(resource);
    }

    /// <summary>A crash, not a shutdown: the process gets no chance to finish what it was doing.</summary>
    private async Task KillAndStartAsync(string resource)
    {
        var pid = ProcessId(resource) ?? throw new InvalidOperationException($"{resource} has no process id.");
        using (var process = Process.GetProcessById(pid))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        await system.App.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text != "Running")
            .WaitAsync(RecoveryTimeout);
        var result = await system.App.ResourceCommands.ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
        Assert.True(result.Success, $"Starting {resource} again failed: {result.Message}");
        await WaitHealthyAsync(resource);
    }

    private async Task WaitHealthyAsync(string resource) =>
        await system.App.ResourceNotifications.WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text == "Running" && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            .WaitAsync(RecoveryTimeout);

    private int? ProcessId(string resource) =>
        system.App.ResourceNotifications.TryGetCurrentState(resource, out var current) ? ProcessIdOf(current) : null;

    private static int? ProcessIdOf(ResourceEvent resourceEvent) =>
        resourceEvent.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int pid => pid,
            long pid => (int)pid,
            string text when int.TryParse(text, out var pid) => pid,
            _ => null,
        };
}
