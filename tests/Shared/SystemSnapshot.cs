using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Npgsql;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// Where the messages are: each service's outbox (pending and due, pending for later such as a timer, parked as
/// failed), Ingress's sends still under way, and every broker queue's depth, error queues included. The fault tests
/// wait on it until the system is quiet, the benchmarks until a run's work is all done; any failing test may print it.
/// Compiled into the end-to-end tests and the benchmarks, which both boot the AppHost.
/// </summary>
public sealed record SystemSnapshot(IReadOnlyList<SystemSnapshot.Outbox> Outboxes, int? SendsUnderWay, IReadOnlyList<SystemSnapshot.Queue>? Queues,
    IReadOnlyList<string> Unreadable)
{
    /// <summary>One service's outbox. <paramref name="Later"/> are rows due in the future: timers, and retries not yet due.</summary>
    public sealed record Outbox(string Service, long Due, long Later, long Parked, DateTimeOffset? OldestDue, string? DueTypes, string? LastError);

    public sealed record Queue(string Name, long Ready, long Unacknowledged, long Consumers);

    /// <summary>
    /// Nothing left to do now: every outbox without a due row, no send under way at Ingress, every queue empty. Timers
    /// set for later may remain; a message parked as failed is not work left but a fault, which <see cref="Parked"/> shows.
    /// </summary>
    public bool IsQuiet => Unreadable.Count == 0 && Outboxes.All(o => o.Due == 0) && SendsUnderWay == 0
        && Queues is not null && Queues.All(q => q.Ready == 0 && q.Unacknowledged == 0);

    public long Parked => Outboxes.Sum(o => o.Parked);

    /// <summary>Messages waiting for a consumer in <paramref name="service"/>'s queues (its queues are named after it).</summary>
    public long QueuedFor(string service) =>
        Queues?.Where(q => q.Name.StartsWith(service + "-", StringComparison.Ordinal)).Sum(q => q.Ready + q.Unacknowledged) ?? 0;

    /// <summary>
    /// Reads every service's outbox, Ingress's sends and the broker's queues of the system <paramref name="app"/> runs on
    /// <paramref name="stateDirectory"/>. Never fails: what it cannot read it lists.
    /// </summary>
    public static async Task<SystemSnapshot> TakeAsync(DistributedApplication app, string stateDirectory)
    {
        var unreadable = new List<string>();
        var outboxes = new List<Outbox>();
        int? sendsUnderWay = null;
        foreach (var service in ResourceNames.Services)
        {
            try
            {
                await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync(ResourceNames.Database(service)));
                await connection.OpenAsync();
                // The schema is the service's name; it comes from our own list, never from input.
                await using var command = new NpgsqlCommand($"""
                    SELECT count(*) FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()),
                           count(*) FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL AND next_attempt_at > now()),
                           count(*) FILTER (WHERE failed_at IS NOT NULL),
                           min(next_attempt_at) FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()),
                           string_agg(DISTINCT message_type, ', ') FILTER (WHERE dispatched_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()),
                           max(last_error) FILTER (WHERE dispatched_at IS NULL)
                    FROM {service}.outbox_messages
                    """, connection);
                await using (var reader = await command.ExecuteReaderAsync())
                {
                    await reader.ReadAsync();
                    outboxes.Add(new Outbox(service, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2),
                        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                        reader.IsDBNull(5) ? null : reader.GetString(5)));
                }

                if (service == ResourceNames.Ingress)
                {
                    // Sends are a tenant's rows: read across tenants, as Ingress's own timers do.
                    await using var transaction = await connection.BeginTransactionAsync();
                    await using var role = new NpgsqlCommand($"SET LOCAL ROLE {service}_all_tenants", connection, transaction);
                    await role.ExecuteNonQueryAsync();
                    await using var sends = new NpgsqlCommand("SELECT count(*) FROM ingress.outbound_messages WHERE state = 'Pending'", connection, transaction);
                    sendsUnderWay = (int)(long)(await sends.ExecuteScalarAsync())!;
                }
            }
            catch (Exception ex)
            {
                unreadable.Add($"{service}'s database ({ex.GetType().Name}: {ex.Message})");
            }
        }

        var queues = await QueuesAsync(stateDirectory, unreadable);
        return new SystemSnapshot(outboxes, sendsUnderWay, queues, unreadable);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var o in Outboxes)
        {
            text.AppendLine($"{o.Service} outbox: {o.Due} due, {o.Later} for later, {o.Parked} parked" +
                (o.OldestDue is { } oldest ? $", oldest due {oldest:HH:mm:ss.fff} ({o.DueTypes})" : "") +
                (o.LastError is { } error ? $", last error: {error}" : ""));
        }

        text.AppendLine($"ingress sends under way: {SendsUnderWay?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");
        text.AppendLine("broker queues (name, ready, unacknowledged, consumers):");
        foreach (var q in Queues ?? [])
        {
            text.AppendLine($"  {q.Name} {q.Ready} {q.Unacknowledged} {q.Consumers}");
        }

        foreach (var what in Unreadable)
        {
            text.AppendLine($"unreadable: {what}");
        }

        return text.ToString();
    }

    /// <summary>Asks the private RabbitMQ node itself, as rabbitmq.sh set it up (its node name and cookie come from its folder).</summary>
    private static async Task<List<Queue>?> QueuesAsync(string stateDirectory, List<string> unreadable)
    {
        try
        {
            var folder = Path.Combine(stateDirectory, "rabbitmq");
            var start = new ProcessStartInfo("bash", ["-c",
                """
                node_id=$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)
                HOME="$STATE/home" RABBITMQ_NODENAME="safenotify-$node_id@localhost" \
                  timeout 20 /usr/lib/rabbitmq/bin/rabbitmqctl -q list_queues --no-table-headers name messages_ready messages_unacknowledged consumers 2>&1
                """])
            {
                RedirectStandardOutput = true,
                Environment = { ["STATE"] = folder },
            };
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            var queues = new List<Queue>();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var fields = line.Split('\t', ' ');
                if (process.ExitCode != 0 || fields.Length != 4 || !long.TryParse(fields[1], out var ready)
                    || !long.TryParse(fields[2], out var unacknowledged) || !long.TryParse(fields[3], out var consumers))
                {
                    unreadable.Add($"the broker's queues (rabbitmqctl said: {output.Trim()})");
                    return null;
                }

                queues.Add(new Queue(fields[0], ready, unacknowledged, consumers));
            }

            return queues;
        }
        catch (Exception ex)
        {
            unreadable.Add($"the broker's queues ({ex.GetType().Name}: {ex.Message})");
            return null;
        }
    }
}
