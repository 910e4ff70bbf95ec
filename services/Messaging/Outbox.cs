using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.Messaging;

/// <summary>Writing to the outbox: the message is saved by the caller's own <c>SaveChanges</c>, in its transaction.</summary>
public static class Outbox
{
    internal static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly ConcurrentDictionary<string, Type?> TypesByName = new();

    /// <summary>
    /// Queue <paramref name="message"/> for publishing once the current unit of work commits.
    /// Messages with the same <paramref name="orderingKey"/> are published in the order they were written;
    /// without a key a message is ordered with nothing. <paramref name="notBefore"/> delays it (a timer).
    /// </summary>
    public static OutboxMessage Publish<T>(this IMessagingDbContext db, T message, string? orderingKey = null, DateTimeOffset? notBefore = null)
        where T : class
    {
        var row = NewRow(message, orderingKey, notBefore, Activity.Current);
        db.OutboxMessages.Add(row);
        return row;
    }

    /// <summary>Queues what an aggregate raised (its runtime type names it), as <see cref="Publish{T}"/> does.</summary>
    internal static void Publish(this IMessagingDbContext db, RaisedMessage raised) =>
        db.OutboxMessages.Add(NewRow(raised.Message, raised.Message.GetType(), raised.OrderingKey, raised.DueAt, Activity.Current));

    /// <summary>
    /// The outbox row of <paramref name="message"/>, for code that writes it itself in its own transaction (see
    /// <see cref="DirectConnections{TDbContext}"/>); it continues the trace of <paramref name="trace"/>.
    /// </summary>
    public static OutboxMessage NewRow<T>(T message, string? orderingKey, DateTimeOffset? notBefore, Activity? trace)
        where T : class =>
        NewRow(message, typeof(T), orderingKey, notBefore, trace);

    private static OutboxMessage NewRow(object message, Type type, string? orderingKey, DateTimeOffset? notBefore, Activity? trace)
    {
        var now = DateTimeOffset.UtcNow;
        var messageId = Guid.CreateVersion7(now);
        return new OutboxMessage
        {
            MessageId = messageId,
            MessageType = TypeName(type),
            Body = JsonSerializer.Serialize(message, type, SerializerOptions),
            OrderingKey = orderingKey ?? messageId.ToString("N"),
            TraceParent = trace?.IdFormat == ActivityIdFormat.W3C ? trace.Id : null,
            TraceState = trace?.TraceStateString,
            CreatedAt = now,
            NextAttemptAt = notBefore ?? now,
        };
    }

    /// <summary>
    /// The statement part that appends many rows at once, for code that writes a batch in one statement of its own: an
    /// <c>INSERT</c> into <paramref name="schema"/>'s outbox of the rows <paramref name="rows"/> gives, a query whose columns
    /// are named <c>message_id</c> (uuid), <c>message_type</c> (<see cref="TypeName"/>), <c>body</c> (jsonb, as
    /// <see cref="NewRow{T}"/> makes it), <c>ordering_key</c>, <c>trace_parent</c>, <c>trace_state</c>, <c>created_at</c> and
    /// <c>position</c>, the publishing order.
    /// </summary>
    public static string AppendSql(string schema, string rows) => $"""
        INSERT INTO {schema}.{OutboxMessage.Table} (message_id, message_type, body, ordering_key, trace_parent, trace_state, created_at,
            next_attempt_at, attempts)
        SELECT message_id, message_type, body, ordering_key, trace_parent, trace_state, created_at, created_at, 0
        FROM ({rows}) AS appended ORDER BY position
        """;

    /// <summary>
    /// Deletes the copies kept of messages already published under <paramref name="orderingKeys"/> (an erasure: they may
    /// hold a customer's words until the outbox's retention ends); those not yet published still go out.
    /// </summary>
    public static Task<int> ForgetPublishedAsync(this IMessagingDbContext db, IReadOnlyCollection<string> orderingKeys, CancellationToken cancellationToken) =>
        db.OutboxMessages.Where(o => o.DispatchedAt != null && orderingKeys.Contains(o.OrderingKey)).ExecuteDeleteAsync(cancellationToken);

    /// <summary>How the outbox names a message type (and finds it again when publishing).</summary>
    public static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    internal static Type? ResolveType(string name) => TypesByName.GetOrAdd(name, static n => Type.GetType(n, throwOnError: false));
}
