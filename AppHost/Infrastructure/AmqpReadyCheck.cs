using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>
/// RabbitMQ is ready when it answers the AMQP 0-9-1 protocol header with a Connection.Start frame.
/// A bare TCP connect is not enough: a proxy or a half-started node accepts connections before it speaks.
/// </summary>
internal sealed class AmqpReadyCheck(Func<CancellationToken, ValueTask<(string Host, int Port)>> address) : IHealthCheck
{
    private static readonly byte[] ProtocolHeader = "AMQP\0\0\u0009\u0001"u8.ToArray();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var (host, port) = await address(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(ProtocolHeader, timeout.Token);

            // Frame header: type (1 = method), channel (2 bytes), size (4); then class 10, method 10.
            var frame = new byte[11];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            var isConnectionStart = frame[0] == 1 && frame[7] == 0 && frame[8] == 10 && frame[9] == 0 && frame[10] == 10;
            return isConnectionStart
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The broker answered, but not with AMQP 0-9-1 Connection.Start");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or EndOfStreamException)
        {
            return HealthCheckResult.Unhealthy("RabbitMQ is not ready yet", ex);
        }
    }
}
