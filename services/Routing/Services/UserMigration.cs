using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>One row of SafeNotify's legacy <c>users</c> table, as far as the CRM reads it (never the password).</summary>
public sealed record LegacyUser(string Id, string? Email, string? Name, string? PlanType, bool IsActive, DateTimeOffset? CreatedAt);

public enum MigrationAction
{
    /// <summary>A tenant was created (with crmEnabled, its plan's limits and, through Agent, the "Asistente").</summary>
    Created,
    WouldCreate,

    /// <summary>The user is inactive in SafeNotify: no tenant.</summary>
    SkippedInactive,

    /// <summary>The user already has a tenant (an earlier run, or made by hand): nothing changes.</summary>
    AlreadyTenant,

    /// <summary>Rollback: the tenant and everything the migration made for it are removed in every service.</summary>
    Removed,
    WouldRemove,

    /// <summary>
    /// Rollback: the tenant has been used since (numbers, agents of its own, API keys issued, changed by an operator),
    /// so removing it would remove more than the migration made.
    /// </summary>
    KeptInUse,
}

public sealed record MigrationLine(string SafeNotifyUserId, string? Email, MigrationAction Action, string? TenantId, string? Plan, string? Note);

public sealed record MigrationReport(string? RunId, bool DryRun, bool Rollback, IReadOnlyList<MigrationLine> Lines)
{
    public int Count(MigrationAction action) => Lines.Count(l => l.Action == action);
}

/// <summary>
/// The seed's "Plan de Migración", phases 3 and 4: every active SafeNotify user becomes a CRM tenant.
/// <list type="bullet">
/// <item>The legacy database is only read: one read-only transaction (the server refuses any write in it),
/// selecting <c>id, email, name, planType, isActive, createdAt</c> of <c>users</c>; no other column (such as
/// <c>password</c>) is ever read.</item>
/// <item>Each active user without a tenant gets one: <c>crmEnabled</c> true, time zone America/Bogota, the
/// limits of its <c>planType</c> matched case-insensitively (free, basic, pro, enterprise); a missing or unknown
/// plan gets <see cref="DefaultPlan"/> (basic, the seed's <c>crm_plan</c> default) and the report says so.
/// <see cref="TenantProvisioned"/> (with <c>Migrated</c>) and <see cref="TenantMigrated"/> go out: Agent creates the
/// default agent "Asistente", Metrics starts the tenant at zero. Inactive users are skipped and reported.</item>
/// <item>A re-run skips users that already have a tenant: it changes and publishes nothing.</item>
/// <item>A rollback removes the tenants the migration created (marked with the run id) and announces
/// <see cref="TenantDeprovisioned"/>, on which every service removes what it holds for them. Tenants made by
/// hand are never touched; a migrated tenant that has been used since (a number, an agent of its own, an API key,
/// a change by an operator) is kept and reported, because removing it would remove more than the migration made.</item>
/// </list>
/// </summary>
public sealed class UserMigration(RoutingDbContext db, RoutingDirectory? directory, TimeProvider time)
{
    public static readonly Plan DefaultPlan = Plans.Basic;
    public const string DefaultTimezone = "America/Bogota";

