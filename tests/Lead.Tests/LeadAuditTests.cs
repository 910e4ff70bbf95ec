using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>Handoffs, exports and erasures are written to the audit trail with the change, saying who, and never what the customer said.</summary>
[Collection(LeadCollection.Name)]
public sealed class LeadAuditTests(LeadService lead)
{
    [Fact]
    public async Task Handoff_release_export_and_erasure_each_leave_one_audit_record_without_the_customers_data()
    {
        var chat = Chat.New(profileName: "Valentina Ríos");
        await lead.HandledAsync(chat.Says(1, "Hola, ¿tienen citas para limpieza?", Chat.NewAgent()));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        using var client = lead.ClientAs(new CallerIdentity(chat.TenantId, CallerIdentity.TenantRole, "key_front_desk"));

        using (var handoff = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff",
            new { assignedToUser = "laura@clinica.co", reason = "Valentina Ríos pide precio especial" }))
        {
            Assert.Equal(HttpStatusCode.OK, handoff.StatusCode);
        }

        using (var stranger = lead.ClientFor(Chat.NewTenant()))
        using (var refused = await stranger.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "intruso" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        using (var release = await client.PostAsync($"/api/conversations/{conversationId}/release", null))
        {
            Assert.Equal(HttpStatusCode.OK, release.StatusCode);
        }

        using (var releaseAgain = await client.PostAsync($"/api/conversations/{conversationId}/release", null))
        {
            Assert.Equal(HttpStatusCode.OK, releaseAgain.StatusCode); // already the bot's: nothing changed, nothing audited
        }

        var leadId = (await client.GetFromJsonAsync<JsonNode>("/api/leads"))!["items"]![0]!["id"]!.GetValue<string>();
        using (var export = await client.GetAsync($"/api/leads/{leadId}/export"))
        {
            Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        }

        var beforeErasure = await lead.PublishedAsync<AuditRecorded>(a => a.TenantId == chat.TenantId);
        Assert.Equal([AuditActions.ConversationHandedOff, AuditActions.ConversationReleased, AuditActions.LeadExported], beforeErasure.Select(a => a.Action));

        using (var erase = await client.DeleteAsync($"/api/leads/{leadId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, erase.StatusCode);
        }

        var erased = Assert.Single(await lead.PublishedAsync<AuditRecorded>(a => a.TenantId == chat.TenantId && a.Action == AuditActions.LeadErased));
        var audited = beforeErasure.Append(erased).ToList();
        Assert.All(audited, a => Assert.Equal((CallerIdentity.TenantRole, chat.TenantId, "key_front_desk", "lead"),
            (a.ActorRole, a.ActorTenantId, a.ActorKeyId, a.Service)));
        Assert.Equal(("conversation", conversationId), (audited[0].TargetType, audited[0].TargetId));
        Assert.Equal("taken over by laura@clinica.co", audited[0].Detail);
        Assert.Equal(("lead", leadId), (audited[2].TargetType, audited[2].TargetId));
        Assert.Equal(("lead", leadId), (erased.TargetType, erased.TargetId));
        foreach (var personal in new[] { "Valentina", "precio especial", chat.CustomerPhone!, chat.CustomerId, "limpieza" })
        {
            Assert.All(audited, a => Assert.DoesNotContain(personal, a.Detail ?? "", StringComparison.OrdinalIgnoreCase));
        }
    }
}
