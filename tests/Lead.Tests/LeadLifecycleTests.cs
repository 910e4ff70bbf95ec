using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>Leads: explainable scoring, grades and status, filters and sorting, update, export and erasure.</summary>
[Collection(LeadCollection.Name)]
public sealed class LeadLifecycleTests(LeadService lead)
{
    [Fact]
    public async Task Each_signal_changes_the_score_once_per_conversation_and_the_history_keeps_the_customers_own_words()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola, quiero una cita", agent));
        var leadId = (await lead.PublishedAsync<LeadCreated>(l => l.TenantId == chat.TenantId)).Single().LeadId;
        await lead.HandledAsync(chat.Says(2, "¿CUÁNTO cuesta la limpieza?", agent));
        await lead.HandledAsync(chat.Says(3, "y otra cita para mi hijo", agent));   // asked to book again: counted once

        using var client = lead.ClientFor(chat.TenantId);
        var history = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}/score-history"))!;
        Assert.Equal(2, history["total"]!.GetValue<int>());
        var reasons = history["items"]!.AsArray().Select(e => e!["reason"]!.GetValue<string>()).ToList();
        Assert.Equal(["+10: asked about prices: '¿CUÁNTO cuesta la limpieza?'", "+20: asked to book: 'Hola, quiero una cita'"], reasons);
        Assert.Equal((30, "asked_price", "C"), (history["items"]![0]!["scoreAfter"]!.GetValue<int>(), history["items"]![0]!["signal"]!.GetValue<string>(),
            history["items"]![0]!["gradeAfter"]!.GetValue<string>()));

        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!;
        Assert.Equal((30, "C"), (stored["qualificationScore"]!.GetValue<int>(), stored["leadGrade"]!.GetValue<string>()));
        var scored = await lead.PublishedAsync<LeadScored>(s => s.LeadId == leadId);
        Assert.Equal([(20, "C"), (30, "C")], scored.Select(s => (s.Score, s.Grade)));
        Assert.Equal("+20: asked to book: 'Hola, quiero una cita'", scored[0].Reason);
    }

    [Fact]
    public async Task The_grade_follows_the_tenants_thresholds_and_rules_and_a_good_grade_qualifies_the_lead()
    {
        var chat = Chat.New();
        using var client = lead.ClientFor(chat.TenantId);
        using var settings = await client.PutAsJsonAsync("/api/leads/settings", new
        {
            gradeAThreshold = 50, gradeBThreshold = 25, gradeCThreshold = 5,
            scoringRules = new[] { new { signal = "asked_implants", description = "asked about implants", phrases = new[] { "implante", "implant" }, points = 15 } },
        });
        Assert.Equal(HttpStatusCode.OK, settings.StatusCode);

        await lead.HandledAsync(chat.Says(1, "Hola", Chat.NewAgent()));
        var leadId = (await lead.PublishedAsync<LeadCreated>(l => l.TenantId == chat.TenantId)).Single().LeadId;
        Assert.Equal("D", (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!["leadGrade"]!.GetValue<string>());

        await lead.HandledAsync(chat.Says(2, "¿Hacen IMPLANTES? Quiero una cita", Chat.NewAgent()));
        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!;
        Assert.Equal((35, "B", "QUALIFIED"), (stored["qualificationScore"]!.GetValue<int>(), stored["leadGrade"]!.GetValue<string>(), stored["leadStatus"]!.GetValue<string>()));
        Assert.Contains(await lead.PublishedAsync<LeadStatusChanged>(s => s.LeadId == leadId), s => (s.FromStatus, s.ToStatus) == ("NEW", "QUALIFIED"));

        // New thresholds regrade the tenant's leads at once.
        (await client.PutAsJsonAsync("/api/leads/settings", new { gradeAThreshold = 30 })).EnsureSuccessStatusCode();
        Assert.Equal("A", (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!["leadGrade"]!.GetValue<string>());

        // Implausible thresholds are refused.
        using var bad = await client.PutAsJsonAsync("/api/leads/settings", new { gradeAThreshold = 10, gradeBThreshold = 20 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(30, (await client.GetFromJsonAsync<JsonNode>("/api/leads/settings"))!["gradeAThreshold"]!.GetValue<int>());
    }

    [Fact]
    public async Task Leads_are_filtered_by_grade_tag_assignee_and_follow_up_due_sorted_and_paged()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);
        var ana = await CreateAsync(client, new { phone = "+573001000001", name = "Ana", tags = new[] { "vip" }, assignedTo = "carlos", nextFollowUp = DateTimeOffset.UtcNow.AddHours(-1) });
        var bea = await CreateAsync(client, new { phone = "+573001000002", name = "Bea", tags = new[] { "vip", "ortodoncia" }, nextFollowUp = DateTimeOffset.UtcNow.AddDays(2) });
        var cam = await CreateAsync(client, new { phone = "+573001000003", name = "Cam" });
        using var scored = await client.PatchAsJsonAsync($"/api/leads/{cam}", new { scoreChange = 80, scoreReason = "referred by a partner" });
        Assert.Equal(HttpStatusCode.OK, scored.StatusCode);

        Assert.Equal([ana, bea], await IdsAsync(client, "tag=vip&sort=name"));
        Assert.Equal([ana], await IdsAsync(client, "assignedTo=carlos"));
        Assert.Equal([ana], await IdsAsync(client, "followUpDue=true"));
        Assert.Equal([bea, cam], await IdsAsync(client, "followUpDue=false&sort=name"));
        Assert.Equal([cam], await IdsAsync(client, "grade=A"));
        Assert.Equal([cam], await IdsAsync(client, "sort=-qualificationScore&pageSize=1"));
        Assert.Equal([bea], await IdsAsync(client, "sort=name&pageSize=1&page=2"));
        Assert.Equal([cam, bea, ana], await IdsAsync(client, "sort=-name"));

        using var unknown = await client.GetAsync("/api/leads?grade=Z&sort=age");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["grade", "sort"], (await unknown.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key).Order());

        var history = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{cam}/score-history"))!["items"]![0]!;
        Assert.Equal("+80: changed by hand: 'referred by a partner'", history["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_lead_is_updated_in_place_and_bad_fields_are_a_400_that_changes_nothing()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);
        var id = await CreateAsync(client, new { phone = "+573002000001", name = "Diego" });

        using var updated = await client.PatchAsJsonAsync($"/api/leads/{id}", new { email = "diego@example.com", leadStatus = "LOST", tags = new[] { "precio" }, internalNotes = "Muy caro" });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var body = (await updated.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("diego@example.com", "LOST", "Muy caro"), (body["email"]!.GetValue<string>(), body["leadStatus"]!.GetValue<string>(), body["internalNotes"]!.GetValue<string>()));
        var change = Assert.Single(await lead.PublishedAsync<LeadStatusChanged>(s => s.LeadId == id));
        Assert.Equal(("NEW", "LOST"), (change.FromStatus, change.ToStatus));

        // The seed's other fields, read back as stored; a purchase made at the front desk is recorded by hand.
        var followUp = new DateTimeOffset(2026, 12, 1, 15, 0, 0, TimeSpan.Zero);
        var purchase = new DateTimeOffset(2026, 11, 20, 10, 30, 0, TimeSpan.Zero);
        var preferences = new JsonObject { ["horario"] = "mañanas", ["canal"] = "whatsapp", ["recordatorios"] = true };
        using (var more = await client.PatchAsJsonAsync($"/api/leads/{id}", new
        {
            customerType = "patient", businessCategory = "ortodoncia", preferences, assignedTo = "carlos@clinica.co", nextFollowUp = followUp,
            source = "referral", lastPurchase = purchase, totalSpent = 150000.50m,
        }))
        {
            Assert.Equal(HttpStatusCode.OK, more.StatusCode);
        }

        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{id}"))!;
        Assert.Equal(("patient", "ortodoncia", "carlos@clinica.co", "referral", 150000.50m),
            (stored["customerType"]!.GetValue<string>(), stored["businessCategory"]!.GetValue<string>(), stored["assignedTo"]!.GetValue<string>(),
                stored["source"]!.GetValue<string>(), stored["totalSpent"]!.GetValue<decimal>()));
        Assert.Equal((followUp, purchase), (stored["nextFollowUp"]!.GetValue<DateTimeOffset>(), stored["lastPurchase"]!.GetValue<DateTimeOffset>()));
        Assert.True(JsonNode.DeepEquals(preferences, stored["preferences"]), stored["preferences"]?.ToJsonString());
        Assert.Equal("diego@example.com", stored["email"]!.GetValue<string>()); // what the PATCH did not name stays

        using (var cleared = await client.PatchAsJsonAsync($"/api/leads/{id}", new { clearNextFollowUp = true }))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        }

        stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{id}"))!;
        Assert.Null(stored["nextFollowUp"]);
        Assert.Equal("carlos@clinica.co", stored["assignedTo"]!.GetValue<string>());

        using var invalid = await client.PatchAsJsonAsync($"/api/leads/{id}", new { phone = "300", leadStatus = "HOT", name = "Nuevo", scoreChange = 5, totalSpent = -1m });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(["leadStatus", "phone", "scoreReason", "totalSpent"], (await invalid.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key).Order());
        stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{id}"))!;
        Assert.Equal(("Diego", 150000.50m), (stored["name"]!.GetValue<string>(), stored["totalSpent"]!.GetValue<decimal>()));
        Assert.Equal(HttpStatusCode.NotFound, (await lead.ClientFor(Chat.NewTenant()).PatchAsJsonAsync($"/api/leads/{id}", new { name = "x" })).StatusCode);
    }

    [Fact]
    public async Task By_hand_a_lead_may_be_reopened_but_never_go_back_to_NEW_and_automatic_changes_only_move_it_forward()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        using var client = lead.ClientFor(chat.TenantId);
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var opened = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();
        var leadId = opened.LeadId;
        await lead.HandledAsync(chat.Reply(opened.ConversationId, agent, 1, "¡Hola! ¿En qué te ayudo?"));
        Assert.Equal("CONTACTED", await StatusAsync(client, leadId)); // the first reply contacted the lead

        // The employee marks the lead lost; the customer then shows strong signals: no automatic change reopens it.
        (await client.PatchAsJsonAsync($"/api/leads/{leadId}", new { leadStatus = "LOST" })).EnsureSuccessStatusCode();
        await lead.HandledAsync(chat.Says(2, "quiero comprar, es urgente, quiero una cita", agent));
        var scored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!;
        Assert.Equal(("B", "LOST"), (scored["leadGrade"]!.GetValue<string>(), scored["leadStatus"]!.GetValue<string>()));

        // By hand it may be reopened ...
        using (var reopened = await client.PatchAsJsonAsync($"/api/leads/{leadId}", new { leadStatus = "CONTACTED" }))
        {
            Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
        }

        // ... but NEW means never contacted: going back to it is a 400 naming leadStatus, and nothing else in the call changes.
        using var back = await client.PatchAsJsonAsync($"/api/leads/{leadId}", new { leadStatus = "NEW", name = "Otro nombre" });
        Assert.Equal(HttpStatusCode.BadRequest, back.StatusCode);
        var problem = (await back.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(["leadStatus"], problem["errors"]!.AsObject().Select(e => e.Key));
        Assert.Contains("NEW", problem["errors"]!["leadStatus"]![0]!.GetValue<string>());
        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!;
        Assert.Equal(("CONTACTED", chat.ProfileName), (stored["leadStatus"]!.GetValue<string>(), stored["name"]!.GetValue<string>()));
        Assert.Equal([("NEW", "CONTACTED"), ("CONTACTED", "LOST"), ("LOST", "CONTACTED")],
            (await lead.PublishedAsync<LeadStatusChanged>(s => s.LeadId == leadId)).Select(s => (s.FromStatus, s.ToStatus)));

        // A lead that never left NEW may be set to NEW (no change).
        var fresh = await CreateAsync(client, new { phone = "+573004000001", name = "Inés" });
        using var same = await client.PatchAsJsonAsync($"/api/leads/{fresh}", new { leadStatus = "NEW" });
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
    }

    [Fact]
    public async Task A_lead_created_through_the_API_is_announced()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);
        var id = await CreateAsync(client, new { phone = "+573003000001", name = "Elena", source = "referral" });

        var created = Assert.Single(await lead.PublishedAsync<LeadCreated>(l => l.TenantId == tenantId));
        Assert.Equal((id, "referral"), (created.LeadId, created.Source));
    }

    [Fact]
    public async Task Export_holds_the_lead_its_score_history_and_every_conversation_with_its_messages()
    {
        var chat = Chat.New(profileName: "Fabiola");
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Quiero una cita", agent));
        var opened = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();
        await lead.HandledAsync(chat.Reply(opened.ConversationId, agent, 1, "Claro, ¿qué día?"));
        using var client = lead.ClientFor(chat.TenantId);
        (await client.PatchAsJsonAsync($"/api/conversations/{opened.ConversationId}", new { status = "CLOSED" })).EnsureSuccessStatusCode();
        await lead.HandledAsync(chat.Says(2, "Hola de nuevo", agent));

        using var response = await client.GetAsync($"/api/leads/{opened.LeadId}/export");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition?.ToString() ?? response.Headers.GetValues("Content-Disposition").Single());
        var export = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("Fabiola", chat.CustomerPhone), (export["lead"]!["name"]!.GetValue<string>(), export["lead"]!["phone"]!.GetValue<string>()));
        Assert.Single(export["scoreHistory"]!.AsArray());
        var conversations = export["conversations"]!.AsArray();
        Assert.Equal(2, conversations.Count);
        Assert.Equal(["Quiero una cita", "Claro, ¿qué día?"], conversations[0]!["messages"]!.AsArray().Select(m => m!["body"]!.GetValue<string>()));
        Assert.Equal(["Hola de nuevo"], conversations[1]!["messages"]!.AsArray().Select(m => m!["body"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.NotFound, (await lead.ClientFor(Chat.NewTenant()).GetAsync($"/api/leads/{opened.LeadId}/export")).StatusCode);
    }

    [Fact]
    public async Task Erasing_a_lead_removes_its_data_asks_every_service_to_erase_and_a_later_message_starts_a_fresh_lead()
    {
        var chat = Chat.New(profileName: "Gloria");
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Quiero una cita, mi correo es gloria@example.com", agent));
        var opened = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();
        using var client = lead.ClientFor(chat.TenantId);

        // What Lead already published with the customer's words (the reply request's turns, the score's evidence).
        await Eventually.TrueAsync(async () => await OutboxMentionsAsync("gloria@example.com", dispatched: true) > 0
            && await OutboxMentionsAsync("gloria@example.com", dispatched: false) == 0, "the customer's words published");

        Assert.Equal(HttpStatusCode.NotFound, (await lead.ClientFor(Chat.NewTenant()).DeleteAsync($"/api/leads/{opened.LeadId}")).StatusCode);
        using var erased = await client.DeleteAsync($"/api/leads/{opened.LeadId}");
        Assert.Equal(HttpStatusCode.NoContent, erased.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/leads/{opened.LeadId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/conversations/{opened.ConversationId}")).StatusCode);
        Assert.Equal(0, await lead.WithDbAsync(db => Task.FromResult(db.Messages.Count(m => m.ConversationId == opened.ConversationId)
            + db.ScoreEvents.Count(e => e.LeadId == opened.LeadId))));
        Assert.Equal(0, await OutboxMentionsAsync("gloria@example.com", dispatched: true) + await OutboxMentionsAsync("gloria@example.com", dispatched: false));
        var request = Assert.Single(await lead.PublishedAsync<CustomerDataErasureRequested>(e => e.TenantId == chat.TenantId));
        Assert.Equal((chat.CustomerId, opened.LeadId, chat.CustomerPhone), (request.CustomerId, request.LeadId, request.CustomerPhone));
        Assert.Equal([chat.NumberPhone], request.NumberPhones!);
        Assert.Equal([opened.ConversationId], request.ConversationIds!); // for Agent, which keeps what it learned by conversation

        // The reply the agent was writing finds nothing to answer; the customer's next message starts afresh.
        await lead.HandledAsync(chat.Reply(opened.ConversationId, agent, 1, "¿Qué día?"));
        Assert.Empty(await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == opened.ConversationId));
        await lead.HandledAsync(chat.Says(2, "Hola", agent));
        var fresh = (await lead.PublishedAsync<LeadCreated>(l => l.TenantId == chat.TenantId)).Last();
        Assert.NotEqual(opened.LeadId, fresh.LeadId);
        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{fresh.LeadId}"))!;
        Assert.Equal((0, "NEW"), (stored["qualificationScore"]!.GetValue<int>(), stored["leadStatus"]!.GetValue<string>()));
        Assert.Null(stored["email"]);
    }

    [Fact]
    public async Task An_erasure_racing_a_customer_message_leaves_none_of_the_customers_messages_behind()
    {
        var chat = Chat.New(profileName: "Hilda");
        await lead.HandledAsync(chat.Says(1, "Hola", null, ReplyPolicy.None));
        var opened = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();
        using var client = lead.ClientFor(chat.TenantId);

        // The moment that matters: the customer's next message is written but not committed when the erasure starts.
        // To hold it there, this test locks the lead's row: the message's transaction stops at its last step (updating
        // the lead's last activity), its message and conversation already written, holding the conversation's lock.
        var raced = chat.Says(2, "mi cédula es 52.123.456", null, ReplyPolicy.None);
        var racedId = NewId.NextGuid();
        var erasure = await lead.WithTenantDbAsync(chat.TenantId, async db =>
        {
            await using var brake = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM lead.customer_leads WHERE id = {opened.LeadId} FOR UPDATE");
            await lead.Bus.Publish(raced, context => context.MessageId = racedId);
            await Eventually.TrueAsync(async () => await BlockedAsync() == 1, "the customer's message to wait for the lead's row");

            var erasing = client.DeleteAsync($"/api/leads/{opened.LeadId}");
            await Eventually.TrueAsync(async () => await BlockedAsync() == 2 || erasing.IsCompleted, "the erasure to wait for the message");
            await brake.RollbackAsync();
            using var response = await erasing;
            return response.StatusCode;
        });
        await lead.Consumed.WaitAsync(racedId, "the raced message");

        Assert.Equal(HttpStatusCode.NoContent, erasure);
        Assert.Equal((0, 0, 0), await lead.WithDbAsync(async db => (
            await db.Messages.CountAsync(m => m.TenantId == chat.TenantId),
            await db.Conversations.CountAsync(c => c.TenantId == chat.TenantId),
            await db.Leads.CountAsync(l => l.TenantId == chat.TenantId))));
    }

    [Fact]
    public async Task An_erasure_Postgres_cancels_to_break_a_deadlock_runs_again_instead_of_failing()
    {
        var chat = Chat.New(profileName: "Inés");
        await lead.HandledAsync(chat.Says(1, "Hola", null, ReplyPolicy.None));
        var opened = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single();
        using var client = lead.ClientFor(chat.TenantId);

        // A deadlock made on purpose: this test holds the lead's row, the erasure takes the conversation's lock and waits
        // for the row, then this test asks for the conversation's lock. Postgres cancels the one that waited first.
        var erasure = await lead.WithTenantDbAsync(chat.TenantId, async db =>
        {
            await using var other = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM lead.customer_leads WHERE id = {opened.LeadId} FOR UPDATE");
            var erasing = client.DeleteAsync($"/api/leads/{opened.LeadId}");
            await Eventually.TrueAsync(async () => await BlockedAsync() == 1 || erasing.IsCompleted, "the erasure to wait for the lead's row");

            // Granted only once the erasure's transaction has ended, which cannot be a commit while this one holds the
            // row: the erasure was the victim, and its next attempt now waits for this lock.
            await db.LockAsync(OrderingKeys.Conversation(chat.TenantId, chat.NumberId, chat.CustomerId), CancellationToken.None);
            await other.RollbackAsync();
            using var response = await erasing;
            return response.StatusCode;
        });

        Assert.Equal(HttpStatusCode.NoContent, erasure);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/leads/{opened.LeadId}")).StatusCode);
    }

    /// <summary>How many of the service's connections wait for a lock another one holds.</summary>
    private Task<int> BlockedAsync() => lead.WithDbAsync(DatabaseLocks.BlockedAsync);

    private static async Task<string> StatusAsync(HttpClient client, string leadId) =>
        (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!["leadStatus"]!.GetValue<string>();

    /// <summary>Outbox rows (published or not) whose body holds <paramref name="text"/>.</summary>
    private Task<int> OutboxMentionsAsync(string text, bool dispatched) => lead.WithDbAsync(db => db.Database
        .SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM lead.outbox_messages WHERE (dispatched_at IS NOT NULL) = {dispatched} AND body::text LIKE {"%" + text + "%"}")
        .SingleAsync());

    private static async Task<string> CreateAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/leads", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();
    }

    private static async Task<List<string>> IdsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync($"/api/leads?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["items"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()).ToList();
    }
}
