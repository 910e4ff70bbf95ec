using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Ingress.Data;

/// <summary>
/// A batch of new inbound messages and their <see cref="WhatsAppMessageReceived"/> events, written by one statement
/// (<see cref="InsertSql"/>): the group commit of the webhook store.
/// </summary>
public sealed class InboundBatch(int count)
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

    public void Add(int i, ParsedInbound inbound, Dictionary<string, string> rawPayload, Activity? trace, DateTimeOffset receivedAt)
    {
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
        _rawPayloads[i] = JsonColumnExtensions.ToJsonColumnValue(rawPayload);

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
        var row = Outbox.NewRow(received, OrderingKeys.InboundPair(inbound.To, inbound.CustomerId), notBefore: null, trace);
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

    private static readonly string EventType = Outbox.TypeName(typeof(WhatsAppMessageReceived));

    /// <summary>
    /// The batch's new messages and their events, in one statement (see <see cref="WriteTogetherAsync"/>); returns
    /// the batch positions (from 1) of those stored now. Every column of <c>inbound_messages</c> is written here (a
    /// test compares this list with the EF model).
    /// </summary>
    /// <summary>The batch's events, each with the sequence the statement handed its message.</summary>
    private const string EventRows = """
        SELECT event_id AS message_id, $22 AS message_type, jsonb_set(event, '{sequence}', to_jsonb(sequence)) AS body,
            ordering_key, trace_parent, trace_state, event_at AS created_at, position
        FROM numbered
        """;

    public static readonly string InsertSql = $$"""
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
            {{Outbox.AppendSql(IngressDbContext.Schema, EventRows)}}
        )
        SELECT position::int FROM numbered
        """;
}
