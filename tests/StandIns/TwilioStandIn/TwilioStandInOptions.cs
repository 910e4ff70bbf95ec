namespace SafeNotify.Crm.TwilioStandIn;

/// <summary>Settings of the Twilio stand-in, bound from the configuration section <c>StandIn</c>.</summary>
public sealed class TwilioStandInOptions
{
    public const string SectionName = "StandIn";

    /// <summary>The default account: the credentials the Messages API accepts and webhooks are signed with.</summary>
    public string AccountSid { get; set; } = "AC00000000000000000000000000000000";

    public string AuthToken { get; set; } = "standin-auth-token";

    /// <summary>Our system's public door; inbound messages go to <c>{WebhookBaseUrl}/webhooks/twilio/whatsapp</c>.</summary>
    public string WebhookBaseUrl { get; set; } = "http://localhost:8080";

    /// <summary>Pause before each automatic status callback.</summary>
    public int StatusCallbackDelayMs { get; set; } = 50;

    /// <summary>After a send, move the message to sent, delivered and read, posting a callback for each.</summary>
    public bool AutoAdvanceStatuses { get; set; } = true;

    /// <summary>More accounts, keyed by account SID (<c>StandIn:Accounts:{sid}:AuthToken</c>).</summary>
    public Dictionary<string, TwilioStandInAccount> Accounts { get; set; } = [];

    /// <summary>The auth token of an account this stand-in knows, or null.</summary>
    public string? FindAuthToken(string accountSid) =>
        accountSid == AccountSid ? AuthToken
        : Accounts.TryGetValue(accountSid, out var account) ? account.AuthToken
        : null;

    public string InboundWebhookUrl => WebhookBaseUrl.TrimEnd('/') + "/webhooks/twilio/whatsapp";
}

public sealed class TwilioStandInAccount
{
    public string AuthToken { get; set; } = "";
}
