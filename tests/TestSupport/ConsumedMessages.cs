using System.Collections.Concurrent;
using MassTransit;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// Notes which messages the service's own receive endpoints (queues named "{service}-...") finished
/// handling, by message id, and the last failure of each. A test waits until a delivery was handled (its
/// transaction committed), also a redelivered copy that changes nothing, instead of guessing with a delay.
/// </summary>
public sealed class ConsumedMessages : IConsumeObserver, IDisposable
{
    private readonly ConcurrentDictionary<Guid, int> _handled = new();
    private readonly ConcurrentDictionary<Guid, Exception> _lastFault = new();
    private readonly string? _service;
    private readonly ConnectHandle _handle;

    private ConsumedMessages(IBus bus, string? service)
    {
        _service = service;
        _handle = bus.ConnectConsumeObserver(this);
    }

    /// <summary>Observes the endpoints of <paramref name="service"/>, or every endpoint when it is null.</summary>
    public static ConsumedMessages Observe(IBus bus, string? service = null) => new(bus, service);

    /// <summary>Waits until <paramref name="messageId"/> was handled <paramref name="times"/> times; a timeout says its last failure.</summary>
    public async Task WaitAsync(Guid messageId, string what = "a message", int times = 1, TimeSpan? timeout = null)
    {
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(_handled.GetValueOrDefault(messageId) >= times),
                $"{_service ?? "the service"} to handle {what}", timeout ?? TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException ex) when (_lastFault.TryGetValue(messageId, out var fault))
        {
            throw new TimeoutException($"{ex.Message}; its last failure: {fault}", ex);
        }
    }

    Task IConsumeObserver.PreConsume<T>(ConsumeContext<T> context) => Task.CompletedTask;

    Task IConsumeObserver.PostConsume<T>(ConsumeContext<T> context)
    {
        if (IsOurs(context) && context.MessageId is { } id)
        {
            _handled.AddOrUpdate(id, 1, (_, count) => count + 1);
        }

        return Task.CompletedTask;
    }

    Task IConsumeObserver.ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
    {
        if (IsOurs(context) && context.MessageId is { } id)
        {
            _lastFault[id] = exception;
        }

        return Task.CompletedTask;
    }

    private bool IsOurs(ConsumeContext context) =>
        _service is null || context.ReceiveContext.InputAddress.AbsolutePath.TrimStart('/').StartsWith(_service + "-", StringComparison.Ordinal);

    public void Dispose() => _handle.Disconnect();
}
