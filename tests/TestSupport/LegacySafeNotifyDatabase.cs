using Npgsql;

namespace SafeNotify.Crm.TestSupport;

/// <summary>One user of the legacy SafeNotify database, as a test writes it.</summary>
public sealed record LegacyUserRow(string Id, string Email, string? Name, string? Plan, bool Active);

/// <summary>
/// A SafeNotify database as Prisma makes it (model User mapped to "users", camelCase columns, a cuid id, a
/// password hash, columns the CRM does not know), and a role that may read only the columns the CRM needs and
/// write nothing: were the migration to read <c>password</c> or write anything, it would fail.
/// </summary>
public sealed record LegacySafeNotifyDatabase(string Owner, string Reader)
{
    /// <summary>
    /// Creates the database on the server <paramref name="superuser"/> logs in to (the tests' own server, or the
    /// running system's). With <paramref name="planTypeEnum"/>, <c>planType</c> is a Prisma enum rather than text.
    /// </summary>
    public static async Task<LegacySafeNotifyDatabase> CreateAsync(string superuser, bool planTypeEnum, params LegacyUserRow[] users)
    {
        var owner = await PostgresServer.CreateDatabaseAsync(superuser, "safenotify_legacy");
        var role = "legacy_reader_" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NpgsqlConnection(owner);
        await connection.OpenAsync();
        var planType = planTypeEnum ? "\"PlanType\"" : "TEXT";
        await using (var create = new NpgsqlCommand($"""
            CREATE TYPE "PlanType" AS ENUM ('FREE', 'BASIC', 'PRO', 'ENTERPRISE');
            CREATE TABLE "users" (
                "id" TEXT PRIMARY KEY,
                "email" TEXT NOT NULL UNIQUE,
                "password" TEXT NOT NULL,
                "name" TEXT,
                "planType" {planType},
                "isActive" BOOLEAN NOT NULL DEFAULT true,
                "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
                "updatedAt" TIMESTAMP(3) NOT NULL,
                "stripeCustomerId" TEXT
            );
            CREATE ROLE {role} LOGIN PASSWORD 'reader';
            GRANT SELECT ("id", "email", "name", "planType", "isActive", "createdAt") ON "users" TO {role};
            """, connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var minute = 0;
        foreach (var user in users)
        {
            await using var insert = new NpgsqlCommand($"""
                INSERT INTO "users" ("id", "email", "password", "name", "planType", "isActive", "createdAt", "updatedAt")
                VALUES (@id, @email, '$2b$10$hash.never.read.by.the.crm', @name, CAST(@plan AS {planType}), @active, @at, @at)
                """, connection);
            insert.Parameters.AddWithValue("id", user.Id);
            insert.Parameters.AddWithValue("email", user.Email);
            insert.Parameters.AddWithValue("name", (object?)user.Name ?? DBNull.Value);
            insert.Parameters.AddWithValue("plan", (object?)user.Plan ?? DBNull.Value);
            insert.Parameters.AddWithValue("active", user.Active);
            insert.Parameters.AddWithValue("at", new DateTime(2025, 1, 1, 12, minute++, 0, DateTimeKind.Unspecified));
            await insert.ExecuteNonQueryAsync();
        }

        return new LegacySafeNotifyDatabase(owner, new NpgsqlConnectionStringBuilder(owner) { Username = role, Password = "reader" }.ConnectionString);
    }

    /// <summary>A digest of every row and column of <c>users</c>, to show the table was only ever read.</summary>
    public async Task<string> ChecksumAsync()
    {
        await using var connection = new NpgsqlConnection(Owner);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT md5(string_agg(u::text, '|' ORDER BY "id")) FROM "users" u""", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
