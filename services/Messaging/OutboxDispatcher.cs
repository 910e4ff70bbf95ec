using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// Publishes committed outbox rows to the broker. Woken on commit by <see cref="OutboxSignal{TDbContext}"/>,
/// polling only as the fallback. Safe with several instances: rows are claimed with
/// <c>FOR UPDATE SKIP LOCKED</c>, and a row is taken only when no older row of its ordering key is pending, so
/// the messages of one key are published one after another, in order, whichever instance publishes them.
/// A pass costs the same whatever the backlog: it looks at a bounded window of the earliest due rows.
/// </summary>
public sealed partial class OutboxDispatcher<TDbContext>(
    IServiceScopeFactory scopes,
    DirectConnections<TDbContext> connections,
    IBus bus,
    OutboxSignal<TDbContext> signal,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxDispatcher<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext, IMessagingDbContext
{
    private readonly OutboxOptions _options = options.Value;
    private DateTimeOffset _nextPurge = DateTimeOffset.MinValue;
    private DateTimeOffset _floor = DateTimeOffset.MinValue;
    private DateTimeOffset _nextFloorCheck = DateTimeOffset.MinValue;
    private int _window = WindowBatches * options.Value.BatchSize;
    private readonly string _table = $"{connections.Schema}.{OutboxMessage.Table}";

    /// <summary>A pass considers this many batches' worth of the earliest due rows (see the claim), more when they all wait.</summary>
    private const int WindowBatches = 4;

    private const int MaxWindow = 1 << 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var brokerBackoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var started = time.GetTimestamp();
                var pass = await DispatchPassAsync(stoppingToken);
                if (pass.BrokerUnavailable)
                {
                    brokerBackoff = brokerBackoff == TimeSpan.Zero
                        ? TimeSpan.FromMilliseconds(250)
                        : TimeSpan.FromTicks(Math.Min(brokerBackoff.Ticks * 2, _options.MaxBackoff.Ticks));
                    LogBrokerUnavailable(logger, brokerBackoff.TotalSeconds);
                    await Task.Delay(brokerBackoff, time, stoppingToken);
                    continue;
                }

                brokerBackoff = TimeSpan.Zero;
                if (pass.Claimed == _options.BatchSize)
                {
                    continue; // a backlog: drain it at full speed
                }

                if (!pass.MoreOfTheirKeys)
                {
                    // Nothing known to wait: sleep until a commit (or the poll). The next message of a key the pass
                    // published needs no wake-up of its own: it was committed already, and the pass said so.
                    await PurgeIfDueAsync(stoppingToken);
                    await signal.WaitAsync(_options.PollInterval, stoppingToken);
                }

                // Under a steady stream every commit wakes the dispatcher, and a pass costs the same three round trips
                // for one row or a hundred: spaced passes each carry what committed meanwhile.
                var wait = _options.MinPassInterval - time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database itself is away (restart, failover): wait and try again, never die.
                LogPassFailed(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <param name="MoreOfTheirKeys">A claimed row's key has a later row pending: it is free once this pass commits.</param>
    private readonly record struct PassResult(int Claimed, bool BrokerUnavailable, bool MoreOfTheirKeys = false);

    /// <summary>
    /// Claims up to a batch of due rows (at most one per key), publishes them concurrently and records the outcomes:
    /// three round trips on a <see cref="DirectConnections{TDbContext}"/> connection (the claim, one update for every
    /// row, the commit), where EF took five and the pool's reset. A pass runs for every commit that wrote outbox rows,
    /// hundreds a second under load, so its overhead was a large share of a service's database CPU.
    /// </summary>
    private async Task<PassResult> DispatchPassAsync(CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        var floor = await FloorAsync(connection, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = await ClaimAsync(connection, floor, cancellationToken);
        var rows = claimed.Rows;
        if (rows.Count == _options.BatchSize)
        {
            _window = WindowBatches * _options.BatchSize;
        }

        if (rows.Count == 0)
        {
            // Nothing free in the window: if the window was full of due rows, free keys may wait behind it.
            await using var countDue = new NpgsqlCommand($"SELECT count(*)::int FROM (SELECT 1 {DueRows} LIMIT {_window}) AS due", connection);
            countDue.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = floor });
            if ((int)(await countDue.ExecuteScalarAsync(cancellationToken))! == _window)
            {
                _window = Math.Min(_window * 2, MaxWindow);
            }

            return new PassResult(0, false);
        }

        var outcomes = await Task.WhenAll(rows.Select(row => PublishAsync(row, cancellationToken)));
        var now = time.GetUtcNow();
        var anyPublished = outcomes.Any(o => o is null);
        var brokerHealthy = anyPublished || bus is IBusControl control && control.CheckHealth().Status == BusHealthStatus.Healthy;

        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var error = outcomes[i];
            if (error is null)
            {
                row.DispatchedAt = now;
                continue;
            }

            row.LastError = Truncate(error.Message, 2000);
            if (error is OutboxPoisonException)
            {
                row.FailedAt = now;
                LogParked(logger, row.MessageId, row.MessageType, error.Message);
                continue;
            }

            if (!brokerHealthy)
            {
                continue; // not this message's fault: it keeps its place and its attempt count
            }

            row.Attempts++;
            if (row.Attempts >= _options.MaxAttempts)
            {
                row.FailedAt = now;
                LogParked(logger, row.MessageId, row.MessageType, error.Message);
            }
            else
            {
                var backoff = TimeSpan.FromMilliseconds(Math.Min(250 * Math.Pow(2, row.Attempts), _options.MaxBackoff.TotalMilliseconds));
                row.NextAttemptAt = now + backoff;
            }
        }

        // Every claimed row is written back (a row the broker could not take unchanged, which costs nothing extra in one statement).
        await using (var update = UpdateCommand(connection, rows))
        {
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new PassResult(rows.Count, !brokerHealthy, claimed.MoreOfTheirKeys);
    }

    /// <summary>The pending rows a pass may look at: due, and no earlier than the floor ($1, see <see cref="FloorAsync"/>).</summary>
    private string DueRows => $"FROM {_table} AS c WHERE c.dispatched_at IS NULL AND c.failed_at IS NULL AND c.next_attempt_at <= now() AND c.next_attempt_at >= $1";

    /// <summary>
    /// Locks and reads up to a batch of rows that are due and the oldest pending row of their key, so one key's messages
    /// go out one after another; locked rows are skipped, and the lock re-checks a row is still pending (another
    /// instance may have dispatched it meanwhile).
    /// <para>
    /// The cost of a pass must not grow with the backlog, or a dispatcher that falls behind falls further behind
    /// (measured: 83 ms a pass at 20,000 pending rows, then 217 ms at 1,100 with a plan chosen on stale statistics,
    /// against 3 ms for this). So the test runs only on a window of the earliest due rows, read once through their
    /// own partial index into an array, and those rows are then found by primary key: no plan can run the per-key
    /// test over every pending row. When a window full of due rows holds none that is free (all wait for an older
    /// row of their key, one backing off or a timer not yet due), the window doubles until it reaches rows of free
    /// keys; it returns to its size after a pass that fills the batch.
    /// </para>
    /// <para>
    /// Should the pass's commit be lost in a crash, its rows are only published again, and every consumer's inbox
    /// drops a repeat. So it does not wait for the disk: at hundreds of passes a second those waits held the WAL
    /// flush that the commits acknowledging webhooks queue behind.
    /// </para>
    /// </summary>
    private async Task<(List<OutboxMessage> Rows, bool MoreOfTheirKeys)> ClaimAsync(NpgsqlConnection connection, DateTimeOffset floor, CancellationToken cancellationToken)
    {
        // The table comes from the service's schema and the sizes from options, never from input.
        await using var claim = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SET LOCAL synchronous_commit = off"),
                new NpgsqlBatchCommand($"""
                    SELECT o.sequence, o.message_id, o.message_type, o.body::text, o.ordering_key, o.trace_parent, o.trace_state,
                        o.next_attempt_at, o.attempts,
                        EXISTS (SELECT FROM {_table} AS n WHERE n.ordering_key = o.ordering_key AND n.sequence > o.sequence
                            AND n.dispatched_at IS NULL AND n.failed_at IS NULL) AS more_of_its_key
                    FROM {_table} AS o
                    WHERE o.sequence = ANY (ARRAY(
                        SELECT c.sequence {DueRows}
                        ORDER BY c.next_attempt_at, c.sequence
                        LIMIT {_window}))
                      AND o.dispatched_at IS NULL AND o.failed_at IS NULL
                      AND o.sequence = (
                        SELECT min(e.sequence) FROM {_table} AS e
                        WHERE e.ordering_key = o.ordering_key AND e.dispatched_at IS NULL AND e.failed_at IS NULL)
                    ORDER BY o.next_attempt_at, o.sequence
                    LIMIT {_options.BatchSize}
                    FOR UPDATE SKIP LOCKED
                    """)
                {
                    Parameters = { new NpgsqlParameter<DateTimeOffset> { TypedValue = floor } },
                },
            },
        };

        var rows = new List<OutboxMessage>();
        var moreOfTheirKeys = false;
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new OutboxMessage
            {
                Sequence = reader.GetInt64(0),
                MessageId = reader.GetGuid(1),
                MessageType = reader.GetString(2),
                Body = reader.GetString(3),
                OrderingKey = reader.GetString(4),
                TraceParent = reader.IsDBNull(5) ? null : reader.GetString(5),
                TraceState = reader.IsDBNull(6) ? null : reader.GetString(6),
                NextAttemptAt = reader.GetFieldValue<DateTimeOffset>(7),
                Attempts = reader.GetInt32(8),
            });
            moreOfTheirKeys |= reader.GetBoolean(9);
        }

        return (rows, moreOfTheirKeys);
    }

    /// <summary>Records what became of every row of a pass in one statement.</summary>
    private NpgsqlCommand UpdateCommand(NpgsqlConnection connection, List<OutboxMessage> rows) => new($"""
        UPDATE {_table} AS o
        SET dispatched_at = u.dispatched_at, failed_at = u.failed_at, attempts = u.attempts,
            next_attempt_at = u.next_attempt_at, last_error = u.last_error
        FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::int[], $5::timestamptz[], $6::text[])
            AS u (sequence, dispatched_at, failed_at, attempts, next_attempt_at, last_error)
        WHERE o.sequence = u.sequence
        """, connection)
    {
        Parameters =
        {
            new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Sequence).ToArray() },
            new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = rows.Select(r => r.DispatchedAt).ToArray() },
            new NpgsqlParameter<DateTimeOffset?[]> { TypedValue = rows.Select(r => r.FailedAt).ToArray() },
            new NpgsqlParameter<int[]> { TypedValue = rows.Select(r => r.Attempts).ToArray() },
            new NpgsqlParameter<DateTimeOffset[]> { TypedValue = rows.Select(r => r.NextAttemptAt).ToArray() },
            new NpgsqlParameter<string?[]> { TypedValue = rows.Select(r => r.LastError).ToArray() },
        },
    };

    /// <summary>
    /// Where a pass starts looking in the due index. Dispatched rows leave that partial index only when vacuum removes
    /// them, and it cannot while any transaction older than them is open (a consumer starved of CPU mid-transaction on
    /// a busy machine): a pass from the index's start then read 3,000-6,000 such entries, 5 ms a pass at 65 passes a
    /// second. So passes start at the earliest pending row, measured at most once per poll interval, or at
    /// <see cref="OutboxOptions.LateCommitGrace"/> ago if that is earlier. A row written before the floor that commits
    /// after it was measured (a transaction slower than the grace) is found when the floor is next measured.
    /// </summary>
    private async Task<DateTimeOffset> FloorAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now >= _nextFloorCheck)
        {
            await using var earliest = new NpgsqlCommand(
                $"SELECT min(o.next_attempt_at) FROM {_table} AS o WHERE o.dispatched_at IS NULL AND o.failed_at IS NULL", connection);
            var earliestPending = await earliest.ExecuteScalarAsync(cancellationToken);
            _floor = earliestPending is DateTime utc ? new DateTimeOffset(utc, TimeSpan.Zero) : DateTimeOffset.MaxValue;
            _nextFloorCheck = now + _options.PollInterval;
        }

        var recent = now - _options.LateCommitGrace;
        return _floor < recent ? _floor : recent;
    }

    private async Task<Exception?> PublishAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        var type = Outbox.ResolveType(row.MessageType);
        if (type is null)
        {
            return new OutboxPoisonException($"Unknown message type '{row.MessageType}'.");
        }

        object message;
        try
        {
            message = JsonSerializer.Deserialize(row.Body, type, Outbox.SerializerOptions)
                ?? throw new JsonException("The body is null.");
        }
        catch (JsonException ex)
        {
            return new OutboxPoisonException($"The body cannot be read as {type.Name}: {ex.Message}");
        }

        // Continue the trace of the transaction that wrote the row: webhook → ... → Twilio is one trace.
        ActivityContext.TryParse(row.TraceParent, row.TraceState, isRemote: true, out var parent);
        using var activity = MessagingTelemetry.Source.StartActivity($"outbox publish {type.Name}", ActivityKind.Internal, parent);
        activity?.SetTag("messaging.message.id", row.MessageId.ToString());
        activity?.SetTag("safenotify.outbox.ordering_key", row.OrderingKey);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            await bus.Publish(message, type, Pipe.Execute<PublishContext>(context => context.MessageId = row.MessageId), timeout.Token);
            return null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return ex;
        }
    }

    private async Task PurgeIfDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < _nextPurge)
        {
            return;
        }

        _nextPurge = now + _options.PurgeInterval;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
        var cutoff = now - _options.Retention;
        var outbox = await db.OutboxMessages.Where(m => m.DispatchedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        var inbox = await db.InboxMessages.Where(m => m.ProcessedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        if (outbox + inbox > 0)
        {
            LogPurged(logger, outbox, inbox);
        }
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker is unavailable; outbox dispatch resumes in {Seconds:0.##} s")]
    private static partial void LogBrokerUnavailable(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "An outbox pass failed; retrying")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox message {MessageId} ({MessageType}) was parked as failed: {Reason}")]
    private static partial void LogParked(ILogger logger, Guid messageId, string messageType, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Outbox} dispatched outbox rows and {Inbox} inbox rows past retention")]
    private static partial void LogPurged(ILogger logger, int outbox, int inbox);
}

/// <summary>A message that can never be published as it is (unknown type, unreadable body).</summary>
internal sealed class OutboxPoisonException(string message) : Exception(message);

public static class MessagingTelemetry
{
    public static readonly ActivitySource Source = new(Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.ActivitySourceName);
}
