using System.Collections.Concurrent;
using MassTransit;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// Records the <typeparamref name="T"/> messages published on the broker, through a temporary queue bound
/// to the message's exchange (deleted when disposed). What a service publishes is observed on the wire.
/// </summary>
public sealed class PublishedMessages<T> : IAsyncDisposable where T : class
{
    private readonly ConcurrentQueue<T> _messages = new();
    private HostReceiveEndpointHandle? _handle;

    public IReadOnlyList<T> All => _messages.ToList();

    public static async Task<PublishedMessages<T>> ConnectAsync(IBus bus)
    {
        var recorder = new PublishedMessages<T>();
        recorder._handle = bus.ConnectReceiveEndpoint(new TemporaryEndpointDefinition(), configureEndpoint: endpoint =>
            endpoint.Handler<T>(context =>
            {
                recorder._messages.Enqueue(context.Message);
                return Task.CompletedTask;
            }));
        await recorder._handle.Ready;
        return recorder;
    }

    /// <summary>The first recorded message that matches, waiting for it to arrive.</summary>
    public Task<T> FirstAsync(Func<T, bool> match, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(() => Task.FromResult(_messages.FirstOrDefault(match)), $"a published {typeof(T).Name}", timeout);

    public IReadOnlyList<T> Where(Func<T, bool> match) => _messages.Where(match).ToList();

    public async ValueTask DisposeAsync()
    {
        if (_handle is not null)
        {
            await _handle.StopAsync();
        }
    }
}
