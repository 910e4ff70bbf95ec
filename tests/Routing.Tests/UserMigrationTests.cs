using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// The migration of existing SafeNotify users (seed "Plan de Migración", phases 3 and 4) against a real
/// Postgres holding a legacy <c>users</c> table shaped as Prisma makes it, read through a role that may read
/// only the columns the CRM needs: were the migration to read <c>password</c> or write anything, it would fail.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class UserMigrationTests(RoutingService routing)
{
    [Fact]
    public async Task Users_become_tenants_once_a_dry_run_writes_nothing_and_a_rollback_removes_exactly_what_was_created()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        string U(string name) => $"c{name}{suffix}"; // cuid-like ids, unique to this test
        var legacy = await CreateLegacyDatabaseAsync(planTypeEnum: false,
            new LegacyUserRow(U("pro"), "dra.perez@clinica.example", "Clínica Dental Pérez", "PRO", true),
            new LegacyUserRow(U("basic"), "chef@restaurante.example", "Restaurante La Sazón", "basic", true),
            new LegacyUserRow(U("ent"), "gym@example.com", "Gimnasio Fuerza", "Enterprise", true),
            new LegacyUserRow(U("premium"), "abogados@example.com", "Bufete Gómez", "PREMIUM", true),     // unknown plan
            new LegacyUserRow(U("noplan"), "sin.plan@example.com", null, null, true),                     // no plan, no name
            new LegacyUserRow(U("gone"), "old@example.com", "Antiguo Cliente", "PRO", false),             // inactive
            new LegacyUserRow(U("hand"), "manual@example.com", "Hecho a mano", "PRO", true));             // already a tenant, made by an operator
        var handMade = await routing.CreateTenantAsync(plan: "enterprise", userId: U("hand"));
        var checksum = await legacy.ChecksumAsync();

        // Dry run: the report says what would happen; nothing is written or published.
        var dry = await MigrateAsync(legacy.Reader, dryRun: true);
        Assert.Equal(5, dry.Count(MigrationAction.WouldCreate));
        Assert.Equal(MigrationAction.SkippedInactive, Line(dry, U("gone")).Action);
        Assert.Equal((MigrationAction.AlreadyTenant, handMade.Id), (Line(dry, U("hand")).Action, Line(dry, U("hand")).TenantId));
        Assert.Equal("basic", Line(dry, U("premium")).Plan);
        Assert.Contains("unknown planType 'PREMIUM'", Line(dry, U("premium")).Note);
        Assert.Contains("no planType", Line(dry, U("noplan")).Note);
        Assert.Equal(0, await MigratedTenantCountAsync(suffix));
        Assert.Empty(await routing.PublishedAsync<TenantProvisioned>(e => e.SafeNotifyUserId.EndsWith(suffix) && e.Migrated));

        // The migration: each active user a tenant with crmEnabled and its plan's limits, announced as migrated.
        var run = await MigrateAsync(legacy.Reader, dryRun: false);
        Assert.Equal(5, run.Count(MigrationAction.Created));
        var tenants = await routing.WithDbAsync(db => db.Tenants.AsNoTracking().Where(t => t.SafeNotifyUserId.EndsWith(suffix)).ToListAsync());
        var byUser = tenants.ToDictionary(t => t.SafeNotifyUserId);
        Assert.Equal(6, tenants.Count); // five migrated and the hand-made one
        Assert.All(tenants, t => Assert.True(t.CrmEnabled));
        Assert.Equal(("pro", 2, (int?)3), (byUser[U("pro")].CrmPlan, byUser[U("pro")].MaxWhatsappNumbers, byUser[U("pro")].MaxAgents));
        Assert.Equal(("basic", 1, (int?)1), (byUser[U("basic")].CrmPlan, byUser[U("basic")].MaxWhatsappNumbers, byUser[U("basic")].MaxAgents));
        Assert.Equal(("enterprise", 5, (int?)null), (byUser[U("ent")].CrmPlan, byUser[U("ent")].MaxWhatsappNumbers, byUser[U("ent")].MaxAgents));
        Assert.Equal(("basic", "PREMIUM"), (byUser[U("premium")].CrmPlan, byUser[U("premium")].LegacyPlanType));
        Assert.Equal("sin.plan@example.com", byUser[U("noplan")].Name); // no name: the e-mail names the tenant
        Assert.Equal("Clínica Dental Pérez", byUser[U("pro")].Name);
        Assert.Equal("America/Bogota", byUser[U("pro")].Timezone);
        Assert.DoesNotContain(U("gone"), byUser.Keys);
        Assert.Null(byUser[U("hand")].MigrationRunId);
        var asOperatorSees = (await routing.OperatorClient().GetFromJsonAsync<System.Text.Json.Nodes.JsonNode>($"/api/admin/tenants?safeNotifyUserId={U("premium")}"))!["items"]![0]!;
        Assert.Equal((run.RunId, "PREMIUM"), (asOperatorSees["migrationRunId"]!.GetValue<string>(), asOperatorSees["legacyPlanType"]!.GetValue<string>()));
        var provisioned = await routing.PublishedAsync<TenantProvisioned>(e => e.SafeNotifyUserId.EndsWith(suffix) && e.Migrated);
        Assert.Equal(5, provisioned.Count); // Agent gives each its "Asistente"; Metrics starts it at zero
        Assert.Equal(("pro", (int?)3, 2), provisioned.Single(e => e.SafeNotifyUserId == U("pro")) is var p ? (p.Plan, p.MaxAgents, p.MaxWhatsappNumbers) : default);
        var migratedEvents = await routing.PublishedAsync<TenantMigrated>(e => e.SafeNotifyUserId.EndsWith(suffix));
        Assert.Equal(tenants.Where(t => t.MigrationRunId is not null).Select(t => t.Id).Order(), migratedEvents.Select(e => e.TenantId).Order());
        Assert.All(migratedEvents, e => Assert.Equal(run.RunId, e.MigrationRunId));

        // A re-run changes nothing and announces nothing.
        var again = await MigrateAsync(legacy.Reader, dryRun: false);
        Assert.Equal(6, again.Count(MigrationAction.AlreadyTenant));
        Assert.Equal(0, again.Count(MigrationAction.Created));
        Assert.Equal(5, (await routing.PublishedAsync<TenantProvisioned>(e => e.SafeNotifyUserId.EndsWith(suffix) && e.Migrated)).Count);
        Assert.Equal(5, (await routing.PublishedAsync<TenantMigrated>(e => e.SafeNotifyUserId.EndsWith(suffix))).Count);
        Assert.Equal(6, await routing.WithDbAsync(db => db.Tenants.CountAsync(t => t.SafeNotifyUserId.EndsWith(suffix))));

        // Agent creates the assistants as it would (Routing hears AgentChanged); the pro tenant then adds a number of its own.
        foreach (var tenant in tenants.Where(t => t.MigrationRunId is not null))
        {
            await routing.HandledAsync(new AgentChanged(tenant.Id, MigratedTenants.AssistantId(tenant.Id), MigratedTenants.AssistantName,
                true, true, [], null, null, false, 1, DateTimeOffset.UtcNow));
        }

        var used = byUser[U("pro")];
        await routing.CreateNumberAsync(used.Id);
        var ownTenant = (await routing.ClientFor(byUser[U("basic")].Id).GetFromJsonAsync<System.Text.Json.Nodes.JsonNode>("/api/tenant"))!;
        Assert.Equal(1, ownTenant["usage"]!["agents"]!.GetValue<int>()); // the "Asistente"

        // Rollback, dry run first: nothing removed.
        var dryRollback = await RollbackAsync(dryRun: true);
        Assert.Equal(4, dryRollback.Lines.Count(l => l.Action == MigrationAction.WouldRemove && l.SafeNotifyUserId.EndsWith(suffix)));
        Assert.Equal(6, await routing.WithDbAsync(db => db.Tenants.CountAsync(t => t.SafeNotifyUserId.EndsWith(suffix))));

        // Rollback: the untouched migrated tenants go, in every service; the used one and the hand-made one stay.
        var rollback = await RollbackAsync(dryRun: false);
        Assert.Equal(4, rollback.Lines.Count(l => l.Action == MigrationAction.Removed && l.SafeNotifyUserId.EndsWith(suffix)));
        var kept = Assert.Single(rollback.Lines, l => l.Action == MigrationAction.KeptInUse && l.SafeNotifyUserId.EndsWith(suffix));
        Assert.Equal(used.Id, kept.TenantId);
        Assert.Contains("1 number", kept.Note);
        var left = await routing.WithDbAsync(db => db.Tenants.AsNoTracking().Where(t => t.SafeNotifyUserId.EndsWith(suffix)).Select(t => t.Id).ToListAsync());
        Assert.Equal(new[] { handMade.Id, used.Id }.Order(), left.Order());
        var removedIds = tenants.Where(t => t.MigrationRunId is not null && t.Id != used.Id).Select(t => t.Id).ToList();
        Assert.False(await routing.WithDbAsync(db => db.Agents.AnyAsync(a => removedIds.Contains(a.TenantId))));
        var deprovisioned = await routing.PublishedAsync<TenantDeprovisioned>(e => e.SafeNotifyUserId.EndsWith(suffix));
        Assert.Equal(removedIds.Order(), deprovisioned.Select(e => e.TenantId).Order());
        Assert.All(deprovisioned, e => Assert.Equal(MigratedTenants.RollbackReason, e.Reason));

        // A late AgentChanged for a removed tenant does not bring its agent back.
        await routing.HandledAsync(new AgentChanged(removedIds[0], MigratedTenants.AssistantId(removedIds[0]), MigratedTenants.AssistantName,
            true, true, [], null, null, false, 2, DateTimeOffset.UtcNow));
        Assert.False(await routing.WithDbAsync(db => db.Agents.AnyAsync(a => a.TenantId == removedIds[0])));

        // The legacy table was only ever read.
        Assert.Equal(checksum, await legacy.ChecksumAsync());

        // Migrating again after the rollback recreates the removed users' tenants (the legacy data is still there).
        var rerun = await MigrateAsync(legacy.Reader, dryRun: false);
        Assert.Equal(4, rerun.Count(MigrationAction.Created));
        var otherRun = await routing.WithDbAsync(db =>
            new UserMigration(db, null, TimeProvider.System).RollbackAsync(dryRun: true, CancellationToken.None, runId: "mig_not_this_one"));
        Assert.Empty(otherRun.Lines); // a rollback of another run touches none of these
        var thisRun = await routing.WithDbAsync(db =>
            new UserMigration(db, null, TimeProvider.System).RollbackAsync(dryRun: false, CancellationToken.None, runId: rerun.RunId));
        Assert.Equal(4, thisRun.Count(MigrationAction.Removed)); // and leave the shared database as it was
    }

    [Fact]
    public async Task The_command_reports_without_printing_the_connection_string_and_refuses_a_missing_legacy_database()
    {
        // Here planType is a Prisma enum, as SafeNotify's schema may declare it.
        var legacy = await CreateLegacyDatabaseAsync(planTypeEnum: true, new LegacyUserRow("ccmd" + Guid.NewGuid().ToString("N")[..8], "cmd@example.com", "Por comando", "PRO", true));
        var routingDb = await routing.WithDbAsync(db => Task.FromResult(db.Database.GetConnectionString()!));

        var usage = new StringWriter();
        Assert.Equal(2, await UserMigrationCommand.RunAsync(["--dry-run"], usage));
        Assert.Contains("--legacy", usage.ToString());

        var output = new StringWriter();
        Assert.Equal(0, await UserMigrationCommand.RunAsync(["--legacy", legacy.Reader, "--dry-run", "--routing", routingDb], output));
        var text = output.ToString();
        Assert.Contains("dry run", text);
        Assert.Contains("WouldCreate", text);
        Assert.Contains("cmd@example.com", text);
        Assert.Contains("plan pro", text);
        Assert.DoesNotContain("Password", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(legacy.Reader, text);
        Assert.Equal(0, await routing.WithDbAsync(db => db.Tenants.CountAsync(t => t.Name == "Por comando")));
    }

    [Fact]
    public async Task A_migrated_tenant_given_an_API_key_or_changed_by_an_operator_is_kept_by_the_rollback_and_reported()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var legacy = await CreateLegacyDatabaseAsync(planTypeEnum: false,
            new LegacyUserRow("ckeyed" + suffix, $"keyed{suffix}@example.com", "Con clave", "basic", true),
            new LegacyUserRow("cchanged" + suffix, $"changed{suffix}@example.com", "Cambiado", "basic", true),
            new LegacyUserRow("cuntouched" + suffix, $"untouched{suffix}@example.com", "Intacto", "basic", true));
        var run = await MigrateAsync(legacy.Reader, dryRun: false);
        var tenantOf = run.Lines.ToDictionary(l => l.SafeNotifyUserId[1..^suffix.Length], l => l.TenantId!);

        using var admin = routing.OperatorClient();
        using (var issued = await admin.PostAsync($"/api/admin/tenants/{tenantOf["keyed"]}/api-keys", null))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, issued.StatusCode);
        }

        (await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantOf["changed"]}", new { crmPlan = "pro" })).EnsureSuccessStatusCode();
        (await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantOf["untouched"]}", new { crmPlan = "basic" })).EnsureSuccessStatusCode(); // changes nothing

        var rollback = await routing.WithDbAsync(db =>
            new UserMigration(db, routing.Services.GetRequiredService<RoutingDirectory>(), TimeProvider.System).RollbackAsync(dryRun: false, CancellationToken.None, run.RunId));

        var keyed = Line(rollback, "ckeyed" + suffix);
        Assert.Equal((MigrationAction.KeptInUse, tenantOf["keyed"]), (keyed.Action, keyed.TenantId));
        Assert.Contains("1 API key(s) issued", keyed.Note);
        var changed = Line(rollback, "cchanged" + suffix);
        Assert.Equal(MigrationAction.KeptInUse, changed.Action);
        Assert.Contains("changed by an operator", changed.Note);
        Assert.Equal(MigrationAction.Removed, Line(rollback, "cuntouched" + suffix).Action);
        Assert.Contains("KeptInUse: 2", UserMigrationCommand.Format(rollback));

        // The kept tenants keep everything, their keys included; only the untouched one is announced as gone.
        var left = await routing.WithDbAsync(db => db.Tenants.Where(t => t.SafeNotifyUserId.EndsWith(suffix)).Select(t => t.Id).ToListAsync());
        Assert.Equal(new[] { tenantOf["keyed"], tenantOf["changed"] }.Order(), left.Order());
        Assert.True(await routing.WithDbAsync(db => db.ApiKeys.AnyAsync(k => k.TenantId == tenantOf["keyed"] && k.RevokedAt == null)));
        Assert.Equal([tenantOf["untouched"]], (await routing.PublishedAsync<TenantDeprovisioned>(e => e.SafeNotifyUserId.EndsWith(suffix))).Select(e => e.TenantId));
    }

    [Fact]
    public async Task A_dry_run_writes_nothing_not_even_Routings_schema_and_a_rollback_dry_run_removes_nothing()
    {
        // A Routing database provisioned as the AppHost does (the role and its empty schema) that no service has started on.
        var server = await SharedServers.PostgresAsync();
        var fresh = await server.CreateServiceDatabaseAsync("routing");
        var superuser = server.ConnectionString(new NpgsqlConnectionStringBuilder(fresh).Database!);
        var userId = "cfresh" + Guid.NewGuid().ToString("N")[..8];
        var legacy = await CreateLegacyDatabaseAsync(planTypeEnum: false, new LegacyUserRow(userId, "fresh@example.com", "Recién llegado", "pro", true));

        foreach (var args in new[] { ["--legacy", legacy.Reader, "--dry-run", "--routing", fresh], new[] { "--rollback", "--dry-run", "--routing", fresh } })
        {
            var output = new StringWriter();
            Assert.Equal(0, await UserMigrationCommand.RunAsync(args, output));
            Assert.Contains("dry run", output.ToString());
            Assert.Contains("schema is not there yet: a real run would create it", output.ToString());
            Assert.Contains("Nothing can be compared yet", output.ToString());
            Assert.Equal(0L, await ScalarAsync(superuser, "SELECT count(*) FROM pg_tables WHERE schemaname = 'routing'"));
        }

        // A real run creates the schema and the tenant; a rollback dry run then says what it would remove, and removes nothing.
        Assert.Equal(0, await UserMigrationCommand.RunAsync(["--legacy", legacy.Reader, "--routing", fresh], new StringWriter()));
        Assert.Equal(1L, await ScalarAsync(superuser, "SELECT count(*) FROM routing.tenants"));
        var dryRollback = new StringWriter();
        Assert.Equal(0, await UserMigrationCommand.RunAsync(["--rollback", "--dry-run", "--routing", fresh], dryRollback));
        Assert.Contains("dry run: nothing removed", dryRollback.ToString());
        Assert.Contains($"WouldRemove      user {userId}", dryRollback.ToString());
        Assert.Equal(1L, await ScalarAsync(superuser, "SELECT count(*) FROM routing.tenants"));
        Assert.Equal(0L, await ScalarAsync(superuser, "SELECT count(*) FROM routing.outbox_messages WHERE message_type LIKE '%TenantDeprovisioned%'"));
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static MigrationLine Line(MigrationReport report, string userId) => report.Lines.Single(l => l.SafeNotifyUserId == userId);

    private Task<MigrationReport> MigrateAsync(string legacy, bool dryRun) => routing.WithDbAsync(async db =>
    {
        var users = await UserMigration.ReadLegacyUsersAsync(legacy, CancellationToken.None);
        return await new UserMigration(db, routing.Services.GetRequiredService<RoutingDirectory>(), TimeProvider.System).MigrateAsync(users, dryRun, CancellationToken.None);
    });

    private Task<MigrationReport> RollbackAsync(bool dryRun) => routing.WithDbAsync(db =>
        new UserMigration(db, routing.Services.GetRequiredService<RoutingDirectory>(), TimeProvider.System).RollbackAsync(dryRun, CancellationToken.None));

    private Task<int> MigratedTenantCountAsync(string suffix) =>
        routing.WithDbAsync(db => db.Tenants.CountAsync(t => t.SafeNotifyUserId.EndsWith(suffix) && t.MigrationRunId != null));

    /// <summary>A legacy SafeNotify database on the tests' own server (see <see cref="LegacySafeNotifyDatabase"/>).</summary>
    private static async Task<LegacySafeNotifyDatabase> CreateLegacyDatabaseAsync(bool planTypeEnum, params LegacyUserRow[] users) =>
        await LegacySafeNotifyDatabase.CreateAsync((await SharedServers.PostgresAsync()).ConnectionString(), planTypeEnum, users);
}
