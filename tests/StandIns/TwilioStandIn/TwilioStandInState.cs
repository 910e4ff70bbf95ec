namespace SafeNotify.Crm.TwilioStandIn;

/// <summary>A message sent through the Messages API, as the stand-in currently sees it.</summary>
public sealed record SentMessage(
    string Sid,
    string AccountSid,
    string? From,
    string To,
    string? Body,
    string? ContentSid,
    string? ContentVariables,
    string? MessagingServiceSid,
    IReadOnlyList<string> MediaUrls,
    string? StatusCallback,
    string Status,
    int? ErrorCode,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? SentAt)
{
    /// <summary>The W3C trace context the sender called with: which trace the send belongs to.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The fault this send met after it was taken (an answer delayed or never given): sent, though the sender may not know.</summary>
    public TwilioFaultMode? Fault { get; init; }
}

/// <summary>A customer message the stand-in posted to our inbound webhook.</summary>
public sealed record InboundMessage(
    string Sid,
    string AccountSid,
    string From,
    string To,
    string? Body,
    string? ProfileName,
    IReadOnlyList<string> MediaUrls,
    DateTimeOffset CreatedAt,
    int WebhookStatus);

/// <summary>One webhook the stand-in posted to us (inbound message or status callback) and our answer (0: no answer).</summary>
public sealed record WebhookDelivery(string Kind, string Url, string MessageSid, string? MessageStatus, int HttpStatus, DateTimeOffset At);

public enum TwilioFaultMode
{
    None,
    Status429,
    Status500,
    Status503,
    /// <summary>Synchronous 400 with code 63016 (outside the 24 h window).</summary>
    Error63016,
    /// <summary>Only wait <see cref="TwilioFault.DelayMs"/>, then answer normally.</summary>
    Delay,
    /// <summary>Accept the send (201 queued), then report <c>failed</c> with <see cref="TwilioFault.ErrorCode"/> by callback, as Twilio does.</summary>
    FailDelivery,

    /// <summary>Break the connection without taking the message: the sender cannot know it was not sent.</summary>
    DropBeforeAccept,

    /// <summary>Take the message, then break the connection before answering: sent, but the sender cannot know.</summary>
    DropAfterAccept,

    /// <summary>
    /// Take the message, then wait <see cref="TwilioFault.DelayMs"/> before answering: its status callbacks may reach
    /// the sender before the answer with the SID does, as they can from Twilio.
    /// </summary>
    DelayAfterAccept,
}

/// <summary>
/// A fault for the next <paramref name="Count"/> sends (0: until cleared). <paramref name="DelayMs"/> is waited
/// before answering in every mode, so "fail after a delay" is e.g. status503 with a delay.
/// </summary>
public sealed record TwilioFault(TwilioFaultMode Mode, int Count = 0, int DelayMs = 0, int? ErrorCode = null);

/// <summary>The stand-in's in-memory record; a singleton that in-process tests may inspect and drive directly.</summary>
public sealed class TwilioStandInState
{
    private readonly Lock _gate = new();
    private readonly List<SentMessage> _sent = [];
    private readonly List<InboundMessage> _inbound = [];
    private readonly List<WebhookDelivery> _webhooks = [];
    private TwilioFault? _fault;
    private int _faultRemaining;

    public IReadOnlyList<SentMessage> SentMessages { get { lock (_gate) { return [.. _sent]; } } }

    public IReadOnlyList<InboundMessage> InboundMessages { get { lock (_gate) { return [.. _inbound]; } } }

    public IReadOnlyList<WebhookDelivery> Webhooks { get { lock (_gate) { return [.. _webhooks]; } } }

    public SentMessage? FindMessage(string sid)
    {
        lock (_gate)
        {
            return _sent.Find(m => m.Sid == sid);
        }
    }

    /// <summary>Waits until a sent message matches (e.g. the bot's reply to a customer), polling the record.</summary>
    public async Task<SentMessage> WaitForMessageAsync(Func<SentMessage, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (true)
        {
            if (SentMessages.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No matching message was sent within {timeout}.");
            }
        }
    }

    /// <summary>Forgets every sent and inbound message and webhook delivery.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _sent.Clear();
            _inbound.Clear();
            _webhooks.Clear();
        }
    }

    public void SetFault(TwilioFault fault)
    {
        lock (_gate)
        {
            _fault = fault.Mode == TwilioFaultMode.None ? null : fault;
            _faultRemaining = fault.Count;
        }
    }

    public void ClearFault() => SetFault(new TwilioFault(TwilioFaultMode.None));

    /// <summary>The fault that applies to this send, if any; counts it against the fault's budget.</summary>
    public TwilioFault? TakeFault()
    {
        lock (_gate)
        {
            var fault = _fault;
            if (fault is not null && fault.Count > 0 && --_faultRemaining <= 0)
            {
                _fault = null;
            }

            return fault;
        }
    }

    internal void Add(SentMessage message)
    {
        lock (_gate)
        {
            _sent.Add(message);
        }
    }

    internal void Add(InboundMessage message)
    {
        lock (_gate)
        {
            _inbound.Add(message);
        }
    }

    internal void Add(WebhookDelivery delivery)
    {
        lock (_gate)
        {
            _webhooks.Add(delivery);
        }
    }

    /// <summary>Sets a message's status (whatever it was: Twilio itself may report out of order); null if unknown.</summary>
    internal SentMessage? SetStatus(string sid, string status, int? errorCode)
    {
        lock (_gate)
        {
            var index = _sent.FindIndex(m => m.Sid == sid);
            if (index < 0)
            {
                return null;
            }

            var now = DateTimeOffset.UtcNow;
            var current = _sent[index];
            var updated = current with
            {
                Status = status,
                ErrorCode = errorCode ?? current.ErrorCode,
                UpdatedAt = now,
                SentAt = current.SentAt ?? (status is "sent" or "delivered" or "read" ? now : null),
            };
            _sent[index] = updated;
            return updated;
        }
    }
}
