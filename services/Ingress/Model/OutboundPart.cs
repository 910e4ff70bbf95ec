namespace SafeNotify.Crm.Ingress.Model;

/// <summary>Where one Twilio send stands.</summary>
public enum PartState
{
    Pending,

    /// <summary>The Twilio call is being made (committed before the call).</summary>
    Sending,

    /// <summary>Twilio refused for a moment (429, 5xx): sent again at <see cref="OutboundPart.NextAttemptAt"/>.</summary>
    RetryPending,

    Sent,
    DeliveryUnknown,
    Failed,
}

/// <summary>One Twilio send of an outbound message (a part of its text, or its template); changed only through its message.</summary>
public sealed class OutboundPart
{
    internal OutboundPart(string outboundId, string tenantId, int index, string? body)
    {
        OutboundId = outboundId;
        TenantId = tenantId;
        Index = index;
        Body = body;
    }

    public string OutboundId { get; private set; }

    /// <summary>The message's tenant, repeated here so that row-level security guards the part's text too.</summary>
    public string TenantId { get; private set; }

    public int Index { get; private set; }
    public string? Body { get; private set; }
    public PartState State { get; private set; }
    public string? TwilioSid { get; private set; }

    /// <summary>Twilio's status (queued, sent, delivered, read, failed, ...), only ever moved forward.</summary>
    public string? TwilioStatus { get; private set; }

    public string? ErrorCode { get; private set; }
    public int Attempts { get; private set; }

    /// <summary>Not before: a retry's backoff, or the sending number's pacing slot.</summary>
    public DateTimeOffset? NextAttemptAt { get; private set; }

    /// <summary>A pacing slot reserved for this part while it waits for it (so waking up does not reserve another).</summary>
    public DateTimeOffset? PacedSlotAt { get; private set; }

    /// <summary>When the current Twilio call began; a part still "sending" long after that was interrupted.</summary>
    public DateTimeOffset? AttemptStartedAt { get; private set; }

    public DateTimeOffset? SentAt { get; private set; }

    /// <summary>Postgres' row version: of two deliveries claiming the same attempt, one commits and the other is refused.</summary>
    public uint Version { get; private set; }

    /// <summary>Whether an attempt may be claimed now: the part waits to be sent (first time or again).</summary>
    public bool MayBeClaimed => State is PartState.Pending or PartState.RetryPending;

    internal void PacedFor(DateTimeOffset slot, DateTimeOffset notBefore)
    {
        PacedSlotAt = slot;
        NextAttemptAt = notBefore;
    }

    internal void Claim(DateTimeOffset now)
    {
        State = PartState.Sending;
        AttemptStartedAt = now;
        PacedSlotAt = null;
        Attempts++;
    }

    internal void Sent(string twilioSid, string twilioStatus, DateTimeOffset now)
    {
        State = PartState.Sent;
        TwilioSid = twilioSid;
        TwilioStatus = twilioStatus;
        ErrorCode = null; // a refusal for a moment before this success (429's 20429) is not the part's error
        SentAt = now;
    }

    internal void RetryAt(DateTimeOffset at, string errorCode)
    {
        State = PartState.RetryPending;
        NextAttemptAt = at;
        ErrorCode = errorCode;
    }

    internal void Failed(string? errorCode)
    {
        State = PartState.Failed;
        ErrorCode = errorCode;
    }

    internal void LostInTheCall() => State = PartState.DeliveryUnknown;

    /// <summary>Moves Twilio's status forward (never back); false when the report is not news.</summary>
    internal bool StatusReported(string status, string? errorCode)
    {
        if (!Contracts.DeliveryStatuses.IsForward(TwilioStatus, status))
        {
            return false;
        }

        TwilioStatus = status.ToLowerInvariant();
        ErrorCode = string.IsNullOrEmpty(errorCode) ? ErrorCode : errorCode;
        return true;
    }
}
