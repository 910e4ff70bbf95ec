using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Data;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Services;

public sealed class FirstOperatorOptions
{
    /// <summary>The first operator's address (Crm__Console__FirstOperator__Email); unset, nobody is created.</summary>
    [EmailAddress]
    public string? Email { get; set; }

    /// <summary>Its password (Crm__Console__FirstOperator__Password; the AppHost generates one and keeps it in .state/).</summary>
    public string? Password { get; set; }

    public string DisplayName { get; set; } = "SafeNotify operator";
}

/// <summary>
/// A console with no operator yet creates the configured first one as it starts (after its migrations), so a new
/// installation has someone who can invite everyone else. Once any operator exists, the setting is ignored.
/// </summary>
public sealed class FirstOperator(IServiceScopeFactory scopes, IOptions<FirstOperatorOptions> options, IPasswordHasher<StaffAccount> hasher, TimeProvider time)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value is not { Email: { Length: > 0 } email, Password: { Length: > 0 } password } first)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebAppDbContext>();
        await db.RunAsync(ct => db.AcrossTenantsAsync(async () =>
        {
            await db.LockAccountsAsync(ct); // two instances starting at once create one operator
            if (!await db.Accounts.AnyAsync(a => a.Role == StaffRole.Operator, ct))
            {
                db.Accounts.Add(StaffAccount.FirstOperator(Ids.New("op"), email, first.DisplayName, password, hasher, time.GetUtcNow()));
                await db.SaveChangesAsync(ct);
            }
        }, ct), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
