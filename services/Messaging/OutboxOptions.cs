namespace SafeNotify.Crm.Messaging;

/// <summary>Tuning of the outbox dispatcher; the defaults suit a service on a small machine.</summary>
public sealed class OutboxOptions
{
    /// <summary>How often to look for rows nobody woke us for (another instance's, or a crashed one's).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// The least time from one pass's start to the next's while messages keep coming (a full batch goes again at
    /// once): what a message may wait at this hop for its pass to carry others with it. At 500 messages a second
    /// each commit woke its own pass, one row and three round trips to the database each.
    /// </summary>
    public TimeSpan MinPassInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// How long after it was written a row may still commit and be dispatched at once. A pass looks no further back
    /// than this or the earliest row pending when last measured (each <see cref="PollInterval"/>); a slower
    /// transaction's rows wait for that measurement.
    /// </summary>
    public TimeSpan LateCommitGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one publish may wait for the broker's confirmation.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Failures of one message while the broker is healthy before it is parked as failed.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Longest wait between attempts, for a message and for the whole dispatcher while the broker is away.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Dispatched outbox rows and inbox rows are kept this long (the inbox must outlive any redelivery).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(10);
}
