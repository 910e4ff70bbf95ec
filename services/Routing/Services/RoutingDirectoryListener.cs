using Npgsql;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// Listens on <c>routing_directory</c> and drops the snapshot of each tenant whose routing data another
/// transaction (on this or any instance) committed. While not connected the directory caches nothing, so a
/// missed notification can never leave a stale snapshot behind.
/// </summary>
public sealed class RoutingDirectoryListener(RoutingDirectory directory, IConfiguration configuration, ILogger<RoutingDirectoryListener> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("routing-db"))
        {
            KeepAlive = 15, // notice a dead connection within seconds, not at the next notification
            Pooling = false,
        }.ConnectionString;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) => directory.Invalidate(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {RoutingDirectory.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                directory.Enabled = true;
                logger.LogInformation("Routing directory cache on: listening for changes");
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                directory.Enabled = false;
                logger.LogWarning(ex, "Routing directory cache off until the change listener reconnects");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        directory.Enabled = false;
    }
}
