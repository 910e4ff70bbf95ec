using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>A customer's first messages: the lead, the open conversation and the first reply request.</summary>
[Collection(LeadCollection.Name)]
public sealed class FirstContactTests(LeadService lead)
{
    [Fact]
    public async Task A_first_message_creates_the_lead_and_an_open_conversation_and_asks_the_proposed_agent_for_a_reply()
    {
        var chat = Chat.New(profileName: "María González");
        var agent = Chat.NewAgent();
        await using var leadsCreated = await lead.WatchAsync<LeadCreated>();
        await using var opened = await lead.WatchAsync<ConversationOpened>();
        await using var requested = await lead.WatchAsync<ReplyRequested>();

        // Ingress numbers messages per (number, customer): the first one Lead sees need not be 1.
        var message = chat.Says(7, "Hola, quiero una cita para limpieza", agent);
        await lead.HandledAsync(message);

        var created = await leadsCreated.FirstAsync(e => e.TenantId == chat.TenantId);
        var conversation = await opened.FirstAsync(e => e.TenantId == chat.TenantId);
        var request = await requested.FirstAsync(e => e.TenantId == chat.TenantId);
        Assert.Equal((created.LeadId, chat.NumberId, agent), (conversation.LeadId, conversation.NumberId, conversation.AgentId));
        Assert.Equal((conversation.ConversationId, agent, chat.NumberId, 7L),
            (request.ConversationId, request.AgentId, request.NumberId, request.UpToSequence));
        var turn = Assert.Single(request.RecentTurns);
        Assert.Equal((MessageAuthor.Customer, message.Text), (turn.Author, turn.Text));
        Assert.Equal((created.LeadId, "María González"), (request.Customer.LeadId, request.Customer.Name));

        using var client = lead.ClientFor(chat.TenantId);
        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/leads/{created.LeadId}"))!;
        Assert.Equal(("María González", chat.CustomerPhone, chat.CustomerId, "NEW", "whatsapp"),
            (Text(stored, "name"), Text(stored, "phone"), Text(stored, "customerId"), Text(stored, "leadStatus"), Text(stored, "source")));

        var detail = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversation.ConversationId}"))!;
        var summary = detail["conversation"]!;
        Assert.Equal(("ACTIVE", "BOT", agent, created.LeadId), (Text(summary, "status"), Text(summary, "owner"), Text(summary, "currentAgentId"), Text(summary, "customerLeadId")));
        var stored1 = Assert.Single(detail["messages"]!.AsArray())!;
        Assert.Equal(("CUSTOMER", message.Text, 7L), (Text(stored1, "author"), Text(stored1, "body"), stored1["sequence"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Concurrent_first_messages_from_one_customer_make_one_lead_and_one_open_conversation()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        const int count = 12;
        var messages = Enumerable.Range(1, count).Select(i => chat.Says(i, $"mensaje {i}", agent)).ToList();
        var ids = messages.Select(_ => NewId.NextGuid()).ToList();

        await Task.WhenAll(messages.Select((message, i) => lead.Bus.Publish(message, context => context.MessageId = ids[i])));
        await Task.WhenAll(ids.Select(id => lead.Consumed.WaitAsync(id, "one of the concurrent first messages")));

        var leads = await lead.WithDbAsync(db => db.Leads.Where(l => l.TenantId == chat.TenantId).ToListAsync());
        var conversations = await lead.WithDbAsync(db => db.Conversations.Where(c => c.TenantId == chat.TenantId).ToListAsync());
        Assert.Single(leads);
        var conversation = Assert.Single(conversations);
        Assert.True(conversation.IsOpen);
        var sequences = await lead.WithDbAsync(db => db.Messages.Where(m => m.ConversationId == conversation.Id).Select(m => m.Sequence).ToListAsync());
        Assert.Equal(messages.Select(m => (long?)m.Sequence), sequences.Order());
        Assert.Equal(count, conversation.MessageCount);

        Assert.Single(await lead.PublishedAsync<LeadCreated>(e => e.TenantId == chat.TenantId));
        Assert.Single(await lead.PublishedAsync<ConversationOpened>(e => e.TenantId == chat.TenantId));
        // One reply is asked for; the messages that arrived while it is written wait for it.
        Assert.Single(await lead.PublishedAsync<ReplyRequested>(e => e.TenantId == chat.TenantId));
    }

    [Fact]
    public async Task Concurrent_first_messages_from_one_customer_to_three_numbers_of_a_tenant_make_one_lead_and_one_open_conversation_per_number()
    {
        // The same customer writes to the clinic's three numbers at once (Ingress numbers each pair from 1).
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        var numbers = new[] { chat, chat with { NumberId = "num_" + Guid.NewGuid().ToString("N")[..12], NumberPhone = "+57602" + Random.Shared.Next(1_000_000, 9_999_999) },
            chat with { NumberId = "num_" + Guid.NewGuid().ToString("N")[..12], NumberPhone = "+57604" + Random.Shared.Next(1_000_000, 9_999_999) } };
        const int perNumber = 4;
        var messages = numbers.SelectMany(n => Enumerable.Range(1, perNumber).Select(i => n.Says(i, $"mensaje {i} a {n.NumberPhone}", agent))).ToList();
        var ids = messages.Select(_ => NewId.NextGuid()).ToList();

        await Task.WhenAll(messages.Select((message, i) => lead.Bus.Publish(message, context => context.MessageId = ids[i])));
        await Task.WhenAll(ids.Select(id => lead.Consumed.WaitAsync(id, "one of the concurrent first messages")));

        var leadId = Assert.Single(await lead.WithDbAsync(db => db.Leads.Where(l => l.TenantId == chat.TenantId).Select(l => l.Id).ToListAsync()));
        Assert.Equal(leadId, Assert.Single(await lead.PublishedAsync<LeadCreated>(e => e.TenantId == chat.TenantId)).LeadId);
        var conversations = await lead.WithDbAsync(db => db.Conversations.Where(c => c.TenantId == chat.TenantId).ToListAsync());
        Assert.Equal(numbers.Select(n => n.NumberId).Order(), conversations.Select(c => c.WhatsappNumberId).Order());
        Assert.All(conversations, c => Assert.Equal((true, leadId, perNumber), (c.IsOpen, c.CustomerLeadId, c.MessageCount)));
        Assert.Equal(numbers.Select(n => n.NumberId).Order(),
            (await lead.PublishedAsync<ConversationOpened>(e => e.TenantId == chat.TenantId)).Select(o => o.NumberId).Order());
    }

    [Fact]
    public async Task A_redelivered_customer_message_is_appended_once()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        var message = chat.Says(1, "¿Tienen cita mañana?", agent);

        // The broker delivers the same message twice ...
        var messageId = NewId.NextGuid();
        await lead.Bus.Publish(message, context => context.MessageId = messageId);
        await lead.Bus.Publish(message, context => context.MessageId = messageId);
        await lead.Consumed.WaitAsync(messageId, "both copies", times: 2);
        // ... and Routing republishes it under a new message id (same inbound message).
        await lead.HandledAsync(message);

        var conversation = await lead.WithDbAsync(db => db.Conversations.SingleAsync(c => c.TenantId == chat.TenantId));
        var messages = await lead.WithDbAsync(db => db.Messages.Where(m => m.ConversationId == conversation.Id).ToListAsync());
        Assert.Equal(message.InboundMessageId, Assert.Single(messages).InboundMessageId);
        Assert.Equal(1, conversation.MessageCount);
        Assert.Single(await lead.PublishedAsync<ReplyRequested>(e => e.TenantId == chat.TenantId));
    }

    [Fact]
    public async Task A_lead_entered_by_hand_becomes_the_customers_lead_on_first_WhatsApp_contact()
    {
        var chat = Chat.New(profileName: "Juancho");
        using var client = lead.ClientFor(chat.TenantId);
        using var created = await client.PostAsJsonAsync("/api/leads", new { phone = chat.CustomerPhone, name = "Juan Pérez", customerType = "patient" });
        created.EnsureSuccessStatusCode();
        var manual = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Null(manual["customerId"]);

        await lead.HandledAsync(chat.Says(1, "Hola, soy Juan", Chat.NewAgent()));

        var list = (await client.GetFromJsonAsync<JsonNode>("/api/leads"))!;
        Assert.Equal(1, list["total"]!.GetValue<int>());
        var joined = list["items"]![0]!;
        // The same lead, now tied to the WhatsApp customer; what the employee typed wins over the profile name.
        Assert.Equal((Text(manual, "id"), chat.CustomerId, "Juan Pérez", "patient"),
            (Text(joined, "id"), Text(joined, "customerId"), Text(joined, "name"), Text(joined, "customerType")));
        var conversation = await lead.WithDbAsync(db => db.Conversations.SingleAsync(c => c.TenantId == chat.TenantId));
        Assert.Equal(Text(manual, "id"), conversation.CustomerLeadId);
    }

    private static string? Text(JsonNode node, string field) => node[field]?.GetValue<string>();
}
