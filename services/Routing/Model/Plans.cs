namespace SafeNotify.Crm.Routing.Model;

/// <summary>A CRM plan's limits (seed "Límites por plan"); <see cref="MaxAgents"/> null means unlimited.</summary>
public sealed record Plan(string Name, int MaxWhatsappNumbers, int? MaxAgents);

public static class Plans
{
    public static readonly Plan Free = new("free", 0, 1);
    public static readonly Plan Basic = new("basic", 1, 1);
    public static readonly Plan Pro = new("pro", 2, 3);
    public static readonly Plan Enterprise = new("enterprise", 5, null);

    public static readonly IReadOnlyList<Plan> All = [Free, Basic, Pro, Enterprise];

    /// <summary>Finds a plan by name, case-insensitively ("PRO" and "pro" are the same plan).</summary>
    public static Plan? Find(string? name) =>
        All.FirstOrDefault(plan => string.Equals(plan.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>Whether a number answers its customers, and if not, why (shown on the number as <c>routingStatus</c>).</summary>
public enum NumberRoutingStatus
{
    Answering,
    Inactive,
    OverPlanLimit,
    CrmDisabled,
}

/// <summary>
/// What a downgrade does to numbers already there. Nothing is deleted: the tenant keeps every number and its
/// history, but only as many numbers as the plan allows answer customers. Those are chosen so the customer
/// keeps what matters most: active numbers first (an inactive number answers nobody anyway, so giving it a
/// place would silence an active one; an inactive primary must not leave every number silent), then the
/// primary, then the oldest. The others stop answering (their messages are recorded for operators as <c>over_plan_limit</c>)
/// and the API says so on each number. Upgrading again, deleting a number or making another one primary
/// changes which numbers answer, at once.
/// </summary>
public static class PlanAllowance
{
    public static HashSet<string> NumbersWithinPlan(IEnumerable<WhatsAppNumber> numbers, int maxWhatsappNumbers) =>
        numbers
            .OrderByDescending(n => n.IsActive)
            .ThenByDescending(n => n.IsPrimary)
            .ThenBy(n => n.CreatedAt)
            .ThenBy(n => n.Id, StringComparer.Ordinal)
            .Take(Math.Max(0, maxWhatsappNumbers))
            .Select(n => n.Id)
            .ToHashSet(StringComparer.Ordinal);

    public static NumberRoutingStatus StatusOf(WhatsAppNumber number, Tenant tenant, IReadOnlySet<string> withinPlan) =>
        !number.IsActive ? NumberRoutingStatus.Inactive
        : !withinPlan.Contains(number.Id) ? NumberRoutingStatus.OverPlanLimit
        : !tenant.CrmEnabled ? NumberRoutingStatus.CrmDisabled
        : NumberRoutingStatus.Answering;

    /// <summary>The sentence shown to the tenant, or null when the number answers.</summary>
    public static string? Explain(NumberRoutingStatus status, Tenant tenant) => status switch
    {
        NumberRoutingStatus.Inactive => "This number is switched off (isActive false): messages are recorded, nobody answers.",
        NumberRoutingStatus.OverPlanLimit =>
            $"The {tenant.CrmPlan} plan allows {tenant.MaxWhatsappNumbers} WhatsApp number(s) to answer; this one is beyond that, " +
            "so its messages are recorded and nobody answers. Nothing was deleted: upgrade the plan, or remove or switch numbers " +
            "(active numbers answer first: the primary, then the oldest).",
        NumberRoutingStatus.CrmDisabled => "The CRM is disabled for this account: messages are recorded, nobody answers.",
        _ => null,
    };

    /// <summary>The reason recorded on a message that was not routed.</summary>
    public static string UnroutedReason(NumberRoutingStatus status) => status switch
    {
        NumberRoutingStatus.Inactive => "number_inactive",
        NumberRoutingStatus.OverPlanLimit => "over_plan_limit",
        NumberRoutingStatus.CrmDisabled => "crm_disabled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "An answering number is routed."),
    };
}
