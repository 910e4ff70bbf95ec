using System.Linq.Expressions;

namespace SafeNotify.Crm.Ingress.Model;

/// <summary>
/// The messages from one of our numbers to one customer form a queue: a message starts (its first part is sent) only
/// when no earlier message of the queue is still pending, in Lead's numbering (<see cref="OutboundMessage.QueueSequence"/>;
/// among equal numbers, the order Lead issued them, then the order they were recorded), and once its predecessor in that
/// numbering has arrived (or has been waited for long enough); a message that started first stays first. A message ends when every part was sent, a part failed for good, or a part's delivery is unknown: none of those
/// holds the customer's later messages back. Whoever starts or ends a message of a queue holds the queue's lock, so every
/// instance agrees, and the message that ends wakes the next one.
/// </summary>
public static class SendQueue
{
    /// <summary>A message ahead of another in its queue, and whether it is the one being sent.</summary>
    public sealed record Ahead(string OutboundId, bool Started);

    /// <summary>The lock of the queue <paramref name="message"/> belongs to.</summary>
    public static string LockKey(OutboundMessage message) => $"ingress-out:{message.From}:{message.To}";

    /// <summary>The messages of <paramref name="message"/>'s queue that must end before it starts.</summary>
    public static Expression<Func<OutboundMessage, bool>> AheadOf(OutboundMessage message) =>
        m => m.From == message.From && m.To == message.To && m.State == OutboundState.Pending && m.OutboundId != message.OutboundId
            && (m.StartedAt != null
                || m.QueueSequence < message.QueueSequence
                || (m.QueueSequence == message.QueueSequence && m.RequestedAt < message.RequestedAt)
                || (m.QueueSequence == message.QueueSequence && m.RequestedAt == message.RequestedAt && m.Sequence < message.Sequence));

    /// <summary>The message numbered just before <paramref name="message"/> in its queue, in whatever state.</summary>
    public static Expression<Func<OutboundMessage, bool>> PredecessorOf(OutboundMessage message) =>
        m => m.From == message.From && m.To == message.To && m.QueueSequence == message.QueueSequence - 1;

    /// <summary>The messages of <paramref name="message"/>'s queue still waiting for their turn; the first in order is next.</summary>
    public static Expression<Func<OutboundMessage, bool>> WaitingBehind(OutboundMessage message) =>
        m => m.From == message.From && m.To == message.To && m.State == OutboundState.Pending && m.StartedAt == null && m.OutboundId != message.OutboundId;
}
