using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>An employee's reply through the API, and WhatsApp's 24-hour customer service window.</summary>
[Collection(LeadCollection.Name)]
public sealed class EmployeeReplyTests(LeadService lead)
{
    [Fact]
    public async Task Outside_the_24_hour_window_free_text_is_refused_at_once_with_a_409_that_says_why_and_nothing_is_sent()
    {
        var (chat, conversationId) = await ConversationLastWrittenAsync(TimeSpan.FromHours(25));
        using var client = lead.ClientFor(chat.TenantId);

        using var refused = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages", new { body = "Hola, ¿sigues interesada?", assignedToUser = "ana" });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.EndsWith("outside-customer-service-window", problem["type"]!.GetValue<string>());
        Assert.Contains("24 hours", problem["detail"]!.GetValue<string>());
        Assert.Contains("template", problem["detail"]!.GetValue<string>());
        Assert.NotNull(problem["lastCustomerMessageAt"]);
        Assert.Empty(await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId));
        // Refused means untouched: the bot still owns the conversation.
        var summary = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["conversation"]!;
        Assert.Equal(("BOT", 0), (summary["owner"]!.GetValue<string>(), summary["ownershipVersion"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Outside_the_window_an_approved_template_is_sent_instead()
    {
        var (chat, conversationId) = await ConversationLastWrittenAsync(TimeSpan.FromHours(30));
        using var client = lead.ClientFor(chat.TenantId);
        const string contentSid = "HX0123456789abcdef0123456789abcdef";

        using var accepted = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages",
            new { assignedToUser = "ana", contentSid, contentVariables = new Dictionary<string, string> { ["1"] = "María", ["2"] = "martes 10:00" } });

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var send = Assert.Single(await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId));
        Assert.Equal((contentSid, null, MessageAuthor.Human, "ana"), (send.ContentSid, send.Body, send.Author, send.EmployeeId));
        var variables = JsonNode.Parse(send.ContentVariables!)!;
        Assert.Equal(("María", "martes 10:00"), (variables["1"]!.GetValue<string>(), variables["2"]!.GetValue<string>()));
        var stored = (await client.GetFromJsonAsync<JsonNode>($"/api/conversations/{conversationId}"))!["messages"]!.AsArray().Last()!;
        Assert.Equal(("HUMAN", contentSid), (stored["author"]!.GetValue<string>(), stored["contentSid"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Inside_the_window_free_text_goes_out()
    {
        var (chat, conversationId) = await ConversationLastWrittenAsync(TimeSpan.FromHours(23));
        using var client = lead.ClientFor(chat.TenantId);

        using var accepted = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages", new { body = "Hola, aquí Ana.", assignedToUser = "ana" });

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("Hola, aquí Ana.", Assert.Single(await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId)).Body);
    }

    [Fact]
    public async Task A_reply_without_text_or_template_or_with_a_malformed_template_is_a_400_naming_the_fields()
    {
        var (chat, conversationId) = await ConversationLastWrittenAsync(TimeSpan.FromMinutes(1));
        using var client = lead.ClientFor(chat.TenantId);

        using var empty = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages", new { body = " " });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(["assignedToUser", "body"], (await empty.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key).Order());

        using var malformed = await client.PostAsJsonAsync($"/api/conversations/{conversationId}/messages",
            new { assignedToUser = "ana", contentSid = "template-1", contentVariables = new { one = 1 } });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(["contentSid", "contentVariables"], (await malformed.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key).Order());
        Assert.Empty(await lead.PublishedAsync<SendWhatsAppMessage>(s => s.ConversationId == conversationId));
    }

    /// <summary>A conversation whose customer last wrote <paramref name="ago"/> ago (the bot's request is left unanswered).</summary>
    private async Task<(Chat Chat, string ConversationId)> ConversationLastWrittenAsync(TimeSpan ago)
    {
        var chat = Chat.New();
        await lead.HandledAsync(chat.Says(1, "Hola", Chat.NewAgent()) with { ReceivedAt = DateTimeOffset.UtcNow - ago });
        var conversationId = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == chat.TenantId)).Single().ConversationId;
        return (chat, conversationId);
    }
}
