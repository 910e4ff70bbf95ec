namespace SafeNotify.Crm.Ingress.Model;

/// <summary>
/// Ingress's own timer: an outbound message has something due (its turn after the settle time, a retry's backoff, a
/// pacing slot, a stalled queue's watchdog). An outbox row with a due time, so a restart loses none.
/// </summary>
public sealed record OutboundSendDue(string OutboundId);
