using System.Linq.Expressions;
using System.Reflection;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

public static class Inbox
{
    /// <summary>
    /// Records that <paramref name="consumer"/> handles <paramref name="messageId"/>, inside the caller's
    /// transaction. False means it was handled before (or is being handled by a concurrent delivery, whose
    /// commit this call waited for): the caller must change nothing.
    /// </summary>
    public static async Task<bool> TryRecordAsync<TDbContext>(this TDbContext db, Guid messageId, string consumer, CancellationToken cancellationToken)
        where TDbContext : DbContext, IMessagingDbContext
    {
        var table = db.Model.FindEntityType(typeof(InboxMessage))!.GetSchemaQualifiedTableName();
        // The table name comes from the EF model, never from input; the values are parameters.
        var sql = $"INSERT INTO {table} (message_id, consumer, processed_at) VALUES ({{0}}, {{1}}, {{2}}) ON CONFLICT DO NOTHING";
        var inserted = await db.Database.ExecuteSqlRawAsync(sql, [messageId, consumer, DateTimeOffset.UtcNow], cancellationToken);
        return inserted == 1;
    }

    /// <summary>Removes a record this transaction made for a message it then set aside: its retry must be handled.</summary>
    public static Task ForgetRecordAsync<TDbContext>(this TDbContext db, Guid messageId, string consumer, CancellationToken cancellationToken)
        where TDbContext : DbContext, IMessagingDbContext =>
        db.Set<InboxMessage>().Where(m => m.MessageId == messageId && m.Consumer == consumer).ExecuteDeleteAsync(cancellationToken);

    /// <summary>
    /// <see cref="TryRecordAsync{TDbContext}"/> for many messages in one statement: returns the ids not handled before,
    /// which the caller handles (the others it leaves alone).
    /// </summary>
    public static async Task<HashSet<Guid>> TryRecordAllAsync<TDbContext>(this TDbContext db, IReadOnlyList<Guid> messageIds, string consumer, CancellationToken cancellationToken)
        where TDbContext : DbContext, IMessagingDbContext
    {
        var table = db.Model.FindEntityType(typeof(InboxMessage))!.GetSchemaQualifiedTableName();
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Inbox records belong to the transaction of the work they record: begin one first.");
        command.CommandText = $"INSERT INTO {table} (message_id, consumer, processed_at) SELECT id, @consumer, @at FROM unnest(@ids) AS id "
            + "ON CONFLICT DO NOTHING RETURNING message_id";
        command.Parameters.Add(new NpgsqlParameter("ids", messageIds.ToArray()));
        command.Parameters.Add(new NpgsqlParameter("consumer", consumer));
        command.Parameters.Add(new NpgsqlParameter("at", DateTimeOffset.UtcNow));
        var fresh = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            fresh.Add(reader.GetGuid(0));
        }

        return fresh;
    }
}

/// <summary>The tenant a message belongs to: its <c>TenantId</c> property, when its contract has one.</summary>
internal static class MessageTenant<TMessage>
{
    private static readonly Func<TMessage, string?>? Read = Compile();

    public static string? Of(TMessage message) => Read?.Invoke(message);

    private static Func<TMessage, string?>? Compile()
    {
        var property = typeof(TMessage).GetProperty("TenantId", BindingFlags.Public | BindingFlags.Instance);
        if (property is null || property.PropertyType != typeof(string))
        {
            return null;
        }

        var message = Expression.Parameter(typeof(TMessage));
        return Expression.Lambda<Func<TMessage, string?>>(Expression.Property(message, property), message).Compile();
    }
}
