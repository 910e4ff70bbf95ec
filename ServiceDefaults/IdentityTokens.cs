using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SafeNotify.Crm.ServiceDefaults;

public sealed class IdentityTokenOptions
{
    /// <summary>
    /// The private key this process signs identities with (Crm__Identity__SigningKey: an ECDSA P-256 key, PKCS#8, base64).
    /// Only the gateway and the console have one; the AppHost generates both and keeps them in .state/.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>The gateway's public key (Crm__Identity__GatewayPublicKey: SubjectPublicKeyInfo, base64).</summary>
    [Required]
    public string GatewayPublicKey { get; set; } = "";

    /// <summary>The console's public key (Crm__Identity__ConsolePublicKey: SubjectPublicKeyInfo, base64).</summary>
    [Required]
    public string ConsolePublicKey { get; set; } = "";

    /// <summary>How long a signed identity is good for: one request's worth, with room for a slow hop.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The signed, short-lived identities the services trust: JWTs (ES256) for the services' audience, from one of two
/// issuers, each with a key of its own. The gateway signs for bearer keys, the console for signed-in staff members;
/// the services hold only the public keys, so no service can mint an identity, and a token is checked against the key
/// of the issuer it names. A request that reaches a service with no identity, a forged or an expired one is refused.
/// </summary>
public static class IdentityTokens
{
    public const string GatewayIssuer = "safenotify-gateway";
    public const string ConsoleIssuer = "safenotify-console";
    public const string Audience = "safenotify-services";

    /// <summary>A new signing key and its public half, each base64 (PKCS#8 and SubjectPublicKeyInfo).</summary>
    public static (string SigningKey, string PublicKey) NewKeyPair()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (Convert.ToBase64String(key.ExportPkcs8PrivateKey()), Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The public half of a signing key made by <see cref="NewKeyPair"/>.</summary>
    public static string PublicKeyOf(string signingKey)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(signingKey), out _);
        return Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    }

    internal static ECDsaSecurityKey PublicKey(string publicKey, string issuer)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey), out _);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            key.Dispose();
            throw new OptionsValidationException(nameof(IdentityTokenOptions), typeof(IdentityTokenOptions),
                [$"The public key of {issuer} is not a base64 SubjectPublicKeyInfo: {e.Message}"]);
        }

        return new ECDsaSecurityKey(key) { KeyId = KeyIdOf(key) };
    }

    /// <summary>
    /// A key's id is its public key's thumbprint: the token library caches a signature provider per key id, so keys of one
    /// issuer must never share one.
    /// </summary>
    internal static string KeyIdOf(ECDsa key) => Base64UrlEncoder.Encode(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    internal static TokenValidationParameters ValidationParameters(IdentityTokenOptions options)
    {
        var keys = new Dictionary<string, SecurityKey>
        {
            [GatewayIssuer] = PublicKey(options.GatewayPublicKey, GatewayIssuer),
            [ConsoleIssuer] = PublicKey(options.ConsolePublicKey, ConsoleIssuer),
        };
        return new TokenValidationParameters
        {
            ValidIssuers = keys.Keys,
            ValidAudience = Audience,
            // Each issuer's key checks only the tokens that name that issuer: the gateway cannot sign as the console.
            IssuerSigningKeyResolver = (_, token, _, _) =>
                token is JsonWebToken { Issuer: { } issuer } && keys.TryGetValue(issuer, out var key) ? [key] : [],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(5),
            RoleClaimType = CallerIdentity.RoleClaim,
        };
    }
}

/// <summary>Signs identities as one issuer (the gateway or the console), with that issuer's private key.</summary>
public sealed class IdentitySigner
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly ECDsa _key;
    private readonly SigningCredentials _credentials;
    private readonly TimeProvider _time;

    public IdentitySigner(string issuer, string signingKey, TimeSpan lifetime, TimeProvider time)
    {
        Issuer = issuer;
        Lifetime = lifetime;
        _time = time;
        _key = ECDsa.Create();
        _key.ImportPkcs8PrivateKey(Convert.FromBase64String(signingKey), out _);
        _credentials = new SigningCredentials(new ECDsaSecurityKey(_key) { KeyId = IdentityTokens.KeyIdOf(_key) }, SecurityAlgorithms.EcdsaSha256);
    }

    public string Issuer { get; }

    public TimeSpan Lifetime { get; }

    public string Create(CallerIdentity caller)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object> { [CallerIdentity.RoleClaim] = caller.Role };
        Add(claims, CallerIdentity.TenantClaim, caller.TenantId);
        Add(claims, CallerIdentity.KeyIdClaim, caller.KeyId);
        Add(claims, CallerIdentity.StaffIdClaim, caller.StaffId);
        Add(claims, CallerIdentity.StaffNameClaim, caller.StaffName);
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = IdentityTokens.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + Lifetime,
            Claims = claims,
            SigningCredentials = _credentials,
        });
    }

    private static void Add(Dictionary<string, object> claims, string name, string? value)
    {
        if (value is not null)
        {
            claims[name] = value;
        }
    }
}

public static class IdentityTokenExtensions
{
    /// <summary>Checks the signed identity carried in <see cref="CallerIdentity.Header"/> (every service).</summary>
    public static IHostApplicationBuilder AddCallerIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IdentityTokenOptions>().BindConfiguration("Crm:Identity")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<IdentityTokenOptions>>((jwt, options) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = IdentityTokens.ValidationParameters(options.Value);
                jwt.Events = new JwtBearerEvents
                {
                    // The identity travels in its own header: Authorization belongs to the client and never gets this far.
                    OnMessageReceived = context =>
                    {
                        context.Token = context.Request.Headers[CallerIdentity.Header].ToString() is { Length: > 0 } token ? token : null;
                        return Task.CompletedTask;
                    },
                };
            });
        return builder;
    }

    /// <summary>Signs identities as <paramref name="issuer"/> (the gateway and the console only): Crm__Identity__SigningKey is required.</summary>
    public static IHostApplicationBuilder AddIdentitySigner(this IHostApplicationBuilder builder, string issuer)
    {
        builder.Services.AddOptions<IdentityTokenOptions>()
            .Validate(options => options.SigningKey is { Length: > 0 }, $"Crm:Identity:SigningKey is required: {issuer} signs identities with it.")
            .Validate(options => options.SigningKey is not { Length: > 0 } key || PublicHalfMatches(issuer, key, options),
                $"Crm:Identity:SigningKey is not the private half of the public key the services hold for {issuer}.");
        // Real time, always: a test or a service may run its business clock elsewhere, but a token's expiry is
        // checked against the real clock.
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<IdentityTokenOptions>>().Value;
            return new IdentitySigner(issuer, options.SigningKey!, options.Lifetime, TimeProvider.System);
        });
        return builder;
    }

    private static bool PublicHalfMatches(string issuer, string signingKey, IdentityTokenOptions options)
    {
        try
        {
            var expected = issuer == IdentityTokens.GatewayIssuer ? options.GatewayPublicKey : options.ConsolePublicKey;
            return IdentityTokens.PublicKeyOf(signingKey) == expected;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return false;
        }
    }
}
