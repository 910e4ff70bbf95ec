namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Where people reach the staff console (<c>Crm__Console__PublicBaseUrl</c>; the AppHost passes the gateway's address),
/// and the one-time links that start with it, whichever service makes them.
/// </summary>
public sealed class ConsoleAddress
{
    public const string Section = "Crm:Console";

    public string PublicBaseUrl { get; set; } = "http://localhost:8080";

    public string InvitationLink(string token) => $"{PublicBaseUrl.TrimEnd('/')}/invitation/{token}";

    public string PasswordResetLink(string token) => $"{PublicBaseUrl.TrimEnd('/')}/password-reset/{token}";
}
