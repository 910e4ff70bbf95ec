using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// The human handoff: who owns a conversation (bot, human), every way it passes to a human and back, and the rule
/// that the bot never answers while a human owns it, nor with a reply asked for before the owner changed.
/// </summary>
[Collection(LeadCollection.Name)]
public sealed class HandoffTests(LeadService lead)
{
    [Theory]
    [InlineData("Quiero hablar con una persona")]
    [InlineData("necesito un ASESÓR por favor")]
    [InlineData("¿Me pasas con un humano?")]
    [InlineData("Can I talk to a HUMAN?")]
    public async Task A_customer_who_asks_for_a_person_gets_one_and_the_bot_stops(string text)
    {
        var chat = Chat.New();
        await lead.HandledAsync(chat.Says(1, text, Chat.NewAgent()));

        Assert.Empty(await Requests(chat));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        var handoff = Assert.Single(await lead.PublishedAsync<ConversationHandedOff>(h => h.ConversationId == conversationId));
        Assert.Equal(HandoffTriggers.CustomerRequest, handoff.Trigger);
        Assert.Contains(text, handoff.Reason);
        // The customer is told, once, that a person takes over.
        var notice = Assert.Single(await Sends(conversationId));
        Assert.Equal((SystemTexts.HandoffNotice, MessageAuthor.System), (notice.Body, notice.Author));

        var summary = await SummaryAsync(chat, conversationId);
        Assert.Equal(("WAITING_HUMAN", "HUMAN", true, 1),
            (Text(summary, "status"), Text(summary, "owner"), summary["requiresAttention"]!.GetValue<bool>(), summary["ownershipVersion"]!.GetValue<int>()));

        await lead.HandledAsync(chat.Says(2, "¿hola?", Chat.NewAgent()));
        Assert.Empty(await Requests(chat));
        Assert.Single(await Sends(conversationId));
    }

    [Fact]
    public async Task Words_that_only_contain_a_handoff_word_do_not_hand_off()
    {
        var chat = Chat.New();
        await lead.HandledAsync(chat.Says(1, "Quiero una asesoría sobre ortodoncia", Chat.NewAgent()));

        Assert.Single(await Requests(chat));
        Assert.Empty(await lead.PublishedAsync<ConversationHandedOff>(h => h.TenantId == chat.TenantId));
    }

