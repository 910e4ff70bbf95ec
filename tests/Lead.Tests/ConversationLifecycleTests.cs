using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>A conversation's life: idle closing, the burst window, priority, outcome and conversion.</summary>
[Collection(LeadCollection.Name)]
public sealed class ConversationLifecycleTests(LeadService lead)
{
    [Fact]
    public async Task An_idle_conversation_closes_after_the_tenants_idle_time_and_the_next_message_opens_a_new_one()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        using var client = lead.ClientFor(chat.TenantId);
        (await client.PutAsJsonAsync("/api/leads/settings", new { conversationIdleSeconds = 2 })).EnsureSuccessStatusCode();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var first = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();
        await lead.HandledAsync(chat.Reply(first.ConversationId, agent, 1, "¡Hola! ¿En qué te ayudo?"));

        // A timer kept as data (a delayed outbox row) closes it.
        var closed = await Eventually.ReturnsAsync(async () =>
            (await lead.PublishedAsync<ConversationClosed>(c => c.ConversationId == first.ConversationId)).SingleOrDefault(), "the idle close");
        Assert.Equal(("idle", first.LeadId, chat.NumberId, agent, 2, false), (closed.Reason, closed.LeadId, closed.NumberId, closed.AgentId, closed.MessageCount, closed.HumanInvolved));
        Assert.NotNull(closed.FirstResponseSeconds);
        var summary = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{first.ConversationId}"))!["conversation"]!;
        Assert.Equal("CLOSED", summary["status"]!.GetValue<string>());
        Assert.NotNull(summary["closedAt"]);