    /// <summary>Reads the legacy users in one read-only transaction.</summary>
    public static async Task<IReadOnlyList<LegacyUser>> ReadLegacyUsersAsync(string legacyConnectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(legacyConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
        }

        // Prisma's model User mapped to "users", with its camelCase column names; planType may be an enum, read as text.
        const string sql = """
            SELECT "id", "email", "name", "planType"::text, "isActive", "createdAt"
            FROM "users" ORDER BY "createdAt", "id"
            """;
        var users = new List<LegacyUser>();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                users.Add(new LegacyUser(
                    reader.GetString(0),
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    !reader.IsDBNull(4) && reader.GetBoolean(4),
                    reader.IsDBNull(5) ? null : new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc))));
            }
        }

        await transaction.RollbackAsync(cancellationToken); // nothing to keep: it only read
        return users;
    }

    public Task<MigrationReport> MigrateAsync(IReadOnlyList<LegacyUser> users, bool dryRun, CancellationToken cancellationToken) =>
        db.AcrossTenantsAsync(() => MigrateAcrossTenantsAsync(users, dryRun, cancellationToken), cancellationToken); // creates tenants

    private async Task<MigrationReport> MigrateAcrossTenantsAsync(IReadOnlyList<LegacyUser> users, bool dryRun, CancellationToken cancellationToken)
    {
        var runId = Ids.New("mig");
        var lines = new List<MigrationLine>();
        var existing = (await db.Tenants.AsNoTracking().Select(t => new { t.SafeNotifyUserId, t.Id }).ToListAsync(cancellationToken))
            .ToDictionary(t => t.SafeNotifyUserId, t => t.Id, StringComparer.Ordinal);

        foreach (var user in users)
        {
            if (!user.IsActive)
            {
                lines.Add(new MigrationLine(user.Id, user.Email, MigrationAction.SkippedInactive, null, null, "inactive in SafeNotify"));
                continue;
            }

            if (existing.TryGetValue(user.Id, out var tenantId))
            {
                lines.Add(new MigrationLine(user.Id, user.Email, MigrationAction.AlreadyTenant, tenantId, null, null));
                continue;
            }

            var known = Plans.Find(user.PlanType);
            var plan = known ?? DefaultPlan;
            var note = known is not null ? null
                : string.IsNullOrWhiteSpace(user.PlanType) ? $"no planType: {DefaultPlan.Name} (the default)"
                : $"unknown planType '{user.PlanType}': {DefaultPlan.Name} (the default)";
            if (dryRun)
            {
                lines.Add(new MigrationLine(user.Id, user.Email, MigrationAction.WouldCreate, null, plan.Name, note));
                continue;
            }

            var created = await CreateTenantAsync(user, plan, runId, cancellationToken);
            lines.Add(created is null
                ? new MigrationLine(user.Id, user.Email, MigrationAction.AlreadyTenant, null, null, "created meanwhile by someone else")
                : new MigrationLine(user.Id, user.Email, MigrationAction.Created, created, plan.Name, note));
        }

        return new MigrationReport(dryRun ? null : runId, dryRun, Rollback: false, lines);
    }

    private async Task<string?> CreateTenantAsync(LegacyUser user, Plan plan, string runId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var tenant = new Tenant
        {
            Id = Ids.New("tnt"),
            SafeNotifyUserId = user.Id,
            Name = NameOf(user),
            CrmEnabled = true,
            CrmPlan = plan.Name,
            Timezone = DefaultTimezone,
            CreatedAt = now,
            UpdatedAt = now,
            MigrationRunId = runId,
            LegacyPlanType = user.PlanType is { } legacy && !string.Equals(legacy.Trim(), plan.Name, StringComparison.OrdinalIgnoreCase) ? Truncate(legacy, 100) : null,
        };
        tenant.ApplyPlan(plan);

        // One transaction per user: the tenant and its event commit together; a failure later leaves earlier
        // users migrated, and a re-run picks up where this one stopped.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Tenants.Add(tenant);
        db.Publish(new TenantProvisioned(tenant.Id, tenant.SafeNotifyUserId, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan,
            tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone, now) { Migrated = true }, orderingKey: tenant.Id);
        db.Publish(new TenantMigrated(tenant.Id, tenant.SafeNotifyUserId, tenant.Name, runId, now), orderingKey: tenant.Id);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return tenant.Id;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            db.ChangeTracker.Clear();
            return null;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Rolls back every run, or only <paramref name="runId"/> when given.</summary>
    public Task<MigrationReport> RollbackAsync(bool dryRun, CancellationToken cancellationToken, string? runId = null) =>
        db.AcrossTenantsAsync(() => RollbackAcrossTenantsAsync(dryRun, cancellationToken, runId), cancellationToken); // removes tenants

    private async Task<MigrationReport> RollbackAcrossTenantsAsync(bool dryRun, CancellationToken cancellationToken, string? runId)
    {
        var lines = new List<MigrationLine>();
        var migrated = await db.Tenants.AsNoTracking().Where(t => t.MigrationRunId != null && (runId == null || t.MigrationRunId == runId)).OrderBy(t => t.CreatedAt).ThenBy(t => t.Id)
            .Select(t => new { t.Id, t.SafeNotifyUserId, t.CrmPlan }).ToListAsync(cancellationToken);

        foreach (var candidate in migrated)
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // The lock orders the check with a number, a key or an operator's change made at the same moment.
            var tenant = await db.LockTenantAsync(candidate.Id, cancellationToken);
            if (tenant is null)
            {
                continue;
            }

            if (await UsesSinceMigrationAsync(tenant, cancellationToken) is { Count: > 0 } uses)
            {
                lines.Add(new MigrationLine(tenant.SafeNotifyUserId, null, MigrationAction.KeptInUse, tenant.Id, tenant.CrmPlan,
                    $"used since the migration ({string.Join(", ", uses)}): kept, as removing it would remove more than the migration made"));
                continue;
            }

            if (dryRun)
            {
                lines.Add(new MigrationLine(tenant.SafeNotifyUserId, null, MigrationAction.WouldRemove, tenant.Id, tenant.CrmPlan, null));
                continue;
            }

            await db.Agents.Where(a => a.TenantId == tenant.Id).ExecuteDeleteAsync(cancellationToken);
            await db.UnroutedMessages.Where(m => m.TenantId == tenant.Id).ExecuteDeleteAsync(cancellationToken);
            await db.Tenants.Where(t => t.Id == tenant.Id).ExecuteDeleteAsync(cancellationToken);
            db.Publish(new TenantDeprovisioned(tenant.Id, tenant.SafeNotifyUserId, MigratedTenants.RollbackReason, time.GetUtcNow()), orderingKey: tenant.Id);
            await db.SaveChangesAsync(cancellationToken);
            await RoutingDirectory.AnnounceChangeAsync(db, tenant.Id, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            db.ChangeTracker.Clear();
            directory?.Invalidate(tenant.Id);
            lines.Add(new MigrationLine(tenant.SafeNotifyUserId, null, MigrationAction.Removed, tenant.Id, tenant.CrmPlan, null));
        }

        return new MigrationReport(null, dryRun, Rollback: true, lines);
    }

    /// <summary>
    /// What shows the tenant has been used since the migration made it (empty: untouched). The migration gives a
    /// tenant no number, no agent but the "Asistente", no API key, and never changes it after creating it; so a
    /// number, another agent, any key an operator issued (revoked or not: the tenant may have worked with it) or a
    /// change by an operator (<see cref="Tenant.UpdatedAt"/> moved: plan, CRM switch, time zone, name) is use.
    /// Whatever a tenant does itself (an agent in Agent, settings in Lead) needs a key, so the keys cover it. Call it
    /// holding the tenant's row lock: adding a number, issuing a key and an operator's change take it too, so none
    /// of them can slip in between this check and the removal.
    /// </summary>
    private async Task<List<string>> UsesSinceMigrationAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var numbers = await db.Numbers.CountAsync(n => n.TenantId == tenant.Id, cancellationToken);
        var assistant = MigratedTenants.AssistantId(tenant.Id);
        var ownAgents = await db.Agents.CountAsync(a => a.TenantId == tenant.Id && !a.Deleted && a.AgentId != assistant, cancellationToken);
        var keys = await db.ApiKeys.CountAsync(k => k.TenantId == tenant.Id, cancellationToken);
        var uses = new List<string>();
        if (numbers > 0)
        {
            uses.Add($"{numbers} number(s)");
        }

        if (ownAgents > 0)
        {
            uses.Add($"{ownAgents} agent(s) of its own");
        }

        if (keys > 0)
        {
            uses.Add($"{keys} API key(s) issued");
        }

        if (tenant.UpdatedAt > tenant.CreatedAt)
        {
            uses.Add($"changed by an operator at {tenant.UpdatedAt:O}");
        }

        return uses;
    }

    private static string NameOf(LegacyUser user)
    {
        var name = !string.IsNullOrWhiteSpace(user.Name) ? user.Name.Trim()
            : !string.IsNullOrWhiteSpace(user.Email) ? user.Email.Trim()
            : user.Id;
        return Truncate(name, 200);
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
