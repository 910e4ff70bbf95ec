using System.Net.Sockets;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.TestSupport;

/// <summary>A private, throw-away RabbitMQ node. It can be stopped and started again on the same port and data.</summary>
public sealed class RabbitMqServer() : ServerProcess("rabbitmq")
{
    public const string User = "safenotify";
    public const string Password = "test-broker";
    private readonly int _distributionPort = FreePorts.Next();

    protected override string Script => "rabbitmq.sh";

    protected override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["RABBITMQ_STATE_DIR"] = Path.Combine(StateDirectory, "rabbitmq"),
        ["RABBITMQ_NODE_PORT"] = Port.ToString(),
        ["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(),
        ["RABBITMQ_USER"] = User,
        ["RABBITMQ_PASSWORD"] = Password,
    };

    public string ConnectionString => $"amqp://{User}:{Password}@127.0.0.1:{Port}/";

    /// <summary>Answers AMQP 0-9-1's protocol header with Connection.Start, as the AppHost's health check asks.</summary>
    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), timeout.Token);
            var frame = new byte[11];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            return frame[0] == 1 && frame[8] == 10 && frame[10] == 10;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or EndOfStreamException)
        {
            return false;
        }
    }
}
