using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
                if (pass.Claimed > 0)
                {
                    continue; // there may be more: the next message of each key, or a full batch's tail
                }

                await PurgeIfDueAsync(stoppingToken);
                await signal.WaitAsync(_options.PollInterval, stoppingToken);
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

    private readonly record struct PassResult(int Claimed, bool BrokerUnavailable);

    /// <summary>Claims up to a batch of due rows (at most one per key) and publishes them concurrently.</summary>
    private async Task<PassResult> DispatchPassAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
        var table = db.Model.FindEntityType(typeof(OutboxMessage))!.GetSchemaQualifiedTableName();
        db.Database.AutoSavepointsEnabled = false; // a failed pass is rolled back whole and tried again: no savepoint round trips

        var floor = await FloorAsync(db, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The table name comes from the EF model and the sizes from options, never from input.
        // A row is taken only when it is the oldest pending row of its key, so one key's messages go out one after
        // another; locked rows are skipped, and the lock re-checks a row is still pending (another instance may have
        // dispatched it meanwhile).
        // The cost of a pass must not grow with the backlog, or a dispatcher that falls behind falls further behind
        // (measured: 83 ms a pass at 20,000 pending rows, then 217 ms at 1,100 with a plan chosen on stale
        // statistics, against 3 ms for this). So the test runs only on a window of the earliest due rows, read once
        // through their own partial index into an array, and those rows are then found by primary key: no plan
        // can run the per-key test over every pending row. When a window full of due rows holds none that is
        // free (all wait for an older row of their key, one backing off or a timer not yet due), the window
        // doubles until it reaches rows of free keys; it returns to its size after a pass that fills the batch.
        // {0} is the floor (see FloorAsync), a parameter.
        var dueRows = $"FROM {table} AS c WHERE c.dispatched_at IS NULL AND c.failed_at IS NULL AND c.next_attempt_at <= now() AND c.next_attempt_at >= {{0}}";
        var claim = $"""
                SELECT o.* FROM {table} AS o
                WHERE o.sequence = ANY (ARRAY(
                    SELECT c.sequence {dueRows}
                    ORDER BY c.next_attempt_at, c.sequence
                    LIMIT {_window}))
                  AND o.dispatched_at IS NULL AND o.failed_at IS NULL
                  AND o.sequence = (
                    SELECT min(e.sequence) FROM {table} AS e
                    WHERE e.ordering_key = o.ordering_key AND e.dispatched_at IS NULL AND e.failed_at IS NULL)
                ORDER BY o.next_attempt_at, o.sequence
                LIMIT {_options.BatchSize}
                FOR UPDATE SKIP LOCKED
                """;
        var rows = await db.OutboxMessages.FromSqlRaw(claim, floor).ToListAsync(cancellationToken);
        if (rows.Count == _options.BatchSize)
        {
            _window = WindowBatches * _options.BatchSize;
        }

        if (rows.Count == 0)
        {
            // Nothing free in the window: if the window was full of due rows, free keys may wait behind it.
            var countDue = $"""SELECT count(*)::int AS "Value" FROM (SELECT 1 {dueRows} LIMIT {_window}) AS due""";
            var due = await db.Database.SqlQueryRaw<int>(countDue, floor).SingleAsync(cancellationToken);
            if (due == _window)
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

        // Should this commit be lost in a crash, its rows are only published again, and every consumer's inbox drops
        // a repeat. So it does not wait for the disk: at hundreds of passes a second those waits held the WAL flush
        // that the commits acknowledging webhooks queue behind.
        await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit = off", cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new PassResult(rows.Count, !brokerHealthy);
    }

    /// <summary>
    /// Where a pass starts looking in the due index. Dispatched rows leave that partial index only when vacuum removes
    /// them, and it cannot while any transaction older than them is open (a consumer starved of CPU mid-transaction on
    /// a busy machine): a pass from the index's start then read 3,000-6,000 such entries, 5 ms a pass at 65 passes a
    /// second. So passes start at the earliest pending row, measured at most once per poll interval, or at
    /// <see cref="OutboxOptions.LateCommitGrace"/> ago if that is earlier. A row written before the floor that commits
    /// after it was measured (a transaction slower than the grace) is found when the floor is next measured.
    /// </summary>
    private async Task<DateTimeOffset> FloorAsync(TDbContext db, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now >= _nextFloorCheck)
        {
            var earliestPending = await db.OutboxMessages
                .Where(m => m.DispatchedAt == null && m.FailedAt == null)
                .MinAsync(m => (DateTimeOffset?)m.NextAttemptAt, cancellationToken);
            _floor = earliestPending ?? DateTimeOffset.MaxValue;
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
