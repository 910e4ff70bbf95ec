namespace SafeNotify.Crm.Contracts;

/// <summary>
/// A tenant was created by the migration of an existing SafeNotify user (published with its
/// <see cref="TenantProvisioned"/>, in the same transaction): Agent gives it its default agent "Asistente"
/// (id <see cref="MigratedTenants.AssistantId"/>). A separate event rather than a second consumer of
/// <see cref="TenantProvisioned"/> in Agent, so that Agent's handling of the plan stays one consumer per event.
/// </summary>
public sealed record TenantMigrated(string TenantId, string SafeNotifyUserId, string Name, string MigrationRunId, DateTimeOffset OccurredAt);

/// <summary>
/// A tenant no longer exists (today: the migration of SafeNotify users was rolled back for it). Every service
/// removes what it holds for the tenant, and publishes nothing about it.
/// </summary>
public sealed record TenantDeprovisioned(string TenantId, string SafeNotifyUserId, string Reason, DateTimeOffset OccurredAt);

/// <summary>What the migration of existing SafeNotify users creates, named once for every service.</summary>
public static class MigratedTenants
{
    /// <summary>The default agent every migrated user receives (seed: 'Cada User recibe un agente "Asistente" por defecto').</summary>
    public const string AssistantName = "Asistente";

    /// <summary>The reason on <see cref="TenantDeprovisioned"/> when the migration is rolled back.</summary>
    public const string RollbackReason = "migration_rollback";

    /// <summary>
    /// The id of a migrated tenant's "Asistente": derived from the tenant id, so that a redelivered event cannot
    /// create a second one and a rollback can tell it from agents the tenant made later.
    /// </summary>
    public static string AssistantId(string tenantId) => $"agt_asistente_{tenantId}";
}
