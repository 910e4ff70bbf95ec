using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// Messages of one conversation that reach Lead out of order (another instance, or another concurrent delivery,
/// still handles the earlier one) are handled in Ingress's sequence order; one whose predecessor never comes is
/// handled after a bounded wait.
/// </summary>
[Collection(LeadCollection.Name)]
public sealed class MessageOrderTests(LeadService lead)
{
    [Fact]
    public async Task A_message_that_overtook_its_predecessor_waits_for_it_and_the_first_reply_answers_the_first_message()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        var secondId = NewId.NextGuid();

        // Message 2 arrives first: it is not handled while message 1 is missing.
        await lead.Bus.Publish(chat.Says(2, "para el martes", agent), context => context.MessageId = secondId);
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.Empty(await lead.WithDbAsync(db => db.Messages.Where(m => m.TenantId == chat.TenantId).ToListAsync()));

        // Message 1 comes: 1 is handled, then 2, so the reply asked for first answers message 1 and 2 waits for the next one.
        await lead.HandledAsync(chat.Says(1, "Hola, quiero una cita", agent));
        await lead.Consumed.WaitAsync(secondId, "the message that waited for its predecessor");
        var requests = await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId);
        Assert.Equal(1L, Assert.Single(requests).UpToSequence);
        var conversation = await lead.WithDbAsync(db => db.Conversations.SingleAsync(c => c.TenantId == chat.TenantId));
        Assert.True(conversation.CustomerWroteDuringReply);
        Assert.Equal(2L, conversation.LastCustomerSequence);
    }

    [Fact]
    public async Task A_burst_delivered_all_at_once_in_reverse_is_appended_and_answered_in_order()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        var messages = Enumerable.Range(1, 6).Select(i => (Id: NewId.NextGuid(), Message: chat.Says(i, $"mensaje {i}", agent))).Reverse().ToList();

        await Task.WhenAll(messages.Select(m => lead.Bus.Publish(m.Message, context => context.MessageId = m.Id)));
        await Task.WhenAll(messages.Select(m => lead.Consumed.WaitAsync(m.Id, "a message of the burst")));

        // Handled one after another in the customer's order: the last one handled is the newest, and the conversation
        // shows them as the customer wrote them, each once.
        var conversation = await lead.WithDbAsync(db => db.Conversations.SingleAsync(c => c.TenantId == chat.TenantId));
        Assert.Equal(6L, conversation.LastCustomerSequence);
        using var client = lead.ClientFor(chat.TenantId);
        var shown = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversation.Id}"))!["messages"]!.AsArray();
        Assert.Equal(["mensaje 1", "mensaje 2", "mensaje 3", "mensaje 4", "mensaje 5", "mensaje 6"],
            shown.Where(m => m!["author"]!.GetValue<string>() == "CUSTOMER").Select(m => m!["body"]!.GetValue<string>()));
        // One reply was asked for, for message 1 (the first handled); the rest arrived while it was being written.
        var requests = await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId);
        Assert.Equal(1L, Assert.Single(requests).UpToSequence);
    }

    [Fact]
    public async Task A_message_whose_predecessor_never_comes_is_handled_after_a_bounded_wait()
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        var waited = System.Diagnostics.Stopwatch.StartNew();

        // Message 1 was never routed (the number was off, say): 2 waits a few seconds at most, then goes ahead.
        await lead.HandledAsync(chat.Says(2, "¿Siguen abiertos?", agent));
        waited.Stop();

        var request = Assert.Single(await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId));
        Assert.Equal(2L, request.UpToSequence);
        // README promises a wait of at most 5 s (retries every 50 ms): the wait itself, plus each try's short transaction.
        var promised = ConversationOrder.RetryInterval * ConversationOrder.MaxWaits;
        Assert.InRange(waited.Elapsed, promised, promised + TimeSpan.FromSeconds(3));
    }
}
