using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>
/// Isolation in depth: besides the filters in code, Postgres row-level security keeps each tenant's outbound
/// messages and their parts (the texts sent) to itself, so a query that forgets its tenant filter still sees nothing of
/// another tenant (Twilio's status callbacks, which name no tenant, find their message across tenants: see OutboundTests).
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class TenantIsolationTests(IngressService ingress)
{
    private const string Number = "+57302222222";

    [Fact]
    public async Task A_query_without_a_tenant_filter_sees_none_of_another_tenants_rows_and_cannot_write_them()
    {
        var tenantA = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        var tenantB = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        await SendAsync(tenantA);
        await SendAsync(tenantB);

        var report = await TenantIsolationProbe.ProbeAsync(ingress, tenantA, tenantB);

        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Equal(["outbound_messages", "outbound_parts"], report.Checked);
    }

    [Fact]
    public async Task Parts_sent_before_parts_carried_a_tenant_get_their_messages_tenant_when_the_database_is_migrated()
    {
        var database = await (await SharedServers.PostgresAsync()).CreateServiceDatabaseAsync("ingress");
        await using var scope = ingress.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        db.Database.SetConnectionString(database);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261125195036_OutboxDueByTime");

        // Two tenants' sends, as the version before recorded them: the parts name only their message.
        await db.AcrossTenantsAsync(async () =>
        {
            foreach (var (outboundId, tenantId) in new[] { ("out_a", "tnt_a"), ("out_b", "tnt_b") })
            {
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO ingress.outbound_messages (outbound_id, tenant_id, conversation_id, account_sid, "from", "to", body, author, state,
                        requested_at, published_at, created_at, updated_at)
                    VALUES ({outboundId}, {tenantId}, 'conv', 'AC1', {Number}, '+573001112233', 'Hola', 'AiAgent', 'Sent', now(), now(), now(), now())
                    """);
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO ingress.outbound_parts (outbound_id, "index", body, state, attempts) VALUES ({outboundId}, 0, 'Hola', 'Sent', 1), ({outboundId}, 1, 'María', 'Sent', 1)
                    """);
            }
        });

        await migrator.MigrateAsync();

        var parts = await db.AcrossTenantsAsync(() => db.OutboundParts.AsNoTracking().OrderBy(p => p.OutboundId).ThenBy(p => p.Index)
            .Select(p => new { p.OutboundId, p.TenantId }).ToListAsync());
        Assert.Equal([("out_a", "tnt_a"), ("out_a", "tnt_a"), ("out_b", "tnt_b"), ("out_b", "tnt_b")], parts.Select(p => (p.OutboundId, p.TenantId)));
        await db.ForTenant("tnt_a");
        Assert.Equal(["out_a", "out_a"], await db.OutboundParts.AsNoTracking().Select(p => p.OutboundId).ToListAsync());
    }

    private async Task<OutboundMessageSent> SendAsync(string tenantId)
    {
        var customer = "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, customer, Number, "Hola");
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var command = new SendWhatsAppMessage("msg_" + Guid.NewGuid().ToString("N")[..12], tenantId, "conv_" + tenantId,
            IngressService.AccountSid, Number, customer, "¡Hola María! Soy DrBot.", MessageAuthor.AiAgent, DateTimeOffset.UtcNow);
        await ingress.Bus.Publish(command);
        return await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
    }
}
