using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>
/// An open console checks its session as often as a request would: a sign-out in another browser ends it here too, and
/// the console then goes to the sign-in page.
/// </summary>
public sealed class ConsoleAuthenticationState(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, IOptions<ConsoleOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => options.Value.SessionCheckInterval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        if (ConsoleSession.From(authenticationState.User) is not { } user)
        {
            return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        return await ConsoleSession.HoldsAsync(scope.ServiceProvider.GetRequiredService<StaffDirectory>(), user, cancellationToken);
    }
}
