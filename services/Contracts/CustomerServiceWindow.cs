namespace SafeNotify.Crm.Contracts;

/// <summary>
/// WhatsApp's customer-service window: free text may go to a customer only within 24 hours of their last message to
/// the number; outside it only an approved template. Lead checks it when an employee replies, Ingress again when the
/// reply is sent (the window may have closed in between).
/// </summary>
public readonly record struct CustomerServiceWindow(DateTimeOffset? LastCustomerMessageAt)
{
    public static readonly TimeSpan Length = TimeSpan.FromHours(24);

    /// <summary>When the window closes (closed already, or never opened, when null or past).</summary>
    public DateTimeOffset? ClosesAt => LastCustomerMessageAt + Length;

    public bool IsOpen(DateTimeOffset now) => ClosesAt > now;

    /// <summary>Null while the window is open; otherwise why it is closed, in words.</summary>
    public string? ClosedReason(DateTimeOffset now) => LastCustomerMessageAt switch
    {
        _ when IsOpen(now) => null,
        null => "The customer has never written to this number, so the customer-service window (24 hours from their last message) is not open",
        { } at => $"The customer last wrote at {at:O}, more than 24 hours ago (the customer-service window closed at {at + Length:O})",
    };
}
