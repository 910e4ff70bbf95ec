using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
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
}

/// <summary>
/// Rate limits that keep one noisy caller from slowing the others. The API is limited per tenant (the caller
/// the key resolved to); Twilio's webhooks per account and per number, read from the form Twilio posts,
/// because every webhook comes from Twilio's addresses and a limit per client address would throttle
/// everyone together. Over a limit: 429 with Retry-After, before anything reaches a service.
/// </summary>
public static class RateLimits
{
    private const string TwilioSenderItem = "twilio-sender";

    private sealed record TwilioSender(string AccountSid, string Number);

    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration("Gateway:RateLimits");
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>((options, limits) =>
        {
            var limit = limits.Value;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    context.Items[TwilioSenderItem] is TwilioSender sender
                        ? Bucket("account:" + sender.AccountSid, limit.WebhooksPerAccountPerSecond, limit.WebhooksPerAccountPerSecond)
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    context.Items[TwilioSenderItem] is TwilioSender sender
                        ? Bucket($"number:{sender.AccountSid}:{sender.Number}", limit.WebhooksPerNumberPerSecond, limit.WebhooksPerNumberPerSecond)
                        : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    CallerIdentityMiddleware.Caller(context) is { } caller
                        ? Bucket("api:" + (caller.TenantId ?? caller.Role), limit.ApiPerTenantPerSecond, limit.ApiBurst)
                        : RateLimitPartition.GetNoLimiter("")));
            options.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests.",
                    detail: $"This caller is over its rate limit; retry after {seconds} s.").ExecuteAsync(rejected.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>Reads who a Twilio webhook is for (account and our number) so the limiter can key on it.</summary>
    public static WebApplication UseRateLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
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

    private static RateLimitPartition<string> Bucket(string key, int perSecond, int burst) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst),
            TokensPerPeriod = Math.Max(1, perSecond),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
