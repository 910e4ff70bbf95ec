using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Gateway;

/// <summary>Gateway__RateLimits__*: token buckets, refilled every second, each holding a burst's worth.</summary>
public sealed class RateLimitOptions
{
    /// <summary>API calls per second of one tenant (the operators share one bucket of their own).</summary>
    public int ApiPerTenantPerSecond { get; set; } = 50;

    public int ApiBurst { get; set; } = 100;

    /// <summary>Webhooks per second for one WhatsApp number of one Twilio account (above the 500/s benchmark).</summary>
    public int WebhooksPerNumberPerSecond { get; set; } = 1000;

    /// <summary>Webhooks per second for one Twilio account, all its numbers together.</summary>
    public int WebhooksPerAccountPerSecond { get; set; } = 3000;

    /// <summary>
    /// API keys that fail to resolve, per second from one client address (see <see cref="InvalidKeyLimiter"/>): far
    /// above what a misconfigured client sends, far below what guessing keys needs.
    /// </summary>
    public int InvalidKeysPerAddressPerSecond { get; set; } = 20;

    public int InvalidKeysBurst { get; set; } = 40;

    /// <summary>
    /// Attempts to sign in to the console per minute from one client address, whatever the account: together with the
    /// lockout of an account after five wrong passwords, guessing costs the guesser minutes, not the people it guesses at.
    /// </summary>
    public int SignInsPerAddressPerMinute { get; set; } = 10;
}

/// <summary>
/// Guessing keys costs the guesser, not Routing. Each client address may present only so many keys that fail to
/// resolve; once its bucket is empty, a key from that address this gateway does not already remember is refused with
/// 429 before Routing is asked, so a guess costs neither a call nor a database lookup, and a right guess cannot be told
/// from a wrong one. Keys this gateway has resolved already keep working from that address. The address is the
/// connection's: the gateway is the edge (behind a load balancer, forwarded headers would have to be trusted first).
/// </summary>
public sealed class InvalidKeyLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _buckets = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimits.Bucket(address, options.Value.InvalidKeysPerAddressPerSecond, options.Value.InvalidKeysBurst));

    /// <summary>True when <paramref name="address"/> has no failure left to spend: an unknown key is not even looked up.</summary>
    public bool IsExhausted(string address) => _buckets.GetStatistics(address) is { CurrentAvailablePermits: <= 0 };

    /// <summary>Spends one failure of <paramref name="address"/>; false (and how long to wait) when none was left.</summary>
    public bool TrySpend(string address, out TimeSpan retryAfter)
    {
        using var lease = _buckets.AttemptAcquire(address);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : RateLimits.RefillPeriod;
        return lease.IsAcquired;
    }

    /// <summary>The address a request came from, IPv4 clients the same whichever socket family accepted them.</summary>
    public static string AddressOf(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : "unknown";

    public void Dispose() => _buckets.Dispose();
}

/// <summary>
/// Rate limits that keep one noisy caller from slowing the others. The API is limited per tenant (the caller
/// the key resolved to); Twilio's webhooks per account and per number, read from the form Twilio posts,
/// because every webhook comes from Twilio's addresses and a limit per client address would throttle
/// everyone together. Over a limit: 429 with Retry-After, before anything reaches a service.
/// </summary>
public static class RateLimits
{
    /// <summary>How often every bucket is refilled.</summary>
    public static readonly TimeSpan RefillPeriod = TimeSpan.FromSeconds(1);

    private const string TwilioSenderItem = "twilio-sender";
    private const string TwilioSignatureHeader = "X-Twilio-Signature";

