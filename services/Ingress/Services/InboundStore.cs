using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
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

        var rows = new NewMessages(firsts.Count);
        var receivedAt = time.GetUtcNow();
        for (var f = 0; f < firsts.Count; f++)
        {
            rows.Add(f, batch[firsts[f]], receivedAt);
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

    /// <summary>The new messages of one batch, as the columns of <see cref="InsertSql"/>.</summary>
    private sealed class NewMessages(int count)
    {
        private readonly string[] _ids = new string[count];
        private readonly string[] _messageSids = new string[count];
        private readonly string[] _accountSids = new string[count];
        private readonly string[] _numbers = new string[count];
        private readonly string[] _customerIds = new string[count];
        private readonly string?[] _customerPhones = new string?[count];
        private readonly string?[] _profileNames = new string?[count];
        private readonly string?[] _bodies = new string?[count];
        private readonly string[] _media = new string[count];
        private readonly string?[] _locations = new string?[count];
        private readonly string?[] _buttonPayloads = new string?[count];
        private readonly string?[] _buttonTexts = new string?[count];
        private readonly string?[] _waIds = new string?[count];
        private readonly string[] _rawPayloads = new string[count];
        private readonly Guid[] _eventIds = new Guid[count];
        private readonly string[] _events = new string[count];
        private readonly string[] _orderingKeys = new string[count];
        private readonly string?[] _traceParents = new string?[count];
        private readonly string?[] _traceStates = new string?[count];
        private readonly DateTimeOffset[] _eventTimes = new DateTimeOffset[count];

        public void Add(int i, Pending pending, DateTimeOffset receivedAt)
        {
            var inbound = pending.Inbound;
            _ids[i] = Ids.New("in");
            _messageSids[i] = inbound.MessageSid;
            _accountSids[i] = inbound.AccountSid;
            _numbers[i] = inbound.To;
            _customerIds[i] = inbound.CustomerId;
            _customerPhones[i] = inbound.CustomerPhone;
            _profileNames[i] = inbound.ProfileName;
            _bodies[i] = inbound.Body;
            _media[i] = JsonColumnExtensions.ToJsonColumnValue(inbound.Media);
            _locations[i] = inbound.Location is { } location ? JsonColumnExtensions.ToJsonColumnValue(location) : null;
            _buttonPayloads[i] = inbound.ButtonPayload;
            _buttonTexts[i] = inbound.ButtonText;
            _waIds[i] = inbound.WaId;
            _rawPayloads[i] = JsonColumnExtensions.ToJsonColumnValue(pending.RawPayload);

            // The event carries the webhook's own trace, so one trace spans the webhook and the services after it.
            // Its sequence is not known yet: the statement sets it from the one it hands out.
            var received = new WhatsAppMessageReceived(_ids[i], inbound.MessageSid, inbound.AccountSid, inbound.To, inbound.CustomerId,
                inbound.CustomerPhone, inbound.ProfileName, inbound.Body, inbound.Media, Sequence: 0, receivedAt)
            {
                Location = inbound.Location,
                ButtonPayload = inbound.ButtonPayload,
                ButtonText = inbound.ButtonText,
                WaId = inbound.WaId,
            };
            var row = Outbox.NewRow(received, OrderingKeys.InboundPair(inbound.To, inbound.CustomerId), notBefore: null, pending.Trace);
            _eventIds[i] = row.MessageId;
            _events[i] = row.Body;
            _orderingKeys[i] = row.OrderingKey;
            _traceParents[i] = row.TraceParent;
            _traceStates[i] = row.TraceState;
            _eventTimes[i] = row.CreatedAt;
        }

        public NpgsqlCommand InsertCommand(NpgsqlConnection connection, DateTimeOffset receivedAt) => new(InsertSql, connection)
        {
            // Positional, in the order of InsertSql's columns ($1 ... $22): Npgsql sends them as they are, without
            // rewriting the statement for named parameters on every call.
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = _ids },
                new NpgsqlParameter<string[]> { TypedValue = _messageSids },
                new NpgsqlParameter<string[]> { TypedValue = _accountSids },
                new NpgsqlParameter<string[]> { TypedValue = _numbers },
                new NpgsqlParameter<string[]> { TypedValue = _customerIds },
                new NpgsqlParameter<string?[]> { TypedValue = _customerPhones },
                new NpgsqlParameter<string?[]> { TypedValue = _profileNames },
                new NpgsqlParameter<string?[]> { TypedValue = _bodies },
                new NpgsqlParameter<string[]> { TypedValue = _media, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
                new NpgsqlParameter<string?[]> { TypedValue = _locations, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
                new NpgsqlParameter<string?[]> { TypedValue = _buttonPayloads },
                new NpgsqlParameter<string?[]> { TypedValue = _buttonTexts },
                new NpgsqlParameter<string?[]> { TypedValue = _waIds },
                new NpgsqlParameter<string[]> { TypedValue = _rawPayloads, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
                new NpgsqlParameter<Guid[]> { TypedValue = _eventIds },
                new NpgsqlParameter<string[]> { TypedValue = _events, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
                new NpgsqlParameter<string[]> { TypedValue = _orderingKeys },
                new NpgsqlParameter<string?[]> { TypedValue = _traceParents },
                new NpgsqlParameter<string?[]> { TypedValue = _traceStates },
                new NpgsqlParameter<DateTimeOffset[]> { TypedValue = _eventTimes },
                new NpgsqlParameter<DateTimeOffset> { TypedValue = receivedAt },
                new NpgsqlParameter<string> { TypedValue = EventType },
            },
        };
    }

    private static readonly string EventType = Outbox.TypeName(typeof(WhatsAppMessageReceived));

    /// <summary>
    /// The batch's new messages and their events, in one statement (see <see cref="WriteTogetherAsync"/>); returns
    /// the batch positions (from 1) of those stored now. Every column of <c>inbound_messages</c> is written here (a
    /// test compares this list with the EF model).
    /// </summary>
    internal const string InsertSql = $$"""
        WITH batch AS (
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::jsonb[], $10::jsonb[], $11::text[], $12::text[], $13::text[], $14::jsonb[],
                    $15::uuid[], $16::jsonb[], $17::text[], $18::text[], $19::text[], $20::timestamptz[])
                WITH ORDINALITY AS b (id, message_sid, account_sid, number, customer_id, customer_phone, profile_name, body,
                    media, location, button_payload, button_text, wa_id, raw_payload,
                    event_id, event, ordering_key, trace_parent, trace_state, event_at, position)
        ), fresh AS (
            SELECT b.* FROM batch AS b
            WHERE NOT EXISTS (SELECT FROM {{IngressDbContext.Schema}}.inbound_messages AS m WHERE m.message_sid = b.message_sid)
        ), taken AS (
            SELECT number, customer_id, count(*) AS taken FROM fresh GROUP BY number, customer_id
        ), advanced AS (
            INSERT INTO {{IngressDbContext.Schema}}.customer_sequences AS s (number, customer_id, last_sequence)
            SELECT number, customer_id, taken FROM taken ORDER BY number, customer_id
            ON CONFLICT (number, customer_id) DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence
            RETURNING s.number, s.customer_id, s.last_sequence
        ), numbered AS (
            SELECT f.*, a.last_sequence - t.taken + row_number() OVER (PARTITION BY f.number, f.customer_id ORDER BY f.position) AS sequence
            FROM fresh AS f JOIN taken AS t USING (number, customer_id) JOIN advanced AS a USING (number, customer_id)
        ), messages AS (
            INSERT INTO {{IngressDbContext.Schema}}.inbound_messages (id, message_sid, account_sid, "to", customer_id, customer_phone,
                profile_name, body, media, location, button_payload, button_text, wa_id, raw_payload, sequence, received_at)
            SELECT id, message_sid, account_sid, number, customer_id, customer_phone,
                profile_name, body, media, location, button_payload, button_text, wa_id, raw_payload, sequence, $21
            FROM numbered
        ), events AS (
            INSERT INTO {{IngressDbContext.Schema}}.outbox_messages (message_id, message_type, body, ordering_key, trace_parent, trace_state,
                created_at, next_attempt_at, attempts)
            SELECT event_id, $22, jsonb_set(event, '{sequence}', to_jsonb(sequence)), ordering_key, trace_parent, trace_state,
                event_at, event_at, 0
            FROM numbered ORDER BY position
        )
        SELECT position::int FROM numbered
        """;

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
