using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>How the webhook store groups the messages that arrive together.</summary>
public sealed class InboundStoreOptions
{
    /// <summary>Transactions in flight at once; each takes whatever webhooks queued while the others ran.</summary>
    public int Writers { get; set; } = 2;

    /// <summary>The most webhooks one transaction holds.</summary>
    public int MaxBatch { get; set; } = 100;
}

/// <summary>
/// Stores each inbound message once, stamps it with the next sequence of its (number, customer) pair, and writes
/// <see cref="WhatsAppMessageReceived"/> to the outbox in the same transaction.
/// <para>
/// Group commit: the webhooks that arrive while a transaction is in flight are written together in the next one,
/// and each is answered when that transaction has committed. A batch is one statement on a
/// <see cref="DirectConnections{TDbContext}"/> connection: one round trip and one flush to disk for one webhook or a
/// hundred. Through EF the same work took four round trips, the pool's seven-statement reset and a statement per row,
/// and at hundreds of webhooks a second that overhead, not the work, was most of the webhook's latency and of
/// Ingress's database CPU. Should a batch fail (a MessageSid that another instance is storing at the same moment,
/// one message the database refuses), each of its webhooks is written again on its own, so one cannot fail the others.
/// </para>
/// </summary>
public sealed partial class InboundStore(
    DirectConnections<IngressDbContext> connections,
    OutboxSignal<IngressDbContext> signal,
    TimeProvider time,
    IOptions<InboundStoreOptions> options,
    IMeterFactory meters,
    ILogger<InboundStore> logger)
    : BackgroundService
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly InboundStoreMetrics _metrics = new(meters);

    /// <summary>
    /// True once the message is stored (committed), false when its MessageSid was stored before (a Twilio retry, or
    /// the same webhook twice at once). Throws <see cref="InboundStoreStoppedException"/> once the service is stopping.
    /// </summary>
    public Task<bool> StoreAsync(ParsedInbound inbound, Dictionary<string, string> rawPayload, CancellationToken cancellationToken)
    {
        var pending = new Pending(inbound, rawPayload, Activity.Current, Stopwatch.GetTimestamp());
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InboundStoreStoppedException();
        }

        // A caller that gives up (Twilio's 15 s timeout) stops waiting; its message is still written, and Twilio's
        // retry of it is then recognised as stored.
        return pending.Stored.Task.WaitAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Writers)).Select(_ => Task.Run(WriteUntilStoppedAsync, CancellationToken.None)));

    /// <summary>Stops taking webhooks, then writes every one already taken before the service stops.</summary>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private async Task WriteUntilStoppedAsync()
    {
        var maxBatch = Math.Max(1, options.Value.MaxBatch);
        var batch = new List<Pending>(maxBatch);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < maxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            if (batch.Count > 0)
            {
                var started = Stopwatch.GetTimestamp();
                foreach (var pending in batch)
                {
                    _metrics.Queued.Record(Stopwatch.GetElapsedTime(pending.QueuedAt, started).TotalSeconds);
                }

                await WriteAsync(batch);
                _metrics.BatchSize.Record(batch.Count);
                _metrics.Transaction.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                batch.Clear();
            }
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            var stored = await WriteTogetherAsync(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Stored.TrySetResult(stored[i]);
            }
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            LogWrittenOneByOne(logger, batch.Count, ex.Message);
            foreach (var pending in batch)
            {
                await WriteAsync([pending]);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            batch[0].Stored.TrySetResult(false); // the same MessageSid, committed a moment ago by another transaction
        }
        catch (Exception ex)
        {
            batch[0].Stored.TrySetException(ex);
        }
    }

    /// <summary>
    /// One statement for the whole batch, so one round trip to Postgres and one commit: it leaves out the MessageSids
    /// stored before, moves each pair's counter once by its number of new messages, and inserts the new messages and
    /// their <see cref="WhatsAppMessageReceived"/> events with the sequences it handed out. The counters' row locks
    /// order concurrent batches of one customer, so sequence order is commit order; they are taken in key order, the
    /// same in every batch, so two batches cannot deadlock on them. Says for each webhook whether it was stored now.
    /// </summary>
    private async Task<bool[]> WriteTogetherAsync(List<Pending> batch)
    {
        // A MessageSid twice in one batch is the same webhook twice at once: the first is the one stored.
        var stored = new bool[batch.Count];
        var firsts = new List<int>(batch.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            if (seen.Add(batch[i].Inbound.MessageSid))
            {
                firsts.Add(i);
            }
        }

        var rows = new InboundBatch(firsts.Count);
        var receivedAt = time.GetUtcNow();
        for (var f = 0; f < firsts.Count; f++)
        {
            rows.Add(f, batch[firsts[f]].Inbound, batch[firsts[f]].RawPayload, batch[firsts[f]].Trace, receivedAt);
        }

        await using var connection = await connections.OpenAsync(CancellationToken.None);
        await using var command = rows.InsertCommand(connection, receivedAt);
        var anyStored = false;
        await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
        {
            while (await reader.ReadAsync(CancellationToken.None))
            {
                stored[firsts[reader.GetInt32(0) - 1]] = true;
                anyStored = true;
            }
        }

        if (anyStored)
        {
            signal.Notify(); // the statement committed: its events are ready to publish
        }

        return stored;
    }

    /// <summary>A webhook waiting for its transaction; <see cref="Trace"/> is its request's activity.</summary>
    private sealed record Pending(ParsedInbound Inbound, Dictionary<string, string> RawPayload, Activity? Trace, long QueuedAt)
    {
        public TaskCompletionSource<bool> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A transaction of {Count} webhooks failed ({Reason}); writing them one by one")]
    private static partial void LogWrittenOneByOne(ILogger logger, int count, string reason);
}

/// <summary>What operators watch of the group commit: how full its transactions are, and where a webhook's time goes.</summary>
internal sealed class InboundStoreMetrics
{
    public InboundStoreMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.ActivitySourceName);
        BatchSize = meter.CreateHistogram<int>("safenotify.ingress.inbound.batch.size", "{webhook}", "Webhooks written by one transaction.");
        Queued = meter.CreateHistogram<double>("safenotify.ingress.inbound.queue.duration", "s", "Time a webhook waited for its transaction to start.");
        Transaction = meter.CreateHistogram<double>("safenotify.ingress.inbound.transaction.duration", "s",
            "Time one group of webhooks took to write, from its transaction's start to its commit (and any retry one by one).");
    }

    public Histogram<int> BatchSize { get; }
    public Histogram<double> Queued { get; }
    public Histogram<double> Transaction { get; }
}

/// <summary>The service is stopping and takes no more webhooks; Twilio retries a refused one.</summary>
public sealed class InboundStoreStoppedException() : Exception("The service is stopping; the webhook was not stored.");
