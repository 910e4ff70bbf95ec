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
