namespace SafeNotify.Crm.Agent.Apis;

/// <summary>How Agent names its objects in audit details (the records go out through <c>AuditExtensions.Audit</c>).</summary>
internal static class AgentAudit
{
    /// <summary>The agent's name as a short quoted label (the tenant chose it; it is not a customer's data).</summary>
    public static string Label(string name) => "\"" + (name.Length <= 60 ? name : name[..60] + "…") + "\"";
}
