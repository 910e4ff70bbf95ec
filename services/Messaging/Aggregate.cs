namespace SafeNotify.Crm.Messaging;

/// <summary>
/// An aggregate of a service's model: its methods change its state and raise the messages the change causes. The unit
/// of work (<see cref="MessagingDbContext"/>'s save) writes what its tracked aggregates raised to the outbox, in the
/// transaction that saves their state: a change and the events it causes commit together or not at all.
/// </summary>
public abstract class Aggregate
{
    private List<RaisedMessage>? _raised;
    private List<RaisedAudit>? _audits;

    /// <summary>
    /// Publishes <paramref name="message"/> with the change: in order with the other messages of
    /// <paramref name="orderingKey"/>, not before <paramref name="dueAt"/> when it is a timer.
    /// </summary>
    protected void Raise(object message, string? orderingKey, DateTimeOffset? dueAt = null) =>
        (_raised ??= []).Add(new RaisedMessage(message, orderingKey, dueAt));

    /// <summary>
    /// A change enters the audit trail with the change: as the system's when the service made it by itself (on a message or
    /// a timer), else as <paramref name="actor"/>'s. <paramref name="detail"/> names ids and reasons, never the customer's words.
    /// </summary>
    protected void RaiseAudit(string? tenantId, string action, string targetType, string targetId, string detail, DateTimeOffset at,
        ServiceDefaults.CallerIdentity? actor = null) =>
        (_audits ??= []).Add(new RaisedAudit(tenantId, action, targetType, targetId, detail, at, actor));

    /// <summary>The audit entries raised since the last save, handed over once.</summary>
    public IReadOnlyList<RaisedAudit> TakeAudits()
    {
        var audits = _audits ?? [];
        _audits = null;
        return audits;
    }

    /// <summary>What was raised since the last save, in order, handed over once.</summary>
    public IReadOnlyList<RaisedMessage> TakeRaised()
    {
        var raised = _raised ?? [];
        _raised = null;
        return raised;
    }
}

/// <summary>A change for the audit trail, made by <paramref name="Actor"/> or, without one, by the system (the unit of work names the service).</summary>
public sealed record RaisedAudit(string? TenantId, string Action, string TargetType, string TargetId, string Detail, DateTimeOffset At,
    ServiceDefaults.CallerIdentity? Actor = null);

/// <summary>A message an aggregate raised, waiting for its unit of work to write it to the outbox.</summary>
public sealed record RaisedMessage(object Message, string? OrderingKey, DateTimeOffset? DueAt);