    [Fact]
    public async Task A_reply_written_before_the_customer_asked_for_a_person_is_dropped()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola, ¿precios de limpieza?", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        await lead.HandledAsync(chat.Says(2, "mejor pásame con un asesor", agent));

        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "Una limpieza cuesta 80.000 COP."));

        Assert.Equal([MessageAuthor.System], (await Sends(conversationId)).Select(s => s.Author));
    }

    [Fact]
    public async Task An_employee_takes_over_and_releases_and_the_bot_then_answers_what_the_customer_wrote_meanwhile()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        using var client = lead.ClientFor(chat.TenantId);

        using var taken = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "ana@clinica.co", reason = "VIP patient" });
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        var owned = (await taken.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("HUMAN", "ana@clinica.co", "VIP patient", 1),
            (Text(owned, "owner"), Text(owned, "assignedToUser"), Text(owned, "handoffReason"), owned["ownershipVersion"]!.GetValue<int>()));
        var handoff = Assert.Single(await lead.PublishedAsync<ConversationHandedOff>(h => h.ConversationId == conversationId));
        Assert.Equal((HandoffTriggers.EmployeeHandoff, "ana@clinica.co"), (handoff.Trigger, handoff.AssignedToUser));

        // The reply asked for before the takeover, and the customer's next message, get nothing from the bot.
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola! ¿En qué te ayudo?"));
        await lead.HandledAsync(chat.Says(2, "¿Tienen cita el viernes?", agent));
        Assert.Empty(await Sends(conversationId));
        Assert.Single(await Requests(chat));

        using var released = await client.PostAsync($"/api/conversations/{conversationId}/release", null);
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        var back = (await released.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(("BOT", "ACTIVE", 2), (Text(back, "owner"), Text(back, "status"), back["ownershipVersion"]!.GetValue<int>()));
        Assert.Equal(HandoffTriggers.EmployeeRelease,
            Assert.Single(await lead.PublishedAsync<ConversationReleased>(r => r.ConversationId == conversationId)).Trigger);

        // Nobody answered message 2: the bot is asked, with every turn; an old reply for message 1 still never goes out.
        var request = (await Requests(chat)).Last();
        Assert.Equal(2L, request.UpToSequence);
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola! ¿En qué te ayudo?"));
        Assert.Empty(await Sends(conversationId));
        await lead.HandledAsync(chat.Reply(conversationId, agent, 2, "Sí, el viernes a las 9:00."));
        Assert.Equal(["Sí, el viernes a las 9:00."], (await Sends(conversationId)).Select(s => s.Body));
    }

    [Fact]
    public async Task A_reply_asked_for_before_a_takeover_and_release_is_dropped_even_for_the_same_message()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola, ¿tienen cita hoy?", agent));
        var first = (await Requests(chat)).Single();
        var conversationId = first.ConversationId;
        using var client = lead.ClientFor(chat.TenantId);

        // An employee takes over and gives back before the bot's first reply arrives: nobody answered message 1,
        // so the bot is asked again for it, under the new owner.
        (await client.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "ana@clinica.co" })).EnsureSuccessStatusCode();
        (await client.PostAsync($"/api/conversations/{conversationId}/release", null)).EnsureSuccessStatusCode();
        var second = (await Requests(chat)).Last();
        Assert.Equal((1L, 1L), (first.UpToSequence, second.UpToSequence));
        Assert.NotEqual(first.OwnershipVersion, second.OwnershipVersion);

        // The reply written for the first request (before the takeover) never goes out; the current one does.
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "Respuesta vieja") with { RequestOwnershipVersion = first.OwnershipVersion });
        Assert.Empty(await Sends(conversationId));
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "Sí, hoy a las 4:00.") with { RequestOwnershipVersion = second.OwnershipVersion });
        Assert.Equal(["Sí, hoy a las 4:00."], (await Sends(conversationId)).Select(s => s.Body));
    }

    [Fact]
    public async Task An_employees_reply_takes_the_conversation_and_the_bots_reply_in_flight_is_dropped()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "¿Cuánto cuesta un blanqueamiento?", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        using var client = lead.ClientFor(chat.TenantId);

        using var sent = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages",
            new { body = "Hola, soy Ana: cuesta 350.000 COP.", assignedToUser = "ana@clinica.co" });
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        var accepted = (await sent.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal("sending", Text(accepted, "status"));

        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "Un blanqueamiento cuesta 300.000 COP."));

        var send = Assert.Single(await Sends(conversationId));
        Assert.Equal((Text(accepted, "messageId"), "Hola, soy Ana: cuesta 350.000 COP.", MessageAuthor.Human, "ana@clinica.co", chat.CustomerId, chat.NumberPhone),
            (send.OutboundId, send.Body, send.Author, send.EmployeeId, send.To, send.From));
        var handoff = Assert.Single(await lead.PublishedAsync<ConversationHandedOff>(h => h.ConversationId == conversationId));
        Assert.Equal((HandoffTriggers.EmployeeReply, "ana@clinica.co"), (handoff.Trigger, handoff.AssignedToUser));

        var detail = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!;
        var summary = detail["conversation"]!;
        Assert.Equal(("HUMAN", "ACTIVE", "ana@clinica.co", false),
            (Text(summary, "owner"), Text(summary, "status"), Text(summary, "assignedToUser"), summary["requiresAttention"]!.GetValue<bool>()));
        Assert.Equal(["CUSTOMER", "HUMAN"], detail["messages"]!.AsArray().Select(m => Text(m!, "author")));
        Assert.Equal("ana@clinica.co", Text(detail["messages"]![1]!, "employeeId"));
        Assert.NotNull(summary["firstResponseTime"]);

        var leadId = (await lead.PublishedAsync<ConversationOpened>(o => o.ConversationId == conversationId)).Single().LeadId;
        Assert.Equal("CONTACTED", Text((await client.GetFromJsonAsync<JsonNode>($"/api/leads/{leadId}"))!, "leadStatus"));
    }

    [Fact]
    public async Task A_human_reply_racing_an_ai_reply_never_has_the_bots_answer_after_the_humans()
    {
        // Many conversations, each with the employee's reply and the agent's reply arriving at the same moment.
        var races = Enumerable.Range(0, 12).Select(_ => (Chat: Chat.New(), Agent: Chat.NewAgent())).ToList();
        var conversations = new List<string>();
        foreach (var (chat, agent) in races)
        {
            await lead.HandledAsync(chat.Says(1, "Hola, ¿tienen cita hoy?", agent));
            conversations.Add((await Requests(chat)).Single().ConversationId);
        }

        await Task.WhenAll(races.Select(async (race, i) =>
        {
            using var client = lead.ClientFor(race.Chat.TenantId);
            var human = client.PostAsJsonAsync($"/api/conversations/{conversations[i]}/messages", new { body = "Hola, soy Ana. Sí, a las 4.", assignedToUser = "ana" });
            var bot = lead.HandledAsync(race.Chat.Reply(conversations[i], race.Agent, 1, "Hoy no quedan citas."));
            await Task.WhenAll(human, bot);
            Assert.Equal(HttpStatusCode.Accepted, (await human).StatusCode);
        }));

        foreach (var conversationId in conversations)
        {
            // Sends of one conversation are published in the order they are listed here (the outbox's order per key).
            var authors = (await Sends(conversationId)).Select(s => s.Author).ToList();
            Assert.Contains(MessageAuthor.Human, authors);
            Assert.DoesNotContain(MessageAuthor.AiAgent, authors.SkipWhile(a => a != MessageAuthor.Human));
        }
    }

    [Fact]
    public async Task A_paused_conversation_gets_no_bot_answer_until_it_is_released()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola!"));
        using var client = lead.ClientFor(chat.TenantId);

        using var paused = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "ana", pause = true });
        Assert.Equal("PAUSED", Text((await paused.Content.ReadFromJsonAsync<JsonNode>())!, "owner"));
        await lead.HandledAsync(chat.Says(2, "¿Tienen parqueadero?", agent));
        Assert.Single(await Requests(chat));
        Assert.True((await SummaryAsync(chat, conversationId))["requiresAttention"]!.GetValue<bool>());

        (await client.PostAsync($"/api/conversations/{conversationId}/release", null)).EnsureSuccessStatusCode();
        Assert.Equal(2L, (await Requests(chat)).Last().UpToSequence);
    }

    [Fact]
    public async Task A_customer_who_writes_again_after_the_employees_reply_is_waiting_for_a_human_again()
    {
        var chat = Chat.New();
        await lead.HandledAsync(chat.Says(1, "Hola", Chat.NewAgent()));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        using var client = lead.ClientFor(chat.TenantId);
        (await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages", new { body = "Hola, soy Ana.", assignedToUser = "ana" })).EnsureSuccessStatusCode();
        Assert.Equal("ACTIVE", Text(await SummaryAsync(chat, conversationId), "status"));

        await lead.HandledAsync(chat.Says(2, "Gracias Ana, otra pregunta", Chat.NewAgent()));

        var summary = await SummaryAsync(chat, conversationId);
        Assert.Equal(("WAITING_HUMAN", "HUMAN", true), (Text(summary, "status"), Text(summary, "owner"), summary["requiresAttention"]!.GetValue<bool>()));
        Assert.Single(await Requests(chat));
    }

    [Fact]
    public async Task A_conversation_a_human_took_returns_to_the_bot_after_the_tenants_idle_time()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        using var client = lead.ClientFor(chat.TenantId);
        (await client.PutAsJsonAsync("/api/leads/settings", new { humanIdleReleaseSeconds = 2 })).EnsureSuccessStatusCode();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        (await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages", new { body = "Hola, soy Ana.", assignedToUser = "ana" })).EnsureSuccessStatusCode();

        var summary = await SummaryAsync(chat, conversationId);
        Assert.Equal("HUMAN", Text(summary, "owner"));
        Assert.NotNull(summary["releaseDueAt"]);

        // A timer kept as data (a delayed outbox row) gives it back once Ana has been idle for 2 s.
        var released = await Eventually.ReturnsAsync(async () =>
            (await lead.PublishedAsync<ConversationReleased>(r => r.ConversationId == conversationId)).SingleOrDefault(), "the idle release", TimeSpan.FromSeconds(20));
        Assert.Equal(HandoffTriggers.HumanIdle, released.Trigger);
        Assert.Equal("BOT", Text(await SummaryAsync(chat, conversationId), "owner"));

        // The bot answers again.
        await lead.HandledAsync(chat.Says(2, "¿Siguen ahí?", agent));
        Assert.Equal(2L, (await Requests(chat)).Last().UpToSequence);
    }

    [Fact]
    public async Task Handoff_and_release_of_another_tenants_conversation_are_404_and_bad_input_is_400()
    {
        var chat = Chat.New();
        await lead.HandledAsync(chat.Says(1, "Hola", Chat.NewAgent()));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        using var stranger = lead.ClientFor(Chat.NewTenant());
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { assignedToUser = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/conversations/{conversationId}/release", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsJsonAsync($"/api/conversations/{conversationId}/messages", new { body = "hola", assignedToUser = "x" })).StatusCode);

        using var client = lead.ClientFor(chat.TenantId);
        using var noEmployee = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/handoff", new { reason = "?" });
        Assert.Equal(HttpStatusCode.BadRequest, noEmployee.StatusCode);
        Assert.Equal(["assignedToUser"], (await noEmployee.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal("BOT", Text(await SummaryAsync(chat, conversationId), "owner"));
        Assert.Empty(await lead.PublishedAsync<ConversationHandedOff>(h => h.ConversationId == conversationId));
    }

    private Task<IReadOnlyList<ReplyRequested>> Requests(Chat chat) => lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId);

    private Task<IReadOnlyList<SendWhatsAppMessage>> Sends(string conversationId) => lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId);

    private async Task<JsonNode> SummaryAsync(Chat chat, string conversationId) =>
        (await lead.ClientFor(chat.TenantId).GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["conversation"]!;

    private static string? Text(JsonNode node, string field) => node[field]?.GetValue<string>();
}
