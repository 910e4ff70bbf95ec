using System.Collections.Concurrent;
using System.Data.Common;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;

namespace SafeNotify.Crm.ServiceData;

/// <summary>
/// SQL written from the EF model: table and column names for hand-written statements (quoted; values are always
/// parameters), and the statements EF has no method for (insert if absent, keep the latest), so SQL and model cannot
/// drift apart.
/// </summary>
public static class ModelSql
{
    // Names and statements depend only on the model, which a context type builds once: worked out once per model.
    private static readonly ConcurrentDictionary<(IModel, Type, string?), string> Names = new();
    private static readonly ConcurrentDictionary<(IModel, Type), (string[] Columns, IProperty[] Properties)> Rows = new();

    /// <summary>The quoted, schema-qualified table of <typeparamref name="TEntity"/>.</summary>
    public static string TableOf<TEntity>(this DbContext db) =>
        Names.GetOrAdd((db.Model, typeof(TEntity), null), static (key, db) =>
        {
            var entity = Entity(db, key.Item2);
            return $"{Quote(entity.GetSchema()!)}.{Quote(entity.GetTableName()!)}";
        }, db);

    /// <summary>The quoted column of <paramref name="property"/> in <typeparamref name="TEntity"/>'s table.</summary>
    public static string ColumnOf<TEntity>(this DbContext db, Expression<Func<TEntity, object?>> property)
    {
        var member = property.Body is UnaryExpression { Operand: MemberExpression inner } ? inner : (MemberExpression)property.Body;
        return Names.GetOrAdd((db.Model, typeof(TEntity), member.Member.Name), static (key, db) =>
        {
            var entity = Entity(db, key.Item2);
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            return Quote(entity.FindProperty(key.Item3!)!.GetColumnName(table)!);
        }, db);
    }

    /// <summary>
    /// Inserts <paramref name="entity"/> unless a row with the same key or unique value exists, in one statement that
    /// neither fails nor waits on a concurrent insert of the same row (<c>ON CONFLICT DO NOTHING</c>). Says whether the
    /// row was inserted; the entity is not tracked.
    /// </summary>
    public static async Task<bool> InsertIfAbsentAsync<TEntity>(this DbContext db, TEntity entity, CancellationToken cancellationToken)
        where TEntity : class
    {
        var (columns, parameters) = Values(db, entity);
        var sql = $"INSERT INTO {db.TableOf<TEntity>()} ({string.Join(", ", columns)}) VALUES ({Placeholders(parameters)}) ON CONFLICT DO NOTHING";
        return await db.Database.ExecuteSqlRawAsync(sql, parameters, cancellationToken) == 1;
    }

    /// <summary>
    /// Inserts <paramref name="entity"/>, or replaces the row with its key when <paramref name="version"/> (an instant or a
    /// revision) is not older than the stored one: the latest description wins whatever order descriptions arrive in,
    /// in one statement, without a race to create the row.
    /// </summary>
    public static Task UpsertLatestAsync<TEntity>(this DbContext db, TEntity entity, Expression<Func<TEntity, object?>> version,
        CancellationToken cancellationToken)
        where TEntity : class
    {
        var type = Entity(db, typeof(TEntity));
        var table = StoreObjectIdentifier.Table(type.GetTableName()!, type.GetSchema());
        var keys = type.FindPrimaryKey()!.Properties.Select(p => Quote(p.GetColumnName(table)!)).ToList();
        var (columns, parameters) = Values(db, entity);
        var versionColumn = db.ColumnOf(version);
        var sql = $"""
            INSERT INTO {db.TableOf<TEntity>()} AS stored ({string.Join(", ", columns)}) VALUES ({Placeholders(parameters)})
            ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {string.Join(", ", columns.Except(keys).Select(c => $"{c} = excluded.{c}"))}
            WHERE stored.{versionColumn} <= excluded.{versionColumn}
            """;
        return db.Database.ExecuteSqlRawAsync(sql, parameters, cancellationToken);
    }

    /// <summary>
    /// The columns of <paramref name="entity"/> the database does not generate, and a parameter for each made by the
    /// model's mapping (its conversion and database type: jsonb, arrays, enums as text).
    /// </summary>
    private static (string[] Columns, List<DbParameter> Parameters) Values<TEntity>(DbContext db, TEntity entity)
        where TEntity : class
    {
        var row = Rows.GetOrAdd((db.Model, typeof(TEntity)), static (key, db) =>
        {
            var type = Entity(db, key.Item2);
            var table = StoreObjectIdentifier.Table(type.GetTableName()!, type.GetSchema());
            var properties = type.GetProperties().Where(p => p.ValueGenerated == ValueGenerated.Never).ToArray();
            return (properties.Select(p => Quote(p.GetColumnName(table)!)).ToArray(), properties);
        }, db);
        using var command = new NpgsqlCommand();
        var parameters = row.Properties
            .Select((property, i) => property.GetRelationalTypeMapping().CreateParameter(command, $"p{i}", property.GetGetter().GetClrValue(entity), property.IsNullable))
            .ToList();
        return (row.Columns, parameters);
    }

    private static string Placeholders(IEnumerable<DbParameter> parameters) => string.Join(", ", parameters.Select(p => "@" + p.ParameterName));

    private static IEntityType Entity(DbContext db, Type type) =>
        db.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not in {db.GetType().Name}'s model.");

    private static string Quote(string name) => $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
