using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>What the tenant sees of a reply's delivery, from Ingress's events that arrive out of order.</summary>
[Collection(LeadCollection.Name)]
public sealed class DeliveryStatusTests(LeadService lead)
{
    [Fact]
    public async Task A_replys_delivery_status_moves_forward_only_so_a_late_delivered_never_undoes_read()
    {
        var (chat, conversationId, outboundId) = await ReplySentAsync("Tu cita quedó para el martes.");
        const string sid = "SM0123456789abcdef0123456789abcdef";
        var at = DateTimeOffset.UtcNow;

        // Twilio took it and answered "queued": the tenant sees that, not our own "sending" any more.
        await lead.HandledAsync(new OutboundMessageSent(outboundId, chat.TenantId, conversationId, sid, "queued", MessageAuthor.AiAgent, 1, at));
        Assert.Equal("queued", (await ReplyAsync(chat, conversationId))["deliveryStatus"]!.GetValue<string>());

        await lead.HandledAsync(new MessageDeliveryUpdated(outboundId, chat.TenantId, conversationId, sid, "read", null, at.AddSeconds(5)));
        await lead.HandledAsync(new MessageDeliveryUpdated(outboundId, chat.TenantId, conversationId, sid, "delivered", null, at.AddSeconds(3)));

        var reply = await ReplyAsync(chat, conversationId);
        Assert.Equal("read", reply["deliveryStatus"]!.GetValue<string>());
        Assert.Equal(at, reply["sentAt"]!.GetValue<DateTimeOffset>(), TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_read_receipt_that_overtakes_the_send_confirmation_is_kept()
    {
        var (chat, conversationId, outboundId) = await ReplySentAsync("Te esperamos.");
        const string sid = "SMfedcba9876543210fedcba9876543210";
        var at = DateTimeOffset.UtcNow;

        // They reach Lead on different queues: a status callback may be handled before the send's confirmation.
        await lead.HandledAsync(new MessageDeliveryUpdated(outboundId, chat.TenantId, conversationId, sid, "read", null, at.AddSeconds(2)));
        await lead.HandledAsync(new OutboundMessageSent(outboundId, chat.TenantId, conversationId, sid, "queued", MessageAuthor.AiAgent, 1, at));

        Assert.Equal("read", (await ReplyAsync(chat, conversationId))["deliveryStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failed_send_shows_failed_with_twilios_error_code()
    {
        var (chat, conversationId, outboundId) = await ReplySentAsync("Hola de nuevo.");
        await lead.HandledAsync(new OutboundMessageFailed(outboundId, chat.TenantId, conversationId, "outside the 24 h window", "63016", DateTimeOffset.UtcNow));

        var reply = await ReplyAsync(chat, conversationId);
        Assert.Equal(("failed", "63016"), (reply["deliveryStatus"]!.GetValue<string>(), reply["errorCode"]!.GetValue<string>()));
        Assert.Null(reply["sentAt"]);
    }

    [Fact]
    public async Task A_send_whose_outcome_Ingress_cannot_know_shows_delivery_unknown_until_a_later_status()
    {
        var (chat, conversationId, outboundId) = await ReplySentAsync("Gracias por escribirnos.");

        // Ingress crashed between asking Twilio and hearing back: it says so, without a SID.
        await lead.HandledAsync(new MessageDeliveryUpdated(outboundId, chat.TenantId, conversationId, "", DeliveryStatuses.DeliveryUnknown, null, DateTimeOffset.UtcNow));
        Assert.Equal("delivery_unknown", (await ReplyAsync(chat, conversationId))["deliveryStatus"]!.GetValue<string>());

        // Reconciled later: Twilio had it after all.
        await lead.HandledAsync(new MessageDeliveryUpdated(outboundId, chat.TenantId, conversationId, "SM00000000000000000000000000000001", "delivered", null, DateTimeOffset.UtcNow));
        Assert.Equal("delivered", (await ReplyAsync(chat, conversationId))["deliveryStatus"]!.GetValue<string>());
    }

    /// <summary>A customer message and the agent's reply to it, which Lead sends (status "sending" until Ingress reports).</summary>
    private async Task<(Chat Chat, string ConversationId, string OutboundId)> ReplySentAsync(string text)
    {
        var chat = Chat.New();
        var agent = Chat.NewAgent();
        await lead.HandledAsync(chat.Says(1, "Hola", agent));
        var conversationId = (await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == chat.TenantId)).Single().ConversationId;
        await lead.HandledAsync(chat.Reply(conversationId, agent, 1, text));
        var outboundId = (await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId)).Single().OutboundId;
        Assert.Equal("sending", (await ReplyAsync(chat, conversationId))["deliveryStatus"]!.GetValue<string>());
        return (chat, conversationId, outboundId);
    }

    private async Task<JsonNode> ReplyAsync(Chat chat, string conversationId)
    {
        var detail = (await lead.ClientFor(chat.TenantId).GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!;
        return detail["messages"]!.AsArray().Single(m => m!["author"]!.GetValue<string>() == "AI_AGENT")!;
    }
}
