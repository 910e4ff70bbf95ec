using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>
/// Isolation in depth: besides the filters in code, Postgres row-level security keeps each tenant's outbound
/// messages to itself, so a query that forgets its tenant filter still sees nothing of another tenant (Twilio's status
/// callbacks, which name no tenant, find their message across tenants: see OutboundTests).
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
        Assert.Equal(["outbound_messages"], report.Checked);
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