        // A late reply for the closed conversation never goes out; the next message opens a new conversation for the same lead.
        await lead.HandledAsync(chat.Reply(first.ConversationId, agent, 1, "¿Sigues ahí?"));
        await lead.HandledAsync(chat.Says(2, "Hola otra vez", agent));
        var opened = await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId);
        Assert.Equal(2, opened.Count);
        Assert.NotEqual(first.ConversationId, opened[1].ConversationId);
        Assert.Equal(first.LeadId, opened[1].LeadId);
        Assert.Single(await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == first.ConversationId));
        Assert.Equal(opened[1].ConversationId, (await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId)).Last().ConversationId);
    }

    [Fact]
    public async Task A_conversation_opened_before_idle_closing_existed_closes_through_the_timer_row_the_migration_writes()
    {
        var chat = Chat.New();
        using var client = lead.ClientFor(chat.TenantId);
        await lead.HandledAsync(chat.Says(1, "Hola", null, ReplyPolicy.None)); // its own timer is due in 24 h (the default)
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        (await client.PutAsJsonAsync("/api/leads/settings", new { conversationIdleSeconds = 1 })).EnsureSuccessStatusCode();

        // The row exactly as the HandoffScoringSettings migration writes it for each open conversation.
        await lead.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            INSERT INTO lead.outbox_messages (message_id, message_type, body, ordering_key, created_at, next_attempt_at, attempts)
            SELECT gen_random_uuid(), 'SafeNotify.Crm.Lead.Model.ConversationIdleCheckDue, Lead',
                   jsonb_build_object('tenantId', tenant_id, 'conversationId', id), 'due_' || id, now(), now(), 0
            FROM lead.crm_conversations WHERE id = {conversationId}
            """));

        var closed = await Eventually.ReturnsAsync(async () =>
            (await lead.PublishedAsync<ConversationClosed>(c => c.ConversationId == conversationId)).FirstOrDefault(), "the idle close");
        Assert.Equal("idle", closed.Reason);
    }

    [Fact]
    public async Task With_a_burst_window_a_burst_of_messages_gets_one_reply_request_when_the_window_ends()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        using var client = lead.ClientFor(chat.TenantId);
        (await client.PutAsJsonAsync("/api/leads/settings", new { burstWindowSeconds = 2 })).EnsureSuccessStatusCode();

        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        await lead.HandledAsync(chat.Says(2, "quiero una cita", agent));
        await lead.HandledAsync(chat.Says(3, "para el martes", agent));
        Assert.Empty(await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId));

        var request = await Eventually.ReturnsAsync(async () =>
            (await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId)).SingleOrDefault(), "the reply request after the window");
        Assert.Equal(3L, request.UpToSequence);
        Assert.Equal(3, request.RecentTurns.Count);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Single(await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId));
    }

    [Fact]
    public async Task Urgency_words_raise_the_priority_whatever_the_accents_and_never_lower_it()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        using var client = lead.ClientFor(chat.TenantId);
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        Assert.Equal("NORMAL", await PriorityAsync(client, conversationId));

        await lead.HandledAsync(chat.Says(2, "Es URGENTE, me duele", agent));
        Assert.Equal("HIGH", await PriorityAsync(client, conversationId));
        await lead.HandledAsync(chat.Says(3, "es una EMERGÉNCIA", agent));
        Assert.Equal("URGENT", await PriorityAsync(client, conversationId));
        await lead.HandledAsync(chat.Says(4, "urgente", agent));
        Assert.Equal("URGENT", await PriorityAsync(client, conversationId));
    }

    [Fact]
    public async Task Recording_an_outcome_with_a_conversion_updates_the_leads_spending_and_status_and_tells_metrics()
    {
        var chat = Chat.New();
        using var client = lead.ClientFor(chat.TenantId);
        await lead.HandledAsync(chat.Says(1, "Quiero agendar una limpieza", Chat.NewAgent()));
        var opened = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();

        using var patched = await client.PatchAsJsonAsync($"/api/conversations/{opened.ConversationId}", new
        {
            outcome = "appointment_booked", satisfactionRating = 5, conversionValue = 80000m, tags = new[] { "limpieza", "nuevo" },
            category = "dental", intent = "booking", priority = "HIGH",
        });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var summary = (await patched.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("appointment_booked", 5, 80000m, "HIGH", "dental", "booking"),
            (summary["outcome"]!.GetValue<string>(), summary["satisfactionRating"]!.GetValue<int>(), summary["conversionValue"]!.GetValue<decimal>(),
                summary["priority"]!.GetValue<string>(), summary["category"]!.GetValue<string>(), summary["intent"]!.GetValue<string>()));
        Assert.Equal(["limpieza", "nuevo"], summary["tags"]!.AsArray().Select(t => t!.GetValue<string>()));

        var leadNow = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{opened.LeadId}"))!;
        Assert.Equal((80000m, "CONVERTED"), (leadNow["totalSpent"]!.GetValue<decimal>(), leadNow["leadStatus"]!.GetValue<string>()));
        Assert.NotNull(leadNow["lastPurchase"]);
        var recorded = Assert.Single(await lead.PublishedAsync<ConversationOutcomeRecorded>(o => o.ConversationId == opened.ConversationId));
        Assert.Equal(("appointment_booked", 5, 80000m, 80000m, opened.LeadId, chat.NumberId),
            (recorded.Outcome, recorded.SatisfactionRating, recorded.ConversionValue, recorded.ConversionDelta, recorded.LeadId, recorded.NumberId));
        Assert.Contains(await lead.PublishedAsync<LeadStatusChanged>(s => s.LeadId == opened.LeadId), s => s.ToStatus == "CONVERTED");

        // A second sale in the same conversation adds only the difference; resolving closes it.
        using var more = await client.PatchAsJsonAsync($"/api/conversations/{opened.ConversationId}", new { conversionValue = 100000m, status = "RESOLVED" });
        Assert.Equal(HttpStatusCode.OK, more.StatusCode);
        Assert.Equal(100000m, (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{opened.LeadId}"))!["totalSpent"]!.GetValue<decimal>());
        Assert.Equal(20000m, (await lead.PublishedAsync<ConversationOutcomeRecorded>(o => o.ConversationId == opened.ConversationId))[1].ConversionDelta);
        var closed = Assert.Single(await lead.PublishedAsync<ConversationClosed>(c => c.ConversationId == opened.ConversationId));
        Assert.Equal(("resolved", "appointment_booked"), (closed.Reason, closed.Outcome));

        // A resolved conversation does not reopen.
        using var reopen = await client.PatchAsJsonAsync($"/api/conversations/{opened.ConversationId}", new { status = "CLOSED", outcome = "other" });
        Assert.Equal(HttpStatusCode.Conflict, reopen.StatusCode);
        Assert.Equal(2, (await lead.PublishedAsync<ConversationOutcomeRecorded>(o => o.ConversationId == opened.ConversationId)).Count);
    }

    [Fact]
    public async Task Invalid_conversation_changes_are_a_400_naming_each_field_and_change_nothing()
    {
        var chat = Chat.New();
        using var client = lead.ClientFor(chat.TenantId);
        await lead.HandledAsync(chat.Says(1, "Hola", Chat.NewAgent()));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;

        using var invalid = await client.PatchAsJsonAsync($"/api/conversations/{conversationId}",
            new { satisfactionRating = 6, conversionValue = -1m, status = "ACTIVE", priority = "CRITICAL", outcome = "sale" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(["conversionValue", "priority", "satisfactionRating", "status"],
            (await invalid.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key).Order());
        var summary = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["conversation"]!;
        Assert.Null(summary["outcome"]);
        Assert.Empty(await lead.PublishedAsync<ConversationOutcomeRecorded>(o => o.ConversationId == conversationId));

        Assert.Equal(HttpStatusCode.NotFound, (await lead.ClientFor(Chat.NewTenant()).PatchAsJsonAsync($"/api/conversations/{conversationId}", new { outcome = "x" })).StatusCode);
    }

    [Fact]
    public async Task Conversations_are_filtered_by_the_employee_they_are_assigned_to()
    {
        var tenantId = Chat.NewTenant();
        var anas = Chat.New(tenantId);
        var other = Chat.New(tenantId);
        await lead.HandledAsync(anas.Says(1, "Hola", Chat.NewAgent()));
        await lead.HandledAsync(other.Says(1, "Hola", Chat.NewAgent()));
        using var client = lead.ClientFor(tenantId);
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == tenantId && o.NumberId == anas.NumberId)).Single().ConversationId;
        (await client.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "ana" })).EnsureSuccessStatusCode();

        var assigned = (await client.GetFromJsonAsync<JsonNode>("/api/conversations?assignedTo=ana"))!["items"]!.AsArray();
        Assert.Equal([anas.CustomerId], assigned.Select(c => c!["customerId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task First_and_average_response_times_count_from_each_customer_turn_to_the_reply_that_covers_it()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        using var client = lead.ClientFor(chat.TenantId);
        var now = DateTimeOffset.UtcNow;
        await lead.HandledAsync(chat.Says(1, "Hola", agent) with { ReceivedAt = now.AddSeconds(-30) });
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        await lead.HandledAsync(chat.Says(2, "¿hay alguien?", agent) with { ReceivedAt = now.AddSeconds(-20) });
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola!"));      // stale: not sent, not counted
        await lead.HandledAsync(chat.Reply(conversationId, agent, 2, "¡Hola! Sí, dime."));
        await lead.HandledAsync(chat.Says(3, "¿precio?", agent) with { ReceivedAt = DateTimeOffset.UtcNow.AddSeconds(-10) });
        await lead.HandledAsync(chat.Reply(conversationId, agent, 3, "80.000 COP."));

        var summary = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["conversation"]!;
        // First: from the first message (30 s ago) to the first reply; average: turn 2 (~20 s) and turn 3 (~10 s).
        Assert.InRange(summary["firstResponseTime"]!.GetValue<int>(), 30, 45);
        Assert.InRange(summary["avgResponseTime"]!.GetValue<double>(), 15, 25);
        Assert.Equal(5, summary["messageCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_customer_whose_WhatsApp_id_is_not_a_phone_number_gets_a_lead_without_a_phone()
    {
        var chat = Chat.New() with { CustomerId = "maria.gonzalez.bsuid", CustomerPhone = "maria.gonzalez.bsuid" };
        await lead.HandledAsync(chat.Says(1, "Hola", Chat.NewAgent()));

        var leadId = (await lead.PublishedAsync<LeadCreated>(l => l.TenantId == chat.TenantId)).Single().LeadId;
        var stored = (await lead.ClientFor(chat.TenantId).GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!;
        Assert.Equal("maria.gonzalez.bsuid", stored["customerId"]!.GetValue<string>());
        Assert.Null(stored["phone"]);
    }

    private static async Task<string> PriorityAsync(HttpClient client, string conversationId) =>
        (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["conversation"]!["priority"]!.GetValue<string>();
}
