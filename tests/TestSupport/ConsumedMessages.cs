using System.Collections.Concurrent;
using MassTransit;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// Notes every message the service's own consumers finished (successfully or not), by message id: a test
/// can wait until a particular delivery was handled instead of guessing with a delay.
/// </summary>
public sealed class ConsumedMessages : IConsumeObserver, IDisposable
{
    private readonly ConcurrentDictionary<Guid, int> _handled = new();
    private readonly ConnectHandle _handle;

    private ConsumedMessages(IBus bus) => _handle = bus.ConnectConsumeObserver(this);

    public static ConsumedMessages Observe(IBus bus) => new(bus);

    public Task WaitForAsync(Guid messageId, int times = 1, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Task.FromResult(_handled.GetValueOrDefault(messageId) >= times), $"message {messageId} to be consumed {times}x", timeout);

    Task IConsumeObserver.PreConsume<T>(ConsumeContext<T> context) => Task.CompletedTask;

    Task IConsumeObserver.PostConsume<T>(ConsumeContext<T> context) => Note(context);

    Task IConsumeObserver.ConsumeFault<T>(ConsumeContext<T> context, Exception exception) => Note(context);

    private Task Note(ConsumeContext context)
    {
        if (context.MessageId is { } id)
        {
            _handled.AddOrUpdate(id, 1, (_, count) => count + 1);
        }

        return Task.CompletedTask;
    }

    public void Dispose() => _handle.Disconnect();
}
