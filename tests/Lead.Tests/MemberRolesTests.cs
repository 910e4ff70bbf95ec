using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// Advisors read and answer conversations and edit leads; exports, erasures and settings are for admins and owners. A staff
/// member signed in to the console takes a conversation as themselves: it is assigned to them by staff id, and the trail
/// names them.
/// </summary>
[Collection(LeadCollection.Name)]
public sealed class MemberRolesTests(LeadService lead)
{
    [Fact]
    public async Task An_advisor_takes_a_conversation_as_themselves_and_the_audit_names_them()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola, quiero una cita para el jueves", agent));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        using var advisor = lead.MemberClient(chat.TenantId, TenantRole.Agent, "staff_lucia", "Lucía Gómez");

        using (var naming = await advisor.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "otra persona" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, naming.StatusCode); // in the console, one takes a conversation for oneself
        }

        using var taken = await advisor.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { });
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        var summary = (await taken.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("Lucía Gómez", "staff_lucia", "HUMAN"),
            (summary["assignedToUser"]!.GetValue<string>(), summary["assignedStaffId"]!.GetValue<string>(), summary["owner"]!.GetValue<string>()));

        using var mine = await advisor.GetAsync("/api/conversations?assignedStaffId=staff_lucia");
        Assert.Equal(conversationId, Assert.Single((await mine.Content.ReadFromJsonAsync<JsonNode>())!["items"]!.AsArray())!["id"]!.GetValue<string>());

        var handedOff = Assert.Single(await lead.PublishedAsync<ConversationHandedOff>(h => h.ConversationId == conversationId));
        Assert.Equal(("Lucía Gómez", "staff_lucia"), (handedOff.AssignedToUser, handedOff.AssignedStaffId));
        var audited = Assert.Single(await lead.PublishedAsync<AuditRecorded>(a => a.TargetId == conversationId && a.Action == AuditActions.ConversationHandedOff));
        Assert.Equal((CallerIdentity.AgentRole, "staff_lucia", "Lucía Gómez", "taken over by Lucía Gómez"),
            (audited.ActorRole, audited.ActorStaffId, audited.ActorStaffName, audited.Detail));

        // An API key still names the employee, kept as an external name.
        using var key = lead.ClientFor(chat.TenantId);
        using var byKey = await key.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "recepcion" });
        var external = (await byKey.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal("recepcion", external["assignedToUser"]!.GetValue<string>());
        Assert.Null(external["assignedStaffId"]);
    }

    [Fact]
    public async Task An_advisor_edits_a_lead_but_cannot_export_erase_it_or_change_the_settings()
    {
        var tenantId = Chat.NewTenant();
        using var advisor = lead.MemberClient(tenantId, TenantRole.Agent);
        using var created = await advisor.PostAsJsonAsync("/api/leads", new { phone = "+573001112233", name = "Andrés Castaño" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var leadId = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        using (var edited = await advisor.PatchAsJsonAsync($"/api/leads/{leadId}", new { tags = new[] { "ortodoncia" } }))
        {
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        }

        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/api/leads/{leadId}/export"), (HttpMethod.Delete, $"/api/leads/{leadId}"),
                     (HttpMethod.Get, "/api/leads/settings"), (HttpMethod.Get, "/api/tenant/settings") })
        {
            using var response = await advisor.SendAsync(new HttpRequestMessage(method, path));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {(int)response.StatusCode}");
        }

        using var admin = lead.MemberClient(tenantId, TenantRole.Admin);
        using var export = await admin.GetAsync($"/api/leads/{leadId}/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
    }

    [Fact]
    public async Task Conversations_and_leads_are_assigned_to_active_members_the_console_announced_and_the_latest_change_wins()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        var at = DateTimeOffset.UtcNow;
        await lead.HandledAsync(new StaffMemberChanged(chat.TenantId, "staff_camilo", "Camilo Vargas", "agent", true, at));
        await lead.HandledAsync(new StaffMemberChanged(chat.TenantId, "staff_sofia", "Sofía Herrera", "admin", false, at));
        // An older change arriving late does not bring the disabled member back.
        await lead.HandledAsync(new StaffMemberChanged(chat.TenantId, "staff_sofia", "Sofía Herrera", "admin", true, at.AddMinutes(-1)));
        await lead.HandledAsync(chat.Says(1, "Buenas tardes, ¿tienen citas el sábado?", agent));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        using var owner = lead.MemberClient(chat.TenantId, TenantRole.Owner, "staff_owner", "Dueña");

        using (var disabled = await owner.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedStaffId = "staff_sofia" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, disabled.StatusCode);
        }

        using (var colleague = await owner.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedStaffId = "staff_camilo" }))
        {
            var summary = (await colleague.Content.ReadFromJsonAsync<JsonNode>())!;
            Assert.Equal(("Camilo Vargas", "staff_camilo"), (summary["assignedToUser"]!.GetValue<string>(), summary["assignedStaffId"]!.GetValue<string>()));
        }

        // Another business's member is not one of this business's.
        var stranger = Chat.New();
        await lead.HandledAsync(new StaffMemberChanged(stranger.TenantId, "staff_ajeno", "Ajeno", "agent", true, at));
        var leadId = (await lead.WithTenantDbAsync(chat.TenantId, db => db.Leads.Select(l => l.Id).ToListAsync())).Single();
        using (var foreign = await owner.PatchAsJsonAsync($"/api/leads/{leadId}", new { assignedStaffId = "staff_ajeno" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
        }

        using (var assigned = await owner.PatchAsJsonAsync($"/api/leads/{leadId}", new { assignedStaffId = "staff_camilo" }))
        {
            var body = (await assigned.Content.ReadFromJsonAsync<JsonNode>())!;
            Assert.Equal(("Camilo Vargas", "staff_camilo"), (body["assignedTo"]!.GetValue<string>(), body["assignedStaffId"]!.GetValue<string>()));
        }

        using var external = await lead.ClientFor(chat.TenantId).PatchAsJsonAsync($"/api/leads/{leadId}", new { assignedTo = "recepción" });
        var byName = (await external.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal("recepción", byName["assignedTo"]!.GetValue<string>());
        Assert.Null(byName["assignedStaffId"]);
    }
}
