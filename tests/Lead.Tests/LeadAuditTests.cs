using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.TestSupport;

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
        using var client = lead.ClientAs(CallerIdentity.ApiKey(chat.TenantId, "key_front_desk"));

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
        Assert.All(audited, a => Assert.Equal((CallerIdentity.AdminRole, chat.TenantId, "key_front_desk", "lead"),
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

    [Fact]
    public async Task Handoffs_nobody_asked_for_through_the_API_are_audited_as_the_systems_and_an_employees_reply_as_the_employees()
    {
        var tenantId = Chat.NewTenant();
        var agent = Chat.NewAgent();
        using var client = lead.ClientAs(CallerIdentity.ApiKey(tenantId, "key_front_desk"));
        (await client.PutAsJsonAsync("/api/leads/settings", new { humanIdleReleaseSeconds = 1 })).EnsureSuccessStatusCode();

        // The customer asks for a person.
        var asks = Chat.New(tenantId, "Valentina Ríos");
        await lead.HandledAsync(asks.Says(1, "Quiero hablar con una persona sobre mi ortodoncia", agent));
        var asked = await ConversationOfAsync(asks);

        // The agent asks for a human; the model fails (Agent's fallback); Agent cannot answer at all.
        var needs = Chat.New(tenantId);
        await lead.HandledAsync(needs.Says(1, "Tengo un problema con mi factura", agent));
        var needed = await ConversationOfAsync(needs);
        await lead.HandledAsync(needs.Reply(needed, agent, 1, "Te comunico con una persona del equipo.", needsHuman: true));
        var timesOut = Chat.New(tenantId);
        await lead.HandledAsync(timesOut.Says(1, "¿Cuánto cuesta un blanqueamiento?", agent));
        var timedOut = await ConversationOfAsync(timesOut);
        await lead.HandledAsync(timesOut.Reply(timedOut, agent, 1, "Una persona te escribirá en breve.", needsHuman: true)
            with { FallbackReason = "The model did not answer in time." });
        var fails = Chat.New(tenantId);
        await lead.HandledAsync(fails.Says(1, "¿Atienden sábados?", agent));
        var failed = await ConversationOfAsync(fails);
        await lead.HandledAsync(new AgentReplyFailed(tenantId, failed, agent, 1, "The agent is missing or inactive.", DateTimeOffset.UtcNow));

        // An employee replies where the bot was answering, and again (already theirs: no second record).
        var replied = Chat.New(tenantId);
        await lead.HandledAsync(replied.Says(1, "Hola, ¿tienen cita hoy?", agent));
        var repliedTo = await ConversationOfAsync(replied);
        (await client.PostAsJsonAsync($"/api/conversations/{repliedTo}/messages", new { body = "Hola, soy Laura: sí, a las 4.", assignedToUser = "laura@clinica.co" })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync($"/api/conversations/{repliedTo}/messages", new { body = "¿Te la reservo?", assignedToUser = "laura@clinica.co" })).EnsureSuccessStatusCode();

        var recorded = await lead.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.Action == AuditActions.ConversationHandedOff);
        Assert.Equal([asked, needed, timedOut, failed, repliedTo], recorded.Select(a => a.TargetId));
        var handoffs = recorded.ToDictionary(a => a.TargetId);
        Assert.All(new[] { asked, needed, timedOut, failed }.Select(id => handoffs[id]), a => Assert.Equal(
            ("conversation", AuditExtensions.SystemActor, null, null, "lead"), (a.TargetType, a.ActorRole, a.ActorTenantId, a.ActorKeyId, a.Service)));
        Assert.Equal("handed to a person (customer_request): the customer asked for a person", handoffs[asked].Detail);
        Assert.Equal("handed to a person (agent_needs_human): the agent asked for a human", handoffs[needed].Detail);
        Assert.Equal("handed to a person (agent_failed): the agent could not answer: The model did not answer in time.", handoffs[timedOut].Detail);
        Assert.Equal("handed to a person (agent_failed): the agent could not answer: The agent is missing or inactive.", handoffs[failed].Detail);
        var reply = handoffs[repliedTo];
        Assert.Equal((CallerIdentity.AdminRole, tenantId, "key_front_desk", "taken over by laura@clinica.co (replied)"),
            (reply.ActorRole, reply.ActorTenantId, reply.ActorKeyId, reply.Detail));

        // Nobody on the team acts: the idle release gives each back to the bot, and the system records that too.
        var released = await Eventually.ReturnsAsync(async () =>
        {
            var releases = await lead.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.Action == AuditActions.ConversationReleased);
            return releases.Count == handoffs.Count ? releases : null;
        }, "the idle releases audited");
        Assert.Equal(handoffs.Keys.Order(), released.Select(a => a.TargetId).Order());
        Assert.All(released, a => Assert.Equal((AuditExtensions.SystemActor, "given back to the bot: no one from the team acted for 1 s"), (a.ActorRole, a.Detail)));

        foreach (var personal in new[] { "Valentina", "ortodoncia", "persona sobre", "factura", "blanqueamiento", "sábados", "soy Laura", asks.CustomerId })
        {
            Assert.All(handoffs.Values.Concat(released), a => Assert.DoesNotContain(personal, a.Detail ?? "", StringComparison.OrdinalIgnoreCase));
        }
    }

    private async Task<string> ConversationOfAsync(Chat chat) =>
        (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId && o.NumberId == chat.NumberId)).Single().ConversationId;
}
