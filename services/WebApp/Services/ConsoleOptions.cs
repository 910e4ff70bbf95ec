namespace SafeNotify.Crm.WebApp.Services;

public sealed class ConsoleOptions
{
    /// <summary>
    /// Where people reach the console (Crm__Console__PublicBaseUrl; the AppHost passes the gateway's address): the links
    /// the console hands out start with it.
    /// </summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:8080";

    public string InvitationLink(string token) => $"{PublicBaseUrl.TrimEnd('/')}/invitation/{token}";
}
