namespace SafeNotify.Crm.Ingress.Model;

/// <summary>
/// A status callback that arrived before its send's SID was recorded (Twilio may call back before the answer to the
/// send reaches us, and never sends a callback again). Applied, forward only, when the SID is recorded; kept at most
/// <c>Twilio:EarlyStatusCallbackRetention</c> (a SID never recorded is not ours).
/// </summary>
public sealed class EarlyStatusCallback
{
    public required string TwilioSid { get; init; }
    public required string Status { get; init; }
    public string? ErrorCode { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>The next free sending slot of one of our numbers (Twilio paces WhatsApp senders at about 10/s).</summary>
public sealed class SenderPacing
{
    public required string Number { get; init; }
    public DateTimeOffset NextSlotAt { get; init; }
}
