namespace SafeNotify.Crm.Messaging;

/// <summary>
/// An aggregate of a service's model: its methods change its state and raise the messages the change causes. The unit
/// of work (<see cref="MessagingDbContext"/>'s save) writes what its tracked aggregates raised to the outbox, in the
/// transaction that saves their state: a change and the events it causes commit together or not at all.
/// </summary>
public abstract class Aggregate
{
    private List<RaisedMessage>? _raised;

    /// <summary>
    /// Publishes <paramref name="message"/> with the change: in order with the other messages of
    /// <paramref name="orderingKey"/>, not before <paramref name="dueAt"/> when it is a timer.
    /// </summary>
    protected void Raise(object message, string? orderingKey, DateTimeOffset? dueAt = null) =>
        (_raised ??= []).Add(new RaisedMessage(message, orderingKey, dueAt));

    /// <summary>What was raised since the last save, in order, handed over once.</summary>
    public IReadOnlyList<RaisedMessage> TakeRaised()
    {
        var raised = _raised ?? [];
        _raised = null;
        return raised;
    }
}

/// <summary>A message an aggregate raised, waiting for its unit of work to write it to the outbox.</summary>
public sealed record RaisedMessage(object Message, string? OrderingKey, DateTimeOffset? DueAt);
