using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Model;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// Lead's gate between the agent and the customer: one reply covers a burst, a stale reply never goes out,
/// the conversation keeps its agent, the bot is silent while a human owns the conversation.
/// </summary>
[Collection(LeadCollection.Name)]
public sealed class ReplyGateTests(LeadService lead)
{
    [Fact]
    public async Task One_reply_covers_the_messages_that_arrived_while_it_was_written_and_a_stale_reply_is_never_sent()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await using var sent = await lead.WatchAsync<SendWhatsAppMessage>();
        await using var requested = await lead.WatchAsync<ReplyRequested>();

        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var first = await requested.FirstAsync(r => r.TenantId == chat.TenantId);
        Assert.Equal(1, first.UpToSequence);
        var conversationId = first.ConversationId;

        // The customer keeps writing while the reply to message 1 is being written: nobody else is asked.
        await lead.HandledAsync(chat.Says(2, "quiero una cita", agent));
        await lead.HandledAsync(chat.Says(3, "para el martes si se puede", agent));
        Assert.Single(await Requests(chat));

        // The reply to message 1 arrives: it is stale, so it is dropped and one new reply covering 1-3 is asked for.
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola! ¿En qué te puedo ayudar?"));
        Assert.Empty(await Sends(conversationId));
        var requests = await Requests(chat);
        Assert.Equal(2, requests.Count);
        var second = requests[1];
        Assert.Equal((3L, agent), (second.UpToSequence, second.AgentId));
        Assert.Equal(["Hola", "quiero una cita", "para el martes si se puede"],
            second.RecentTurns.Where(t => t.Author == MessageAuthor.Customer).Select(t => t.Text));
        await requested.FirstAsync(r => r.ConversationId == conversationId && r.UpToSequence == 3); // and it went out

        await lead.HandledAsync(chat.Reply(conversationId, agent, 3, "Claro, el martes a las 10:00 tenemos cita."));

        var send = Assert.Single(await Sends(conversationId));
        Assert.Equal(("Claro, el martes a las 10:00 tenemos cita.", chat.NumberPhone, chat.CustomerId, MessageAuthor.AiAgent, agent, Chat.AccountSid),
            (send.Body, send.From, send.To, send.Author, send.AgentId, send.AccountSid));
        Assert.Equal(send.OutboundId, (await sent.FirstAsync(s => s.ConversationId == conversationId)).OutboundId);

        var messages = (await lead.ClientFor(chat.TenantId).GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["messages"]!.AsArray();
        Assert.Equal(["CUSTOMER", "CUSTOMER", "CUSTOMER", "AI_AGENT"], messages.Select(m => m!["author"]!.GetValue<string>()));
        Assert.Equal(agent, messages[^1]!["agentId"]!.GetValue<string>());
        Assert.DoesNotContain(messages, m => m!["body"]!.GetValue<string>().StartsWith("¡Hola!"));
    }

    [Fact]
    public async Task A_message_overtaken_on_the_broker_that_arrives_while_a_reply_is_written_is_covered_by_the_next_reply()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        await lead.HandledAsync(chat.Says(3, "¿atienden el sábado?", agent));
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola!"));      // stale: a reply covering 1 and 3 is asked for
        Assert.Equal((3L, agent), Last(await Requests(chat)));

        // Message 2 was overtaken on the broker and arrives only now, older than the request in flight.
        await lead.HandledAsync(chat.Says(2, "quiero una limpieza", agent));
        await lead.HandledAsync(chat.Reply(conversationId, agent, 3, "Sí, el sábado de 8 a 12."));

        // That reply never saw "quiero una limpieza": it is not sent; a new one covering all three is asked for.
        Assert.Empty(await Sends(conversationId));
        var requests = await Requests(chat);
        Assert.Equal(3, requests.Count);
        Assert.Equal(["Hola", "quiero una limpieza", "¿atienden el sábado?"],
            requests[^1].RecentTurns.Where(t => t.Author == MessageAuthor.Customer).Select(t => t.Text).Order(StringComparer.Ordinal));

