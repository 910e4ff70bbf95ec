using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.WebApp.Model;

/// <summary>
/// What the console knows of a tenant, from Routing's events: that it exists (staff may be invited to it) and the name
/// its staff see. Routing owns the tenant; this is a copy kept for the console's own screens.
/// </summary>
public sealed class ConsoleTenant : Aggregate
{
    private ConsoleTenant()
    {
    }

    public string TenantId { get; private set; } = "";

    public string Name { get; private set; } = "";

    public static ConsoleTenant Provisioned(string tenantId, string name) => new() { TenantId = tenantId, Name = name };

    /// <summary>Routing said it again (a redelivery or a later change): the newest name holds.</summary>
    public void Provisioned(string name) => Name = name;
}
