using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Apis;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// Isolation in depth: besides the filters in code, Postgres row-level security keeps each tenant's routing data
/// (its own tenant row included) to itself, so a query that forgets its tenant filter still sees nothing of another tenant.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class TenantIsolationTests(RoutingService routing)
{
    [Fact]
    public async Task A_query_without_a_tenant_filter_sees_none_of_another_tenants_rows_and_cannot_write_them()
    {
        var tenantA = await SeedTenantAsync();
        var tenantB = await SeedTenantAsync();

        var report = await TenantIsolationProbe.ProbeAsync(routing, tenantA, tenantB);

        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Superset(new HashSet<string> { "tenants", "api_keys", "known_agents", "unrouted_messages", "whatsapp_numbers" }, report.Checked.ToHashSet());
    }

    [Fact]
    public async Task A_pooled_connection_that_served_one_tenant_gives_the_next_context_only_its_own_access()
    {
        // Pooled connections are handed out without Npgsql's reset (ServiceHostingExtensions): what a context sees rests
        // on the tenant and role its every open sets. The service's own connection settings, in a pool of one, so that
        // every context below gets the same database session.
        var (tenantA, _) = await routing.CreateTenantAsync();
        var (tenantB, _) = await routing.CreateTenantAsync();
        string connectionString;
        await using (var scope = routing.Services.CreateAsyncScope())
        {
            connectionString = new NpgsqlConnectionStringBuilder(scope.ServiceProvider.GetRequiredService<RoutingDbContext>().Database.GetConnectionString())
            {
                MaxPoolSize = 1,
            }.ConnectionString;
        }

        var options = new DbContextOptionsBuilder<RoutingDbContext>().UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options;
        async Task<(int Session, List<string> Tenants)> SeenAsync(Func<RoutingDbContext, Task> arrange)
        {
            await using var db = new RoutingDbContext(options);
            await arrange(db);
            var session = await db.Database.SqlQuery<int>($"SELECT pg_backend_pid() AS \"Value\"").SingleAsync();
            return (session, await db.Tenants.Select(t => t.Id).Where(id => id == tenantA || id == tenantB).ToListAsync());
        }

        var asA = await SeenAsync(db => db.ForTenant(tenantA));
        // Work across tenants leaves the session in the cross-tenant role when it hands the connection back.
        var across = await SeenAsync(db => db.AcrossTenantsAsync(() => db.Tenants.CountAsync()));
        var asNobody = await SeenAsync(_ => Task.CompletedTask);
        var asB = await SeenAsync(db => db.ForTenant(tenantB));

        Assert.Single(new[] { asA.Session, across.Session, asNobody.Session, asB.Session }.Distinct());
        Assert.Equal([tenantA], asA.Tenants);
        Assert.Empty(asNobody.Tenants);
        Assert.Equal([tenantB], asB.Tenants);
    }

    [Fact]
    public async Task The_gateway_still_resolves_any_tenants_key_and_operators_still_read_every_tenant_and_its_unrouted_messages()
    {
        var (tenantId, apiKey) = await routing.CreateTenantAsync();
        await routing.CreateTenantAsync(); // another tenant, whatever else ran before
        using var resolved = await routing.GatewayClient().PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey });
        resolved.EnsureSuccessStatusCode();
        Assert.Equal(tenantId, (await resolved.Content.ReadFromJsonAsync<ResolvedApiKey>())!.TenantId);

        // The tenants' own rows are under row-level security too: operators read any of them, a tenant only its own.
        using (var asOperator = await routing.OperatorClient().GetAsync($"/api/admin/tenants/{tenantId}"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, asOperator.StatusCode);
        }

        var tenants = System.Text.Json.Nodes.JsonNode.Parse(await routing.OperatorClient().GetStringAsync("/api/admin/tenants?pageSize=1"))!;
        Assert.True(tenants["total"]!.GetValue<int>() > 1, "operators list every tenant");
        Assert.Contains(tenantId, await routing.ClientFor(tenantId).GetStringAsync("/api/tenant"));

        // A message to a number of no tenant is kept for operators: written and read across tenants.
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = RoutingService.Received(RoutingService.NewPhone(), "hola");
        await routing.Bus.Publish(message);
        Assert.Equal("unknown_number", (await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId)).Reason);
        var listed = await routing.OperatorClient().GetStringAsync("/api/admin/unrouted-messages?reason=unknown_number&pageSize=100");
        Assert.Contains(message.MessageSid, listed);
    }

    /// <summary>A tenant with a key, an agent, a number and a message it could not take (CRM off).</summary>
    private async Task<string> SeedTenantAsync()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var (_, phone) = await routing.CreateNumberAsync(tenantId);
        using (var disable = await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmEnabled = false }))
        {
            disable.EnsureSuccessStatusCode();
        }

        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = RoutingService.Received(phone, "hola");
        await routing.Bus.Publish(message);
        Assert.Equal(tenantId, (await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId)).TenantId);
        return tenantId;
    }
}
