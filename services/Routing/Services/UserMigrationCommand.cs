using System.Globalization;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// <c>dotnet run --project services/Routing -- migrate-users --legacy "&lt;SafeNotify connection string&gt;" [--dry-run]</c>
/// and <c>... migrate-users --rollback [--run &lt;run id&gt;] [--dry-run]</c> (every run, or the one named).
/// Writes to Routing's own database (ConnectionStrings:routing-db, as the service itself, or
/// <c>--routing "&lt;connection string&gt;"</c>); the events it publishes sit in Routing's outbox and go out as soon
/// as the Routing service runs. Prints a report; never prints a connection string.
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
        await db.Database.MigrateAsync(cancellationToken);

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

    public static string Format(MigrationReport report)
    {
        var title = (report.Rollback, report.DryRun) switch
        {
            (false, true) => "migrate-users (dry run: nothing written)",
            (false, false) => $"migrate-users, run {report.RunId}",
            (true, true) => "migrate-users --rollback (dry run: nothing removed)",
            (true, false) => "migrate-users --rollback",
        };
        var text = new System.Text.StringBuilder().AppendLine(title);
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

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
