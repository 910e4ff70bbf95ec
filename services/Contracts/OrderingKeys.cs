namespace SafeNotify.Crm.Contracts;

/// <summary>
/// Keys under which messages must keep their order. One customer's conversation on one number is the unit
/// of order everywhere on the path; before Routing knows the tenant, the (our number, customer) pair is.
/// </summary>
public static class OrderingKeys
{
    public static string Conversation(string tenantId, string numberId, string customerId) => $"conv:{tenantId}:{numberId}:{customerId}";

    public static string InboundPair(string to, string customerId) => $"pair:{to}:{customerId}";
}
