using System.Text.Json;
using SafeNotify.Crm.Ingress.Model;
using Twilio.Clients;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>How a part of an outbound message looks to Twilio's Messages API, and how an interrupted send is found there again.</summary>
public static class TwilioMessages
{
    /// <summary>The send of <paramref name="part"/>: its text, or the message's template; status callbacks to our public address, if any.</summary>
    public static CreateMessageOptions Send(OutboundMessage message, OutboundPart part, string? publicBaseUrl)
    {
        var send = new CreateMessageOptions(new PhoneNumber("whatsapp:" + message.To))
        {
            From = new PhoneNumber("whatsapp:" + message.From),
            Body = message.SendsTemplate ? null : part.Body,
            ContentSid = message.SendsTemplate ? message.ContentSid : null,
            ContentVariables = message.SendsTemplate ? message.ContentVariables : null,
        };
        if (!string.IsNullOrWhiteSpace(publicBaseUrl))
        {
            send.StatusCallback = new Uri(publicBaseUrl.TrimEnd('/') + "/webhooks/twilio/status");
        }

        return send;
    }

    /// <summary>
    /// The messages an interrupted attempt at <paramref name="part"/> may have made at Twilio, earliest first. A send's SID
    /// comes only in Twilio's answer, which is exactly what an interrupted call lost, and Twilio has no idempotency key; so
    /// the attempt's message is looked for among the recent messages from our number to the customer: created during the
    /// attempt (from a few seconds before it began, for Twilio's clock and whole seconds, until it must have ended) and with
    /// the part's text, or, for a template, with every template variable's value in its text (Twilio shows the rendered
    /// template; its resource does not name the ContentSid). The caller leaves out SIDs recorded for other sends.
    /// </summary>
    public static async Task<List<MessageResource>> CandidatesAsync(ITwilioRestClient client, OutboundMessage message, OutboundPart part,
        TimeSpan interruptedAfter)
    {
        var started = part.AttemptStartedAt ?? message.CreatedAt;
        var from = started.AddSeconds(-5).UtcDateTime;
        var until = (started + interruptedAfter).AddSeconds(5).UtcDateTime;
        var recent = await MessageResource.ReadAsync(new ReadMessageOptions
        {
            To = new PhoneNumber("whatsapp:" + message.To),
            From = new PhoneNumber("whatsapp:" + message.From),
            PageSize = 50,
            Limit = 50,
        }, client);
        var values = message.SendsTemplate ? TemplateValues(message.ContentVariables) : [];
        return recent
            .Where(m => m.DateCreated >= from && m.DateCreated <= until)
            .Where(m => message.SendsTemplate
                ? !string.IsNullOrEmpty(m.Body) && values.All(value => m.Body.Contains(value, StringComparison.Ordinal))
                : m.Body == part.Body)
            .OrderBy(m => m.DateCreated)
            .ToList();
    }

    /// <summary>The values of a template's variables (<c>{"1":"María"}</c>); none when they cannot be read.</summary>
    private static List<string> TemplateValues(string? contentVariables)
    {
        if (string.IsNullOrWhiteSpace(contentVariables))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(contentVariables);
            return document.RootElement.ValueKind != JsonValueKind.Object ? [] : document.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(p.Value.GetString()))
                .Select(p => p.Value.GetString()!).ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
