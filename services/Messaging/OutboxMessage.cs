namespace SafeNotify.Crm.Messaging;

/// <summary>
/// A message written in the same transaction as the state change that caused it, published to the
/// broker by <see cref="OutboxDispatcher{TDbContext}"/> after commit.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>The outbox's table, in each service's own schema.</summary>
    public const string Table = "outbox_messages";

    /// <summary>Commit order; messages of one <see cref="OrderingKey"/> are published in this order.</summary>
    public long Sequence { get; set; }

    /// <summary>Becomes the broker message id, so a consumer's inbox recognises a republished copy.</summary>
    public Guid MessageId { get; set; }

    public required string MessageType { get; set; }
    public required string Body { get; set; }

    /// <summary>Messages with the same key (a conversation, a tenant) go out one at a time, in order.</summary>
    public required string OrderingKey { get; set; }

    /// <summary>W3C trace context of the transaction that wrote the row, so one trace spans the hop.</summary>
    public string? TraceParent { get; set; }
    public string? TraceState { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Not published before this time: a delayed message (a timer) or a retry's backoff.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    public DateTimeOffset? DispatchedAt { get; set; }

    /// <summary>Set when the message kept failing; operators see it, the dispatcher stops trying.</summary>
    public DateTimeOffset? FailedAt { get; set; }

    public int Attempts { get; set; }
    public string? LastError { get; set; }
}

/// <summary>A message a consumer has handled, recorded in the same transaction as what it changed.</summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }
    public required string Consumer { get; set; }
    public DateTimeOffset ProcessedAt { get; set; }
}
