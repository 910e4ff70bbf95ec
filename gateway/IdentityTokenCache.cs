using Microsoft.Extensions.Caching.Memory;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Gateway;

/// <summary>
/// Signs each caller's identity once per half of its lifetime rather than once per request: a token handed
/// on is always good for at least half its lifetime, and the signature costs nothing on the hot path.
/// </summary>
public sealed class IdentityTokenCache(IdentitySigner signer, IMemoryCache cache)
{
    public string For(CallerIdentity caller) =>
        cache.GetOrCreate(("identity-token", caller.TenantId, caller.Role, caller.KeyId), entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = signer.Lifetime / 2;
            return signer.Create(caller);
        })!;
}
