using Microsoft.AspNetCore.Mvc;
using SafeNotify.Crm.Ingress.Services;

namespace SafeNotify.Crm.Ingress.Apis;

/// <summary>
/// Twilio's webhooks: inbound WhatsApp messages and delivery status callbacks. Both are signed by Twilio
/// (no bearer key) and answered at once; nothing slow happens on the request path.
/// </summary>
public static class TwilioWebhooksApi
{
    /// <summary>Twilio's inbound form is a few KB even with ten media items; anything far larger is not Twilio.</summary>
    public const long MaxWebhookBytes = 64 * 1024;

    private const string EmptyTwiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

    public static RouteGroupBuilder MapTwilioWebhooksApi(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/webhooks/twilio").WithTags("Twilio webhooks")
            .WithMetadata(new RequestSizeLimitAttribute(MaxWebhookBytes));
        webhooks.MapPost("/whatsapp", ReceiveMessage).WithName("TwilioInboundMessage")
            .WithSummary("An inbound WhatsApp message, as Twilio posts it (signed)").DisableAntiforgery();
        webhooks.MapPost("/status", ReceiveStatus).WithName("TwilioStatusCallback")
            .WithSummary("A delivery status callback, as Twilio posts it (signed)").DisableAntiforgery();
        return webhooks;
    }

    private static async Task<IResult> ReceiveMessage(HttpContext context, TwilioSignatureChecker signatures, InboundStore store, CancellationToken cancellationToken)
    {
        var (received, problem) = await ReadSignedFormAsync(context, signatures, cancellationToken);
        if (received is not { } form)
        {
            return problem!;
        }

        if (!InboundParser.TryParse(form, out var inbound, out var error))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a Twilio inbound message.", detail: error);
        }

        try
        {
            await store.StoreAsync(inbound!, form, cancellationToken);
        }
        catch (InboundStoreStoppedException ex)
        {
            // Twilio retries a 503: the message is stored by this instance's successor, or by another instance.
            context.Response.Headers.RetryAfter = "5";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service is stopping.", detail: ex.Message);
        }

        return Results.Text(EmptyTwiml, "text/xml");
    }

    private static async Task<IResult> ReceiveStatus(HttpContext context, TwilioSignatureChecker signatures, DeliveryStatusRecorder recorder, CancellationToken cancellationToken)
    {
        var (received, problem) = await ReadSignedFormAsync(context, signatures, cancellationToken);
        if (received is not { } form)
        {
            return problem!;
        }

        var sid = form.GetValueOrDefault("MessageSid");
        var status = form.GetValueOrDefault("MessageStatus") ?? form.GetValueOrDefault("SmsStatus");
        if (string.IsNullOrEmpty(sid) || string.IsNullOrEmpty(status))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a Twilio status callback.", detail: "MessageSid and MessageStatus are required.");
        }

        // Lenient on purpose: a status word we do not know (Twilio adds statuses without notice) is acknowledged and moves
        // nothing (its rank is 0); only fields that cannot be Twilio's are refused.
        var errorCode = form.GetValueOrDefault("ErrorCode");
        if (!DeliveryStatusRecorder.IsWellFormed(sid, status, errorCode))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a Twilio status callback.",
                detail: "MessageSid is letters and digits, MessageStatus a word, ErrorCode a number.");
        }

        await recorder.RecordAsync(sid, status, errorCode, cancellationToken);
        return Results.NoContent();
    }

    private static async Task<(Dictionary<string, string>? Form, IResult? Problem)> ReadSignedFormAsync(
        HttpContext context, TwilioSignatureChecker signatures, CancellationToken cancellationToken)
    {
        // Kestrel enforces the endpoint's size limit while reading; a declared length says it up front, on any server.
        if (context.Request.ContentLength > MaxWebhookBytes)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large.",
                detail: $"Twilio's webhooks are far below {MaxWebhookBytes / 1024} KB."));
        }

        if (!context.Request.HasFormContentType)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Twilio posts application/x-www-form-urlencoded."));
        }

        // Twilio's forms are text as WhatsApp carries it; a form the framework's reader refuses (a NUL character, a
        // broken encoding) is not one of them, and gets a 400 (here and at the gateway) rather than a guess at its text.
        IFormCollection collection;
        try
        {
            collection = await context.Request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The form could not be read.", detail: ex.Message));
        }

        var form = collection.ToDictionary(field => field.Key, field => field.Value.ToString(), StringComparer.Ordinal);
        return signatures.IsGenuine(context.Request, form)
            ? (form, null)
            : (null, Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "The Twilio signature is missing or wrong."));
    }
}
