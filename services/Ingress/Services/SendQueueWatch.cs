using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// What operators should hear about a customer's send queue: a message that went out without the one Lead numbered
/// before it, which never arrived within <see cref="TwilioOptions.OutboundStalledAfter"/> (a lost command, or one still
/// stuck upstream). Counted in <c>safenotify.ingress.outbound.without_predecessor</c>, and shown for an hour by the
/// <c>send-queues</c> health check of the instance that sent it.
/// </summary>
public sealed class SendQueueWatch(IMeterFactory meters, TimeProvider time)
{
    public static readonly TimeSpan ShownFor = TimeSpan.FromHours(1);

    private readonly Lock _gate = new();
    private readonly Queue<(DateTimeOffset At, string OutboundId)> _recent = new();

    private readonly Counter<long> _withoutPredecessor = meters.Create(ServiceDefaultsExtensions.ActivitySourceName)
        .CreateCounter<long>("safenotify.ingress.outbound.without_predecessor", "{message}",
            "Messages sent without the message numbered before them in their customer's queue, which never arrived.");

    public void WentWithoutPredecessor(string outboundId)
    {
        _withoutPredecessor.Add(1);
        lock (_gate)
        {
            _recent.Enqueue((time.GetUtcNow(), outboundId));
            Forget();
        }
    }

    /// <summary>Those of the last hour, the latest last.</summary>
    public IReadOnlyList<string> Recent()
    {
        lock (_gate)
        {
            Forget();
            return _recent.Select(r => r.OutboundId).ToList();
        }
    }

    private void Forget()
    {
        var since = time.GetUtcNow() - ShownFor;
        while (_recent.TryPeek(out var oldest) && (oldest.At < since || _recent.Count > 100))
        {
            _recent.Dequeue();
        }
    }
}

/// <summary>Degraded while <see cref="SendQueueWatch"/> saw a message go without its predecessor in the last hour.</summary>
public sealed class SendQueueHealthCheck(SendQueueWatch watch) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var recent = watch.Recent();
        return Task.FromResult(recent.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded(
                $"{recent.Count} message(s) went out in the last hour without the message numbered before them, which never arrived (latest: {recent[^1]})",
                data: new Dictionary<string, object> { ["withoutPredecessor"] = recent.Count, ["latest"] = recent[^1] }));
    }
}
