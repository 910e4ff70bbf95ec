namespace SafeNotify.Crm.Ingress.Model;

/// <summary>
/// WhatsApp's customer-service window: free text may go to a customer only within 24 hours of their last message to
/// the number; outside it only an approved template.
/// </summary>
public readonly record struct CustomerServiceWindow(DateTimeOffset? LastCustomerMessageAt)
{
    public static readonly TimeSpan Length = TimeSpan.FromHours(24);

    /// <summary>Null while the window is open; otherwise why it is closed, in words.</summary>
    public string? ClosedReason(DateTimeOffset now) => LastCustomerMessageAt switch
    {
        null => "The customer has never written to this number, so the customer-service window (24 hours from their last message) is not open",
        { } at when now - at > Length =>
            $"The customer last wrote at {at:O}, more than 24 hours ago (the customer-service window closed at {at + Length:O})",
        _ => null,
    };
}
