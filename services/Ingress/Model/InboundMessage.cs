using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Ingress.Model;

/// <summary>A customer's WhatsApp message as Twilio delivered it: every field kept raw, the useful ones parsed.</summary>
public sealed class InboundMessage
{
    public required string Id { get; init; }

    /// <summary>Unique: Twilio's retries and duplicate deliveries of one message are stored once.</summary>
    public required string MessageSid { get; init; }

    public required string AccountSid { get; init; }

    /// <summary>Our number, E.164 (the <c>whatsapp:</c> prefix removed).</summary>
    public required string To { get; init; }

    /// <summary>The customer's WhatsApp id: E.164, or a WhatsApp username id.</summary>
    public required string CustomerId { get; init; }

    public string? CustomerPhone { get; init; }
    public string? ProfileName { get; init; }
    public string? Body { get; init; }
    public List<WhatsAppMedia> Media { get; init; } = [];
    public WhatsAppLocation? Location { get; init; }
    public string? ButtonPayload { get; init; }
    public string? ButtonText { get; init; }

    /// <summary>Twilio's <c>WaId</c>: the customer's WhatsApp account id (a phone number's digits, no '+').</summary>
    public string? WaId { get; init; }

    /// <summary>Every form field Twilio sent, as JSON (Twilio adds fields without notice).</summary>
    public required Dictionary<string, string> RawPayload { get; init; }

    /// <summary>Order of this message among the (number, customer) pair's messages, stamped on arrival.</summary>
    public long Sequence { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>The last sequence handed out for one (number, customer) pair.</summary>
public sealed class CustomerSequence
{
    public required string Number { get; init; }
    public required string CustomerId { get; init; }
    public long LastSequence { get; set; }
}

/// <summary>The parts of Twilio's inbound form the CRM uses; everything else stays in the raw payload.</summary>
public sealed record ParsedInbound(
    string MessageSid,
    string AccountSid,
    string To,
    string CustomerId,
    string? CustomerPhone,
    string? ProfileName,
    string? Body,
    List<WhatsAppMedia> Media,
    WhatsAppLocation? Location,
    string? ButtonPayload,
    string? ButtonText,
    string? WaId);