    private sealed record TwilioSender(string AccountSid, string Number);

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration("Gateway:RateLimits");
        builder.Services.AddSingleton<InvalidKeyLimiter>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((options, limits) =>
        {
            var limit = limits.Value;
            // A chain takes a token from each bucket in turn and keeps those taken when a later one refuses: the number's
            // bucket comes first, so a flood to one number spends at most that number's rate of its account's budget
            // and the account's other numbers keep the rest.
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    context.Items[TwilioSenderItem] is TwilioSender sender
                        ? Bucket($"number:{sender.AccountSid}:{sender.Number}", limit.WebhooksPerNumberPerSecond, limit.WebhooksPerNumberPerSecond)
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    context.Items[TwilioSenderItem] is TwilioSender sender
                        ? Bucket("account:" + sender.AccountSid, limit.WebhooksPerAccountPerSecond, limit.WebhooksPerAccountPerSecond)
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    CallerIdentityMiddleware.Caller(context) is { } caller
                        ? Bucket("api:" + (caller.TenantId ?? caller.Role), limit.ApiPerTenantPerSecond, limit.ApiBurst)
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    IsSignIn(context.Request)
                        ? PerMinute("sign-in:" + InvalidKeyLimiter.AddressOf(context), limit.SignInsPerAddressPerMinute)
                        : RateLimitPartition.GetNoLimiter("")));
            options.OnRejected = (rejected, _) =>
            {
                var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : RefillPeriod;
                return new ValueTask(IsSignIn(rejected.HttpContext.Request)
                    ? TooManySignInsAsync(rejected.HttpContext, wait)
                    : TooManyRequestsAsync(rejected.HttpContext, wait));
            };
        });
        return builder;
    }

    /// <summary>The answer to a caller over any of the gateway's limits: 429, Retry-After in whole seconds.</summary>
    public static Task TooManyRequestsAsync(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests.",
            detail: $"This caller is over its rate limit; retry after {seconds} s.").ExecuteAsync(context);
    }

    /// <summary>A person at the console's sign-in form gets a page with a sentence, not a JSON problem.</summary>
    private static Task TooManySignInsAsync(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var page = context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal);
        context.Response.ContentType = page ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
        return context.Response.WriteAsync(page
            ? $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · SafeNotify CRM</title></head><body><h1>Too many attempts to sign in</h1><p>Too many attempts to sign in came from this address. Wait {seconds} seconds, then <a href=\"/sign-in\">try again</a>.</p></body></html>"
            : $"Too many attempts to sign in from this address; retry after {seconds} s.");
    }

    private static bool IsSignIn(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path.Equals("/sign-in", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Refuses a Twilio webhook that carries no signature at all, and reads who a signed-looking one is for (account
    /// and our number) so the limiter can key on it.
    /// </summary>
    public static WebApplication UseRateLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            // Only Ingress holds Twilio's auth tokens (ARCHITECTURE.md), so the gateway cannot tell a forged signature
            // from a genuine one, and a forged one still counts against the number's and account's buckets. A request
            // with no signature at all, though, is certainly not Twilio's: refused here, before it uses up a real
            // number's limit.
            if (context.Request.Path.StartsWithSegments("/webhooks/twilio") && string.IsNullOrEmpty(context.Request.Headers[TwilioSignatureHeader]))
            {
                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Twilio's signature is missing.",
                    detail: $"Twilio signs every webhook ({TwilioSignatureHeader}).").ExecuteAsync(context);
                return;
            }

            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments("/webhooks/twilio") && context.Request.HasFormContentType)
            {
                // The body stays readable for the proxy: it is buffered (at most the webhook size limit) and rewound.
                context.Request.EnableBuffering();
                IFormCollection form;
                try
                {
                    form = await context.Request.ReadFormAsync(context.RequestAborted);
                }
                catch (BadHttpRequestException error)
                {
                    await Results.Problem(statusCode: error.StatusCode, title: "The request body could not be read.").ExecuteAsync(context);
                    return;
                }
                catch (InvalidDataException)
                {
                    await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form is malformed.").ExecuteAsync(context);
                    return;
                }

                context.Request.Body.Position = 0;
                // A message is for the number it was sent To; a status callback is about a message sent From it.
                var number = context.Request.Path.StartsWithSegments("/webhooks/twilio/status") ? form["From"] : form["To"];
                context.Items[TwilioSenderItem] = new TwilioSender(form["AccountSid"].ToString(), number.ToString());
            }

            await next(context);
        });
        app.UseRateLimiter();
        return app;
    }

    private static RateLimitPartition<string> PerMinute(string key, int perMinute) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, perMinute),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / Math.Max(1, perMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    internal static RateLimitPartition<string> Bucket(string key, int perSecond, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = Math.Max(1, perSecond),
            ReplenishmentPeriod = RefillPeriod,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
