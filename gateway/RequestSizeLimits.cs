using Microsoft.AspNetCore.Http.Features;

namespace SafeNotify.Crm.Gateway;

/// <summary>
/// Bodies over a sane size are refused at the door with 413, before anything is proxied: Twilio's webhooks
/// are a few KB, API calls far below 1 MB. A declared length is checked at once; a streamed body is cut
/// off by the server at the same limit.
/// </summary>
public static class RequestSizeLimits
{
    public const long WebhookBytes = 64 * 1024;
    public const long ApiBytes = 1024 * 1024;

    public static WebApplication UseRequestSizeLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            long? limit = context.Request.Path.StartsWithSegments("/webhooks") ? WebhookBytes
                : context.Request.Path.StartsWithSegments("/api") ? ApiBytes
                : null;
            if (limit is { } max)
            {
                if (context.Request.ContentLength > max)
                {
                    await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large.",
                        detail: $"At most {max / 1024} KB here.").ExecuteAsync(context);
                    return;
                }

                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                {
                    size.MaxRequestBodySize = max;
                }
            }

            await next(context);
        });
        return app;
    }
}
