using System.Net.Http.Json;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// Isolation in depth: besides the filters in code, Postgres row-level security keeps each tenant's conversations
/// and leads to itself, so a query that forgets its tenant filter still sees nothing of another tenant.
/// </summary>
[Collection(LeadCollection.Name)]
public sealed class TenantIsolationTests(LeadService lead)
{
    [Fact]
    public async Task A_query_without_a_tenant_filter_sees_none_of_another_tenants_rows_and_cannot_write_them()
    {
        var tenantA = await SeedTenantAsync();
        var tenantB = await SeedTenantAsync();

        var report = await TenantIsolationProbe.ProbeAsync(lead, tenantA, tenantB);

        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Superset(new HashSet<string> { "crm_conversations", "conversation_messages", "customer_leads", "lead_score_events", "lead_settings", "staff_members" }, report.Checked.ToHashSet());
    }

    /// <summary>A tenant with a conversation, its messages, a lead scored from what the customer asked, settings and a staff member of its own.</summary>
    private async Task<string> SeedTenantAsync()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola, quiero una cita", agent));
        await lead.HandledAsync(chat.Says(2, "¿Cuánto cuesta la limpieza?", agent));
        using var client = lead.ClientFor(chat.TenantId);
        (await client.PutAsJsonAsync("/api/leads/settings", new { burstWindowSeconds = 2 })).EnsureSuccessStatusCode();
        await lead.HandledAsync(new StaffMemberChanged(chat.TenantId, "staff_" + chat.TenantId, "Asesora", "agent", true, DateTimeOffset.UtcNow));
        return chat.TenantId;
    }
}
