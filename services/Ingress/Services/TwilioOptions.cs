namespace SafeNotify.Crm.Ingress.Services;

public sealed class TwilioAccount
{
    public string? AuthToken { get; set; }
}

/// <summary>
/// Twilio settings of the configuration contract. Auth tokens live only here, keyed by account SID: the
/// default account (<c>Twilio__AccountSid</c>/<c>Twilio__AuthToken</c>) and any more
/// (<c>Twilio__Accounts__{sid}__AuthToken</c>) for numbers in subaccounts or other accounts.
/// </summary>
public sealed class TwilioOptions
{
    public string? AccountSid { get; set; }
    public string? AuthToken { get; set; }
    public Dictionary<string, TwilioAccount> Accounts { get; set; } = [];

    /// <summary>Base URL of the Twilio REST API (the stand-in's locally).</summary>
    public string ApiBaseUrl { get; set; } = "https://api.twilio.com";

    /// <summary>The public URL Twilio calls (the gateway's), to check signatures behind the gateway.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>Pace of sends from one of our numbers (Twilio's default for a WhatsApp sender is about 10/s).</summary>
    public double SendsPerSecondPerNumber { get; set; } = 10;

    /// <summary>A pace for particular numbers (a sender Twilio allows more, or less, than the default), by E.164 number.</summary>
    public Dictionary<string, double> SendsPerSecondByNumber { get; set; } = [];

    /// <summary>The time between two sends from <paramref name="number"/>.</summary>
    public TimeSpan SendIntervalOf(string number)
    {
        var perSecond = SendsPerSecondByNumber.TryGetValue(number, out var own) ? own : SendsPerSecondPerNumber;
        return TimeSpan.FromSeconds(1 / Math.Max(perSecond, 0.001));
    }

    /// <summary>
    /// A message waiting behind an earlier one that has not started either looks again this much later, and sets
    /// the earlier one going if nothing has (its command was recorded, then its handling lost); one whose predecessor in
    /// Lead's numbering never arrived goes out this long after it was recorded: a customer's queue never stalls for good.
    /// </summary>
    public TimeSpan OutboundStalledAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts of one send that Twilio refuses for a moment (429, 5xx) before it fails for good.</summary>
    public int MaxSendAttempts { get; set; } = 8;

    /// <summary>The first retry's wait; each next one doubles, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A send still "in the call" this long after it began was interrupted (a crash): it is reconciled.</summary>
    public TimeSpan InterruptedAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a status callback for a SID not (yet) recorded is kept, waiting for its send to record the SID: a
    /// send records its SID within seconds, so what is older belongs to no send of ours.
    /// </summary>
    public TimeSpan EarlyStatusCallbackRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The auth token of <paramref name="accountSid"/>; null for an account we do not know.</summary>
    public string? AuthTokenOf(string? accountSid)
    {
        if (string.IsNullOrEmpty(accountSid))
        {
            return null;
        }

        if (accountSid == AccountSid && !string.IsNullOrEmpty(AuthToken))
        {
            return AuthToken;
        }

        return Accounts.TryGetValue(accountSid, out var account) && !string.IsNullOrEmpty(account.AuthToken) ? account.AuthToken : null;
    }
}
