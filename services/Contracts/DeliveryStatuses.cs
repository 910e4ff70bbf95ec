namespace SafeNotify.Crm.Contracts;

/// <summary>
/// Twilio's message statuses in the order a message moves through them. Status callbacks arrive out of
/// order, so a status only ever replaces one of lower rank: read never goes back to delivered.
/// </summary>
public static class DeliveryStatuses
{
    public const string Sending = "sending";
    public const string DeliveryUnknown = "delivery_unknown";
    public const string Failed = "failed";

    private static readonly Dictionary<string, int> Ranks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["accepted"] = 1,
        ["scheduled"] = 1,
        ["queued"] = 2,
        [Sending] = 3,
        [DeliveryUnknown] = 3,
        ["sent"] = 4,
        ["delivered"] = 5,
        ["read"] = 6,
        ["undelivered"] = 7,
        [Failed] = 7,
        ["canceled"] = 7,
    };

    public static int Rank(string? status) => status is not null && Ranks.TryGetValue(status, out var rank) ? rank : 0;

    /// <summary>Whether <paramref name="next"/> moves a message forward from <paramref name="current"/>.</summary>
    public static bool IsForward(string? current, string next) => Rank(next) > Rank(current);
}
