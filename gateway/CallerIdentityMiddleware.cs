using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Gateway;

/// <summary>
/// The gateway is the only door. It removes any SafeNotify header a client sends, on every path, and for
/// <c>/api</c> establishes the caller from the bearer key (resolved by Routing, cached) and passes the
/// services a signed, short-lived identity with the tenant and role. A missing or unknown key is 401 (429 once the
/// client's address has presented too many unknown keys); a tenant key on <c>/api/admin</c> is 403.
/// </summary>
public static class CallerIdentityMiddleware
{
    public static WebApplication UseCallerIdentity(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Request.Headers;
            foreach (var name in headers.Keys.Where(name => name.StartsWith("X-SafeNotify-", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                headers.Remove(name);
            }

            if (!context.Request.Path.StartsWithSegments("/api"))
            {
                await next(context);
                return;
            }

            var key = BearerKey(headers.Authorization.ToString());
            CallerIdentity? caller = null;
            if (key is not null)
            {
                var (resolved, retryAfter) = await ResolveWithinLimitAsync(context, key);
                if (retryAfter is { } wait)
                {
                    await RateLimits.TooManyRequestsAsync(context, wait);
                    return;
                }

                caller = resolved;
            }

            if (caller is null)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "A valid API key is required.",
                    detail: "Send 'Authorization: Bearer <key>' with a key issued for your tenant.").ExecuteAsync(context);
                return;
            }

            if (context.Request.Path.StartsWithSegments("/api/admin") && !caller.IsOperator)
            {
                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "This route is for SafeNotify operators.").ExecuteAsync(context);
                return;
            }

            headers[CallerIdentity.Header] = context.RequestServices.GetRequiredService<IdentityTokenCache>().For(caller);
            context.Items[typeof(CallerIdentity)] = caller;

            // The key itself stops here: services never see it, so it cannot leak from their logs.
            headers.Authorization = default;
            await next(context);

            // A revocation that passed through this gateway takes effect here at once (other replicas within the cache's 5 s).
            if (HttpMethods.IsDelete(context.Request.Method) && context.Response.StatusCode == StatusCodes.Status204NoContent
                && RevokedKeyId(context.Request.Path) is { } revoked)
            {
                context.RequestServices.GetRequiredService<ApiKeyResolver>().Forget(revoked);
            }
        });
        return app;
    }

    /// <summary>
    /// Resolves a presented key within its address's budget of keys that fail (<see cref="InvalidKeyLimiter"/>): the
    /// caller, or null for a wrong key; or, over the budget, how long to wait (nothing was asked of Routing if this
    /// gateway did not already remember the key).
    /// </summary>
    private static async Task<(CallerIdentity? Caller, TimeSpan? RetryAfter)> ResolveWithinLimitAsync(HttpContext context, string key)
    {
        var resolver = context.RequestServices.GetRequiredService<ApiKeyResolver>();
        var invalidKeys = context.RequestServices.GetRequiredService<InvalidKeyLimiter>();
        var address = InvalidKeyLimiter.AddressOf(context);
        if (!resolver.TryRemembered(key, out var caller))
        {
            if (invalidKeys.IsExhausted(address))
            {
                return (null, RateLimits.RefillPeriod);
            }

            caller = await resolver.ResolveAsync(key, context.RequestAborted);
        }

        return caller is null && !invalidKeys.TrySpend(address, out var retryAfter) ? (null, retryAfter) : (caller, null);
    }

    /// <summary>The caller this request's key resolved to (after <see cref="UseCallerIdentity"/>), if any.</summary>
    public static CallerIdentity? Caller(HttpContext context) => context.Items[typeof(CallerIdentity)] as CallerIdentity;

    // DELETE /api/admin/tenants/{id}/api-keys/{keyId}
    private static string? RevokedKeyId(PathString path) =>
        path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) is ["api", "admin", "tenants", _, "api-keys", var keyId] ? keyId : null;

    private static string? BearerKey(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
}
