namespace SafeNotify.Crm.WebApp.Services;

public sealed class ConsoleOptions
{
    /// <summary>
    /// Where people reach the console (Crm__Console__PublicBaseUrl; the AppHost passes the gateway's address): the links
    /// the console hands out start with it.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:8080";

    /// <summary>
    /// How often a session is checked against its account (Crm__Console__SessionCheckInterval): the longest a session
    /// outlives a sign-out elsewhere, a disabled account or a new role.
    /// </summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    public string InvitationLink(string token) => $"{PublicBaseUrl.TrimEnd('/')}/invitation/{token}";

    public string PasswordResetLink(string token) => $"{PublicBaseUrl.TrimEnd('/')}/password-reset/{token}";
}
