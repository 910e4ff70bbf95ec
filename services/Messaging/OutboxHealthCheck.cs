using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// Shows operators, in the dashboard and on <c>/health</c>, what the outbox holds back: messages parked as
/// failed, and how long the oldest due message has waited. Degraded, not unhealthy: the service still works.
/// </summary>
public sealed class OutboxHealthCheck<TDbContext>(TDbContext db, TimeProvider time) : IHealthCheck
    where TDbContext : DbContext, IMessagingDbContext
{
    public static readonly TimeSpan BacklogThreshold = TimeSpan.FromMinutes(1);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var failed = await db.OutboxMessages.CountAsync(m => m.FailedAt != null, cancellationToken);
        var oldestDue = await db.OutboxMessages
            .Where(m => m.DispatchedAt == null && m.FailedAt == null && m.NextAttemptAt <= now)
            .MinAsync(m => (DateTimeOffset?)m.NextAttemptAt, cancellationToken);
        var waiting = oldestDue is null ? TimeSpan.Zero : now - oldestDue.Value;
        var data = new Dictionary<string, object> { ["failed"] = failed, ["oldestDueSeconds"] = (int)waiting.TotalSeconds };

        if (failed > 0)
        {
            return HealthCheckResult.Degraded($"{failed} outbox message(s) parked as failed; see {typeof(TDbContext).Name} outbox_messages.failed_at", data: data);
        }

        return waiting > BacklogThreshold
            ? HealthCheckResult.Degraded($"The oldest outbox message has waited {waiting.TotalSeconds:0} s", data: data)
            : HealthCheckResult.Healthy(data: data);
    }
}
