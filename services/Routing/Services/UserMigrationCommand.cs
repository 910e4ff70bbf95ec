using System.Globalization;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// <c>dotnet run --project services/Routing -- migrate-users --legacy "&lt;SafeNotify connection string&gt;" [--dry-run]</c>
/// and <c>... migrate-users --rollback [--run &lt;run id&gt;] [--dry-run]</c> (every run, or the one named).
/// Writes to Routing's own database (ConnectionStrings:routing-db, as the service itself, or
/// <c>--routing "&lt;connection string&gt;"</c>); a real run first brings Routing's schema up to date, a dry run
/// writes nothing at all (with the schema missing or behind, it says so and compares nothing). The events it
/// publishes sit in Routing's outbox and go out as soon as the Routing service runs. Prints a report; never
/// prints a connection string.
/// </summary>
public static class UserMigrationCommand
{
    public const string Name = "migrate-users";

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var dryRun = args.Contains("--dry-run");
        var rollback = args.Contains("--rollback");
        var legacy = Option(args, "--legacy");
        if (!rollback && string.IsNullOrWhiteSpace(legacy))
        {
            await output.WriteLineAsync($"Usage: {Name} --legacy \"<SafeNotify Postgres connection string>\" [--dry-run]\n       {Name} --rollback [--run <run id>] [--dry-run]\n" +
                "Routing's database: ConnectionStrings__routing-db, or --routing \"<connection string>\".");
            return 2;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        if (Option(args, "--routing") is { } routing)
        {
            builder.Configuration["ConnectionStrings:routing-db"] = routing;
        }

        builder.AddServiceDatabase<RoutingDbContext>("routing-db", RoutingDbContext.Schema);
        using var host = builder.Build();
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RoutingDbContext>();
        if (dryRun)
        {
            // A dry run writes nothing, not even Routing's schema: reading which migrations are applied only reads.
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                await output.WriteAsync(FormatSchemaNotReady(rollback, pending.Count, db.Database.GetMigrations().Count()));
                return 0;
            }
        }
        else
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        var migration = new UserMigration(db, directory: null, TimeProvider.System);
        MigrationReport report;
        if (rollback)
        {
            report = await migration.RollbackAsync(dryRun, cancellationToken, Option(args, "--run"));
        }
        else
        {
            var users = await UserMigration.ReadLegacyUsersAsync(legacy!, cancellationToken);
            report = await migration.MigrateAsync(users, dryRun, cancellationToken);
        }

        await output.WriteAsync(Format(report));
        return 0;
    }

    /// <summary>What a dry run says when Routing's schema is missing or behind: there is nothing to compare with yet.</summary>
    public static string FormatSchemaNotReady(bool rollback, int pending, int all) =>
        new System.Text.StringBuilder()
            .AppendLine(Title(rollback, dryRun: true, runId: null))
            .AppendLine(pending == all
                ? $"  Routing's schema is not there yet: a real run would create it first ({all} schema migrations)."
                : $"  Routing's schema is behind: a real run would first apply {pending} of its {all} schema migrations.")
            .AppendLine(rollback
                ? "  Nothing can be compared yet: no tenant can have been migrated into it. Nothing was read or written."
                : "  Nothing can be compared yet with the tenants Routing holds. Nothing was read or written.")
            .ToString();

    public static string Format(MigrationReport report)
    {
        var text = new System.Text.StringBuilder().AppendLine(Title(report.Rollback, report.DryRun, report.RunId));
        foreach (var line in report.Lines)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {line.Action,-16} user {line.SafeNotifyUserId}{(line.Email is null ? "" : $" <{line.Email}>")}" +
                $"{(line.TenantId is null ? "" : $" tenant {line.TenantId}")}{(line.Plan is null ? "" : $" plan {line.Plan}")}" +
                $"{(line.Note is null ? "" : $" ({line.Note})")}");
        }

        var totals = report.Lines.GroupBy(l => l.Action).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}");
        var defaulted = report.Lines.Count(l => l.Note?.Contains("(the default)", StringComparison.Ordinal) == true);
        var summary = $"Total {report.Lines.Count} — {string.Join(", ", totals)}"
            + (defaulted > 0 ? $"; {defaulted} with a missing or unknown plan given {UserMigration.DefaultPlan.Name}" : "");
        text.AppendLine(summary);
        return text.ToString();
    }

    private static string Title(bool rollback, bool dryRun, string? runId) => (rollback, dryRun) switch
    {
        (false, true) => "migrate-users (dry run: nothing written)",
        (false, false) => $"migrate-users, run {runId}",
        (true, true) => "migrate-users --rollback (dry run: nothing removed)",
        (true, false) => "migrate-users --rollback",
    };

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
