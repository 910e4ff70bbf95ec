namespace SafeNotify.Crm.WebApp.Services;

/// <summary>The console's own settings (<c>Crm__Console__*</c>); its public address is <see cref="ServiceDefaults.ConsoleAddress"/>.</summary>
public sealed class ConsoleOptions
{
    /// <summary>
    /// How often a session is checked against its account (Crm__Console__SessionCheckInterval): the longest a session
    /// outlives a sign-out elsewhere, a disabled account or a new role.
    /// </summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(30);
}