        await lead.HandledAsync(chat.Reply(conversationId, agent, 3, "Claro: limpieza el sábado a las 9, ¿te sirve?"));
        Assert.Equal("Claro: limpieza el sábado a las 9, ¿te sirve?", Assert.Single(await Sends(conversationId)).Body);
    }

    [Fact]
    public async Task An_open_conversation_keeps_its_agent_unless_another_agents_keyword_matched()
    {
        var chat = Chat.New();
        var drBot = Chat.NewAgent();
        var urgencias = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", drBot, reason: "the number's default agent"));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        await lead.HandledAsync(chat.Reply(conversationId, drBot, 1, "Hola, soy DrBot."));

        // Routing proposes another agent without a keyword (say, its hours began): DrBot keeps the conversation.
        await lead.HandledAsync(chat.Says(2, "¿y mañana?", urgencias, reason: "the tenant's default agent"));
        Assert.Equal((2L, drBot), Last(await Requests(chat)));
        var kept = await Summary(chat, conversationId);
        Assert.Equal(drBot, kept["currentAgentId"]!.GetValue<string>());
        Assert.Contains("kept", kept["agentReason"]!.GetValue<string>());
        await lead.HandledAsync(chat.Reply(conversationId, drBot, 2, "Mañana abrimos a las 8."));

        // A keyword of another agent matched: the conversation switches, and says why.
        await lead.HandledAsync(chat.Says(3, "tengo una urgencia", urgencias, matchedKeyword: true, reason: "keyword 'urgencia' of Urgencias"));
        Assert.Equal((3L, urgencias), Last(await Requests(chat)));
        var switched = await Summary(chat, conversationId);
        Assert.Equal((urgencias, "keyword 'urgencia' of Urgencias"), (switched["currentAgentId"]!.GetValue<string>(), switched["agentReason"]!.GetValue<string>()));
    }

    [Fact]
    public async Task After_the_agent_asks_for_a_human_no_reply_is_sent_or_asked_for_while_the_human_owns_the_conversation()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await using var handedOff = await lead.WatchAsync<ConversationHandedOff>();
        await lead.HandledAsync(chat.Says(1, "Tengo un problema con mi factura", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;

        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "Te comunico con una persona del equipo.", needsHuman: true));
        Assert.Equal("Te comunico con una persona del equipo.", Assert.Single(await Sends(conversationId)).Body);
        var handoff = await handedOff.FirstAsync(h => h.ConversationId == conversationId);
        Assert.Equal((HandoffTriggers.AgentNeedsHuman, 1), (handoff.Trigger, handoff.OwnershipVersion));

        // The customer writes again: stored, flagged for attention, but no reply is asked for ...
        await lead.HandledAsync(chat.Says(2, "¿Hola? ¿Alguien?", agent));
        Assert.Single(await Requests(chat));
        var summary = await Summary(chat, conversationId);
        Assert.Equal(("WAITING_HUMAN", "HUMAN", true, 3),
            (summary["status"]!.GetValue<string>(), summary["owner"]!.GetValue<string>(), summary["requiresAttention"]!.GetValue<bool>(), summary["messageCount"]!.GetValue<int>()));

        // ... and a reply the agent wrote anyway never reaches the customer.
        await lead.HandledAsync(chat.Reply(conversationId, agent, 2, "Sigo aquí, ¿en qué te ayudo?"));
        Assert.Single(await Sends(conversationId));
    }

    [Fact]
    public async Task When_the_agent_cannot_answer_the_customer_gets_the_fallback_once_and_a_human_takes_over()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await using var handedOff = await lead.WatchAsync<ConversationHandedOff>();
        await using var sent = await lead.WatchAsync<SendWhatsAppMessage>();
        await lead.HandledAsync(chat.Says(1, "¿Cuánto cuesta una limpieza?", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;

        var failure = new AgentReplyFailed(chat.TenantId, conversationId, agent, 1, "model unavailable", DateTimeOffset.UtcNow);
        await lead.HandledAsync(failure);
        await lead.HandledAsync(failure); // the same failure reported again (a new message id): no second fallback

        var fallback = Assert.Single(await Sends(conversationId));
        Assert.Equal((SystemTexts.Fallback, MessageAuthor.System, chat.CustomerId), (fallback.Body, fallback.Author, fallback.To));
        Assert.DoesNotContain("model unavailable", fallback.Body); // never the error itself
        await sent.FirstAsync(s => s.OutboundId == fallback.OutboundId);
        var handoff = await handedOff.FirstAsync(h => h.ConversationId == conversationId);
        Assert.Contains("model unavailable", handoff.Reason);
        Assert.Equal(HandoffTriggers.AgentFailed, handoff.Trigger);
        Assert.Single(await lead.PublishedAsync<ConversationHandedOff>(h => h.ConversationId == conversationId));

        // A reply written later for that message, and the customer's next message, get no answer from the bot.
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "Una limpieza cuesta 80.000 COP."));
        await lead.HandledAsync(chat.Says(2, "¿Me responden?", agent));
        Assert.Single(await Sends(conversationId));
        Assert.Single(await Requests(chat));

        using var client = lead.ClientFor(chat.TenantId);
        var waiting = (await client.GetFromJsonAsync<JsonNode>("/api/conversations?status=WAITING_HUMAN&requiresAttention=true&pageSize=200"))!;
        var listed = Assert.Single(waiting["items"]!.AsArray(), c => c!["id"]!.GetValue<string>() == conversationId)!;
        Assert.Equal(("WAITING_HUMAN", "HUMAN"), (listed["status"]!.GetValue<string>(), listed["owner"]!.GetValue<string>()));
    }

    [Fact]
    public async Task When_the_model_fails_the_agents_fallback_goes_out_and_the_handoff_says_the_agent_failed_not_that_it_asked_for_a_human()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await using var handedOff = await lead.WatchAsync<ConversationHandedOff>();
        await lead.HandledAsync(chat.Says(1, "¿Cuánto cuesta una limpieza?", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;

        // Agent could not reach the model: it sends its own fallback text, asks for a person and says why.
        const string fallback = "Gracias por tu mensaje. Ahora no puedo responder; una persona de nuestro equipo te escribirá en breve.";
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, fallback, needsHuman: true) with { FallbackReason = "The model did not answer in time." });

        Assert.Equal(fallback, Assert.Single(await Sends(conversationId)).Body);
        var handoff = await handedOff.FirstAsync(h => h.ConversationId == conversationId);
        const string reason = "the agent could not answer: The model did not answer in time.";
        Assert.Equal((HandoffTriggers.AgentFailed, reason), (handoff.Trigger, handoff.Reason));
        var summary = await Summary(chat, conversationId);
        Assert.Equal(("HUMAN", "WAITING_HUMAN", reason),
            (summary["owner"]!.GetValue<string>(), summary["status"]!.GetValue<string>(), summary["handoffReason"]!.GetValue<string>()));
    }

    [Fact]
    public async Task When_Routing_proposes_no_agent_the_conversation_records_why_nobody_answers_and_keeps_its_agent_for_later()
    {
        // autoReply off outside business hours: the first message of a conversation nobody answers says why.
        var quiet = Chat.New();
        const string autoReplyOff = "outside business hours and autoReply is off: stored, nobody answers";
        await lead.HandledAsync(quiet.Says(1, "Hola", null, ReplyPolicy.None, reason: autoReplyOff));
        var quietConversation = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == quiet.TenantId)).Single().ConversationId;
        var quietSummary = await Summary(quiet, quietConversation);
        Assert.Equal(autoReplyOff, quietSummary["agentReason"]!.GetValue<string>());
        Assert.Null(quietSummary["currentAgentId"]);

        // DrBot answered during the day; at night nobody is on duty and the out-of-hours text goes out instead.
        var chat = Chat.New();
        var drBot = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", drBot, reason: "the number's default agent (inside business hours)"));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        await lead.HandledAsync(chat.Reply(conversationId, drBot, 1, "Hola, soy DrBot."));
        const string outOfHours = "outside business hours and no agent is on duty: out-of-hours text";
        await lead.HandledAsync(chat.Says(2, "¿Siguen abiertos?", null, ReplyPolicy.OutOfHoursText, reason: outOfHours) with { OutOfHoursText = "Estamos cerrados." });

        var summary = await Summary(chat, conversationId);
        Assert.Equal((outOfHours, drBot), (summary["agentReason"]!.GetValue<string>(), summary["currentAgentId"]!.GetValue<string>()));

        // In the morning DrBot is proposed again: it answers, and the reason is Routing's own.
        await lead.HandledAsync(chat.Says(3, "Buenos días", drBot, reason: "the number's default agent (inside business hours)"));
        Assert.Equal((3L, drBot), Last(await Requests(chat)));
        Assert.Equal("the number's default agent (inside business hours)", (await Summary(chat, conversationId))["agentReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_out_of_hours_text_goes_out_again_in_the_next_closed_period_of_the_same_conversation()
    {
        const string closed = "Estamos cerrados. Te respondemos mañana desde las 8:00.";
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        InboundMessageRouted AtNight(long sequence, string text) =>
            chat.Says(sequence, text, null, ReplyPolicy.OutOfHoursText, reason: "outside business hours and no agent is on duty: out-of-hours text")
                with { OutOfHoursText = closed };

        // One night: the notice once.
        await lead.HandledAsync(AtNight(1, "Hola, ¿están abiertos?"));
        await lead.HandledAsync(AtNight(2, "¿Hola?"));
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;

        // The morning: the business is open and the agent answers in the same conversation.
        await lead.HandledAsync(chat.Says(3, "Buenos días, quiero una cita", agent));
        Assert.Equal(conversationId, Assert.Single(await Requests(chat)).ConversationId);
        await lead.HandledAsync(chat.Reply(conversationId, agent, 3, "Claro, ¿qué día te sirve?"));

        // The next night is a new closed period: the notice once more, and again only once.
        await lead.HandledAsync(AtNight(4, "¿Mañana a las 7?"));
        await lead.HandledAsync(AtNight(5, "¿Siguen ahí?"));

        Assert.Equal([closed, "Claro, ¿qué día te sirve?", closed], (await Sends(conversationId)).Select(s => s.Body));
        Assert.Equal([MessageAuthor.System, MessageAuthor.AiAgent, MessageAuthor.System], (await Sends(conversationId)).Select(s => s.Author));
    }

    [Fact]
    public async Task The_out_of_hours_text_goes_out_once_per_conversation_and_no_reply_policy_sends_nothing()
    {
        const string closed = "Estamos cerrados. Te respondemos mañana desde las 8:00.";
        var chat = Chat.New();
        await lead.HandledAsync(chat.Says(1, "Hola, ¿están abiertos?", null, ReplyPolicy.OutOfHoursText, reason: "outside business hours") with { OutOfHoursText = closed });
        await lead.HandledAsync(chat.Says(2, "¿Hola?", null, ReplyPolicy.OutOfHoursText, reason: "outside business hours") with { OutOfHoursText = closed });

        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        var notice = Assert.Single(await Sends(conversationId));
        Assert.Equal((closed, MessageAuthor.System, chat.CustomerId), (notice.Body, notice.Author, notice.To));
        Assert.Empty(await Requests(chat));

        // autoReply off outside business hours: stored and shown, nobody answers.
        var quiet = Chat.New();
        await lead.HandledAsync(quiet.Says(1, "Hola", null, ReplyPolicy.None, reason: "outside business hours, autoReply off"));
        var quietConversation = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == quiet.TenantId)).Single().ConversationId;
        Assert.Empty(await Sends(quietConversation));
        Assert.Empty(await Requests(quiet));
        Assert.Equal(1, (await Summary(quiet, quietConversation))["messageCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_message_overtaken_by_a_later_one_that_was_already_answered_still_gets_a_reply_and_the_bot_keeps_answering()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await Requests(chat)).Single().ConversationId;
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, "¡Hola! ¿En qué te ayudo?"));

        // Ingress stores message 2, then message 3; message 2 is held up on the way (a retry) and 3 is answered first.
        var held = chat.Says(2, "quiero una cita el martes", agent);
        await lead.HandledAsync(chat.Says(3, "¿Cuánto cuesta?", agent));
        await lead.HandledAsync(chat.Reply(conversationId, agent, 3, "Una limpieza cuesta 80.000 COP."));
        Assert.Equal(2, (await Sends(conversationId)).Count);

        // Message 2 arrives at last: the agent is asked again, now seeing it in its place ...
        await lead.HandledAsync(held);
        var late = (await Requests(chat)).Last();
        Assert.Equal(["Hola", "quiero una cita el martes", "¿Cuánto cuesta?"],
            late.RecentTurns.Where(t => t.Author == MessageAuthor.Customer).Select(t => t.Text));

        // ... and its reply reaches the customer: every message is answered.
        await lead.HandledAsync(chat.Reply(conversationId, agent, late.UpToSequence, "El martes a las 10:00 tenemos cita."));
        Assert.Equal("El martes a las 10:00 tenemos cita.", (await Sends(conversationId)).Last().Body);
        Assert.Equal(3, (await Sends(conversationId)).Count);

        // The conversation is not left waiting for a reply that never comes: the next message is answered too.
        await lead.HandledAsync(chat.Says(4, "perfecto, gracias", agent));
        Assert.Equal(4L, (await Requests(chat)).Last().UpToSequence);
    }

    private Task<IReadOnlyList<ReplyRequested>> Requests(Chat chat) => lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId);

    private Task<IReadOnlyList<SendWhatsAppMessage>> Sends(string conversationId) => lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId);

    private static (long, string) Last(IReadOnlyList<ReplyRequested> requests) => (requests[^1].UpToSequence, requests[^1].AgentId);

    private async Task<JsonNode> Summary(Chat chat, string conversationId) =>
        (await lead.ClientFor(chat.TenantId).GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["conversation"]!;
}
