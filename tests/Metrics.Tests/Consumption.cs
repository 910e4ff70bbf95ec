using System.Collections.Concurrent;
using MassTransit;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>
/// Observes the service's own receive endpoints (queues named "{service}-...") on the real broker: which
/// messages it has finished handling, its transaction committed. A test waits for that instead of sleeping,
/// also for a redelivered copy that changes nothing.
/// </summary>
public sealed class Consumption(string service) : IConsumeObserver
{
    private readonly ConcurrentDictionary<Guid, int> _handled = new();
    private readonly ConcurrentDictionary<Guid, Exception> _lastFault = new();

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (IsOurs(context) && context.MessageId is { } id)
        {
            _handled.AddOrUpdate(id, 1, (_, count) => count + 1);
        }

        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
    {
        if (IsOurs(context) && context.MessageId is { } id)
        {
            _lastFault[id] = exception;
        }

        return Task.CompletedTask;
    }

    /// <summary>Waits until the service has handled <paramref name="messageId"/> <paramref name="times"/> times.</summary>
    public async Task WaitAsync(Guid messageId, string what, int times = 1, TimeSpan? timeout = null)
    {
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(_handled.GetValueOrDefault(messageId) >= times),
                $"{service} to handle {what}", timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException ex) when (_lastFault.TryGetValue(messageId, out var fault))
        {
            throw new TimeoutException($"{ex.Message}; its last failure: {fault}", ex);
        }
    }

    private bool IsOurs(ConsumeContext context) =>
        context.ReceiveContext.InputAddress.AbsolutePath.TrimStart('/').StartsWith(service + "-", StringComparison.Ordinal);
}
