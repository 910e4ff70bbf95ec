using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
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
/// and each is answered when that transaction has committed. A transaction costs the same four round trips to
/// Postgres and one flush to disk for one webhook or a hundred, and at hundreds of webhooks a second those round
/// trips, not the work in them, were the webhook's latency. Should a grouped transaction fail (a MessageSid that
/// another instance is storing at the same moment, one message the database refuses), each of its webhooks is
/// written again on its own, so one cannot fail the others.
/// </para>
/// </summary>
public sealed partial class InboundStore(
    IServiceScopeFactory scopes, TimeProvider time, IOptions<InboundStoreOptions> options, IMeterFactory meters, ILogger<InboundStore> logger)
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
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            batch[0].Stored.TrySetResult(false); // the same MessageSid, committed a moment ago by another transaction
        }
        catch (Exception ex)
        {
            batch[0].Stored.TrySetException(ex);
        }
    }

    /// <summary>One transaction for the whole batch; says for each webhook whether it was stored now.</summary>
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

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        // Nothing continues after a failed save (the batch is written again item by item), so EF's savepoint around
        // SaveChanges would only cost two more round trips.
        db.Database.AutoSavepointsEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);

        var sequences = await NextSequencesAsync(db, firsts.Select(i => batch[i].Inbound).ToList());
        var now = time.GetUtcNow();
        var writer = Activity.Current;
        for (var f = 0; f < firsts.Count; f++)
        {
            if (sequences[f] is not { } sequence)
            {
                continue; // stored before: a Twilio retry
            }

            var pending = batch[firsts[f]];
            stored[firsts[f]] = true;
            var message = NewMessage(pending, sequence, now);
            db.InboundMessages.Add(message);
            // The event carries the webhook's own trace, so one trace spans the webhook and the services after it.
            Activity.Current = pending.Trace;
            try
            {
                db.Publish(new WhatsAppMessageReceived(message.Id, message.MessageSid, message.AccountSid, message.To, message.CustomerId,
                    message.CustomerPhone, message.ProfileName, message.Body, message.Media, message.Sequence, message.ReceivedAt)
                {
                    Location = message.Location,
                    ButtonPayload = message.ButtonPayload,
                    ButtonText = message.ButtonText,
                    WaId = message.WaId,
                },
                OrderingKeys.InboundPair(message.To, message.CustomerId));
            }
            finally
            {
                Activity.Current = writer; // never left on a request's trace, whatever Publish does
            }
        }

        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        return stored;
    }

    /// <summary>
    /// In one statement: which of <paramref name="inbound"/> were stored before, and for the others the next
    /// sequences of their pairs, in the batch's order. Each pair's counter moves once by the number of its new
    /// messages; its row lock orders concurrent transactions of one customer, so sequence order is commit order.
    /// The counters are locked in key order, the same in every transaction, so two batches cannot deadlock on them.
    /// </summary>
    private static async Task<long?[]> NextSequencesAsync(IngressDbContext db, List<ParsedInbound> inbound)
    {
        var sids = inbound.Select(m => m.MessageSid).ToArray();
        var numbers = inbound.Select(m => m.To).ToArray();
        var customers = inbound.Select(m => m.CustomerId).ToArray();
        var rows = await db.Database.SqlQuery<NextSequence>($"""
            WITH batch AS (
                SELECT * FROM unnest({sids}::text[], {numbers}::text[], {customers}::text[])
                    WITH ORDINALITY AS b (message_sid, number, customer_id, position)
            ), fresh AS (
                SELECT b.* FROM batch AS b
                WHERE NOT EXISTS (SELECT FROM ingress.inbound_messages AS m WHERE m.message_sid = b.message_sid)
            ), taken AS (
                SELECT number, customer_id, count(*) AS taken FROM fresh GROUP BY number, customer_id
            ), advanced AS (
                INSERT INTO ingress.customer_sequences AS s (number, customer_id, last_sequence)
                SELECT number, customer_id, taken FROM taken ORDER BY number, customer_id
                ON CONFLICT (number, customer_id) DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence
                RETURNING s.number, s.customer_id, s.last_sequence
            )
            SELECT f.position::int AS "Position",
                a.last_sequence - t.taken + row_number() OVER (PARTITION BY f.number, f.customer_id ORDER BY f.position) AS "Sequence"
            FROM fresh AS f JOIN taken AS t USING (number, customer_id) JOIN advanced AS a USING (number, customer_id)
            """).ToListAsync(CancellationToken.None);

        var sequences = new long?[inbound.Count];
        foreach (var row in rows)
        {
            sequences[row.Position - 1] = row.Sequence;
        }

        return sequences;
    }

    private static InboundMessage NewMessage(Pending pending, long sequence, DateTimeOffset receivedAt)
    {
        var inbound = pending.Inbound;
        return new InboundMessage
        {
            Id = Ids.New("in"),
            MessageSid = inbound.MessageSid,
            AccountSid = inbound.AccountSid,
            To = inbound.To,
            CustomerId = inbound.CustomerId,
            CustomerPhone = inbound.CustomerPhone,
            ProfileName = inbound.ProfileName,
            Body = inbound.Body,
            Media = inbound.Media,
            Location = inbound.Location,
            ButtonPayload = inbound.ButtonPayload,
            ButtonText = inbound.ButtonText,
            WaId = inbound.WaId,
            RawPayload = pending.RawPayload,
            Sequence = sequence,
            ReceivedAt = receivedAt,
        };
    }

    /// <summary>A webhook waiting for its transaction; <see cref="Trace"/> is its request's activity.</summary>
    private sealed record Pending(ParsedInbound Inbound, Dictionary<string, string> RawPayload, Activity? Trace, long QueuedAt)
    {
        public TaskCompletionSource<bool> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record NextSequence(int Position, long Sequence);

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
