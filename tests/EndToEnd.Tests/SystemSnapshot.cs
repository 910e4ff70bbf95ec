using System.Diagnostics;
using System.Text;
using Npgsql;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Where the messages are, for a failing test to report: each service's outbox (pending, parked as failed, the
/// oldest pending) and every broker queue's depth, error queues included. Never fails itself: what it cannot read it
/// says it could not.
/// </summary>
public static class SystemSnapshot
{
    public static async Task<string> DescribeAsync(SystemFixture system)
    {
        var text = new StringBuilder();
        foreach (var service in ResourceNames.Services)
        {
            try
            {
                await using var connection = new NpgsqlConnection(await system.App.GetConnectionStringAsync(ResourceNames.Database(service)));
                await connection.OpenAsync();
                // The schema is the service's name; it comes from our own list, never from input.
                await using var command = new NpgsqlCommand($"""
                    SELECT count(*) FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL),
                           count(*) FILTER (WHERE failed_at IS NOT NULL),
                           min(next_attempt_at) FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL),
                           string_agg(DISTINCT message_type, ', ') FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL),
                           max(last_error) FILTER (WHERE dispatched_at IS NULL)
                    FROM {service}.outbox_messages
                    """, connection);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                text.AppendLine($"{service} outbox: {reader.GetInt64(0)} pending, {reader.GetInt64(1)} parked" +
                    (reader.IsDBNull(2) ? "" : $", oldest due {reader.GetFieldValue<DateTimeOffset>(2):HH:mm:ss.fff} ({reader.GetString(3)})") +
                    (reader.IsDBNull(4) ? "" : $", last error: {reader.GetString(4)}"));
            }
            catch (Exception ex)
            {
                text.AppendLine($"{service} outbox: unreadable ({ex.GetType().Name}: {ex.Message})");
            }
        }

        text.AppendLine("broker queues (name, ready, unacknowledged, consumers):");
        text.AppendLine(await QueuesAsync(system.StateDirectory));
        return text.ToString();
    }

    /// <summary>Asks the private RabbitMQ node itself, as rabbitmq.sh set it up (its node name and cookie come from its folder).</summary>
    private static async Task<string> QueuesAsync(string stateDirectory)
    {
        try
        {
            var folder = Path.Combine(stateDirectory, "rabbitmq");
            var start = new ProcessStartInfo("bash", ["-c",
                """
                node_id=$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)
                HOME="$STATE/home" RABBITMQ_NODENAME="safenotify-$node_id@localhost" \
                  timeout 20 /usr/lib/rabbitmq/bin/rabbitmqctl -q list_queues name messages_ready messages_unacknowledged consumers 2>&1
                """])
            {
                RedirectStandardOutput = true,
                Environment = { ["STATE"] = folder },
            };
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return output.Trim();
        }
        catch (Exception ex)
        {
            return $"unreadable ({ex.GetType().Name}: {ex.Message})";
        }
    }
}
