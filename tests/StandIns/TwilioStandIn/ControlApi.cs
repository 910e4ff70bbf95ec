using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.TwilioStandIn;

/// <summary>Body of <c>POST /_standin/inbound</c>: a customer's WhatsApp message to deliver to our webhook.</summary>
public sealed record InboundRequest(
    string? From = null,
    string? To = null,
    string? Body = null,
    string? ProfileName = null,
    string? MessageSid = null,
    string? AccountSid = null,
    IReadOnlyList<InboundMedia>? Media = null,
    string? Signature = null);

public sealed record InboundMedia(string Url, string? ContentType = null);

/// <summary>Body of <c>POST /_standin/status</c>: report a status of a sent message now (e.g. out of order).</summary>
public sealed record StatusRequest(string MessageSid, string Status, int? ErrorCode = null);

/// <summary>The <c>/_standin/</c> control API (no auth: the stand-in only ever runs locally) and the simulator page.</summary>
internal static class ControlApi
{
    public const string DefaultCustomer = "+573111111111";
    public const string DefaultBusiness = "+573011111111";

    private static readonly Lazy<string> SimulatorPage = new(() =>
    {
        using var stream = typeof(ControlApi).Assembly.GetManifestResourceStream("simulator.html")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static void MapStandInControl(this WebApplication app)
    {
        app.MapGet("/", () => Results.Content(SimulatorPage.Value, "text/html; charset=utf-8"));

        var control = app.MapGroup("/_standin");
        control.MapGet("/health", () => Results.Text("Healthy"));
        control.MapPost("/inbound", SendInboundAsync);
        control.MapGet("/inbound", (string? from, string? to, DateTimeOffset? since, TwilioStandInState state) =>
            state.InboundMessages.Where(m => Matches(m.From, from) && Matches(m.To, to) && m.CreatedAt >= (since ?? DateTimeOffset.MinValue)));
        control.MapGet("/messages", (string? from, string? to, DateTimeOffset? since, TwilioStandInState state) =>
            state.SentMessages.Where(m => Matches(m.From, from) && Matches(m.To, to) && m.CreatedAt >= (since ?? DateTimeOffset.MinValue)));
        control.MapDelete("/messages", (TwilioStandInState state) =>
        {
            state.Clear();
            return Results.NoContent();
        });
        control.MapPost("/status", async (StatusRequest input, TwilioWebhookSender webhooks, CancellationToken cancellationToken) =>
            await webhooks.ReportStatusAsync(input.MessageSid, input.Status, input.ErrorCode, cancellationToken) is { } webhookStatus
                ? Results.Ok(new { input.MessageSid, input.Status, webhookStatus })
                : Results.NotFound(new { error = $"No message {input.MessageSid} was sent." }));
        control.MapGet("/webhooks", (TwilioStandInState state) => state.Webhooks);
        control.MapPost("/faults", (TwilioFault fault, TwilioStandInState state) =>
        {
            state.SetFault(fault);
            return Results.NoContent();
        });
        control.MapDelete("/faults", (TwilioStandInState state) =>
        {
            state.ClearFault();
            return Results.NoContent();
        });
    }

    /// <summary>Builds Twilio's inbound WhatsApp form and posts it, signed, to our webhook.</summary>
    private static async Task<IResult> SendInboundAsync(
        InboundRequest input, TwilioStandInState state, TwilioWebhookSender webhooks, IOptions<TwilioStandInOptions> options, CancellationToken cancellationToken)
    {
        var media = input.Media ?? [];
        if (string.IsNullOrEmpty(input.Body) && media.Count == 0)
        {
            return Results.BadRequest(new { error = "Give a body or media." });
        }

        var settings = options.Value;
        var sid = input.MessageSid ?? "SM" + Guid.NewGuid().ToString("N");
        var accountSid = input.AccountSid ?? settings.AccountSid;
        var from = WhatsApp(input.From ?? DefaultCustomer);
        var to = WhatsApp(input.To ?? DefaultBusiness);
        var waId = from["whatsapp:".Length..];

        var form = new Dictionary<string, string>
        {
            ["MessageSid"] = sid,
            ["SmsMessageSid"] = sid,
            ["SmsSid"] = sid,
            ["AccountSid"] = accountSid,
            ["From"] = from,
            ["To"] = to,
            ["Body"] = input.Body ?? "",
            ["NumMedia"] = media.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WaId"] = waId.StartsWith('+') ? waId[1..] : waId,
            ["SmsStatus"] = "received",
            ["NumSegments"] = "1",
            ["ReferralNumMedia"] = "0",
            ["MessageType"] = media.Count == 0 ? "text" : MessageType(media[0].ContentType),
            ["ApiVersion"] = "2010-04-01",
        };
        if (input.ProfileName is { } profileName)
        {
            form["ProfileName"] = profileName;
        }

        for (var i = 0; i < media.Count; i++)
        {
            form[$"MediaUrl{i}"] = media[i].Url;
            form[$"MediaContentType{i}"] = media[i].ContentType ?? "application/octet-stream";
        }

        // An account the stand-in does not know is signed with the default token: our side must refuse it.
        var token = settings.FindAuthToken(accountSid) ?? settings.AuthToken;
        var webhookStatus = await webhooks.PostAsync("inbound", settings.InboundWebhookUrl, form, token, input.Signature, cancellationToken);
        state.Add(new InboundMessage(sid, accountSid, from, to, input.Body, input.ProfileName, [.. media.Select(m => m.Url)], DateTimeOffset.UtcNow, webhookStatus));

        return webhookStatus == 0
            ? Results.Json(new { messageSid = sid, webhookStatus, error = $"No answer from {settings.InboundWebhookUrl}" }, statusCode: 502)
            : Results.Ok(new { messageSid = sid, webhookStatus });
    }

    private static string WhatsApp(string address) =>
        address.StartsWith("whatsapp:", StringComparison.Ordinal) ? address : "whatsapp:" + address.Trim();

    private static string MessageType(string? contentType) => contentType?.Split('/')[0] switch
    {
        "image" => "image",
        "video" => "video",
        "audio" => "audio",
        _ => "document",
    };

    /// <summary>Address filter that ignores the <c>whatsapp:</c> prefix and a leading '+' (a '+' in a query string arrives as a space).</summary>
    private static bool Matches(string? address, string? filter)
    {
        static string Normalize(string value) =>
            (value.StartsWith("whatsapp:", StringComparison.Ordinal) ? value["whatsapp:".Length..] : value).Trim().TrimStart('+');

        return string.IsNullOrWhiteSpace(filter) || (address is not null && Normalize(address) == Normalize(filter));
    }
}
