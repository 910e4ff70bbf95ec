using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
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
    /// The secret the gateway signs identities with and every service checks them with (Crm__Identity__SigningKey;
    /// the AppHost generates one and keeps it in .state/).
    /// </summary>
    [Required, MinLength(32)]
    public string SigningKey { get; set; } = "";

    /// <summary>How long a signed identity is good for: one request's worth, with room for a slow hop.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The signed, short-lived identity the gateway hands the services: a JWT (HMAC-SHA256) with the caller's
/// tenant, role and API key id, for the services' audience only. A service trusts nothing else about who calls it, so a
/// request that reaches a service around the gateway, or with a forged or expired identity, is refused.
/// </summary>
public sealed class IdentityTokens(IOptions<IdentityTokenOptions> options, TimeProvider time)
{
    public const string Issuer = "safenotify-gateway";
    public const string Audience = "safenotify-services";

    private readonly JsonWebTokenHandler _handler = new();
    private readonly SigningCredentials _credentials = new(KeyFrom(options.Value), SecurityAlgorithms.HmacSha256);

    public TimeSpan Lifetime => options.Value.Lifetime;

    public string Create(CallerIdentity caller)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object> { [CallerIdentity.RoleClaim] = caller.Role };
        if (caller.TenantId is not null)
        {
            claims[CallerIdentity.TenantClaim] = caller.TenantId;
        }

        if (caller.KeyId is not null)
        {
            claims[CallerIdentity.KeyIdClaim] = caller.KeyId;
        }

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + options.Value.Lifetime,
            Claims = claims,
            SigningCredentials = _credentials,
        });
    }

    internal TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKey = _credentials.Key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireExpirationTime = true,
        ClockSkew = TimeSpan.FromSeconds(5),
        RoleClaimType = CallerIdentity.RoleClaim,
    };

    // Any configured secret of enough length becomes a 256-bit key.
    private static SymmetricSecurityKey KeyFrom(IdentityTokenOptions options) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(options.SigningKey)));
}

public static class IdentityTokenExtensions
{
    /// <summary>Issues (gateway) and checks (services) the signed identity carried in <see cref="CallerIdentity.Header"/>.</summary>
    public static IHostApplicationBuilder AddCallerIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IdentityTokenOptions>().BindConfiguration("Crm:Identity")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Real time, always: a test or a service may run its business clock elsewhere, but a token's expiry is
        // checked against the real clock.
        builder.Services.AddSingleton(services => new IdentityTokens(services.GetRequiredService<IOptions<IdentityTokenOptions>>(), TimeProvider.System));

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IdentityTokens>((jwt, tokens) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = tokens.ValidationParameters();
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
}
