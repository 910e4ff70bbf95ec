using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.TwilioStandIn;

/// <summary>
/// Builds the Twilio stand-in: Twilio's Messages REST API (<c>/2010-04-01/...</c>) and a control API
/// (<c>/_standin/...</c>) for tests and developers. Run it as its own process or start it inside a test.
/// </summary>
public static class TwilioStandInApp
{
    private const string ApiVersion = "2010-04-01";
    private const int MaxBodyLength = 1600;

    public static WebApplication Build(string[] args, Action<TwilioStandInOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(TwilioStandInApp).Assembly.GetName().Name,
        });
        builder.Services.Configure<TwilioStandInOptions>(builder.Configuration.GetSection(TwilioStandInOptions.SectionName));
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }

        builder.Services.AddSingleton<TwilioStandInState>();
        builder.Services.AddSingleton<TwilioWebhookSender>();
        // Twilio gives a webhook 15 s to answer.
        builder.Services.AddHttpClient(TwilioWebhookSender.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15));
        builder.Services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false)));

        var app = builder.Build();
        app.MapPost("/2010-04-01/Accounts/{accountSid}/Messages.json", CreateMessageAsync);
        app.MapGet("/2010-04-01/Accounts/{accountSid}/Messages/{messageSid}.json", FetchMessage);
        app.MapGet("/2010-04-01/Accounts/{accountSid}/Messages.json", ListMessages);
        app.MapStandInControl();
        return app;
    }

    private static async Task<IResult> CreateMessageAsync(
        string accountSid, HttpRequest request, TwilioStandInState state, TwilioWebhookSender webhooks, IOptions<TwilioStandInOptions> options)
    {
        if (!IsAuthenticated(request, accountSid, options.Value))
        {
            return TwilioError(401, 20003, "Authenticate");
        }

        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        var fault = state.TakeFault();
        if (fault is { DelayMs: > 0, Mode: not TwilioFaultMode.DelayAfterAccept })
        {
            await Task.Delay(fault.DelayMs, request.HttpContext.RequestAborted);
        }

        switch (fault?.Mode)
        {
            case TwilioFaultMode.Status429: return TwilioError(429, 20429, "Too Many Requests");
            case TwilioFaultMode.Status500: return TwilioError(500, 20500, "Internal Server Error");
            case TwilioFaultMode.Status503: return TwilioError(503, 20503, "Service Unavailable");
            case TwilioFaultMode.DropBeforeAccept:
                request.HttpContext.Abort();
                return Results.Empty;
            case TwilioFaultMode.Error63016:
                return TwilioError(400, 63016, "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.");
        }

        string? Field(string name) => form.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;
        var (to, from, body, contentSid, contentVariables, serviceSid) =
            (Field("To"), Field("From"), Field("Body"), Field("ContentSid"), Field("ContentVariables"), Field("MessagingServiceSid"));
        var mediaUrls = form["MediaUrl"].Where(u => !string.IsNullOrEmpty(u)).Select(u => u!).ToList();

        // Twilio's own codes and texts for what it refuses.
        if (to is null) return TwilioError(400, 21604, "A 'To' phone number is required.");
        if (!IsWhatsAppAddress(to)) return TwilioError(400, 21211, $"Invalid 'To' Phone Number: {to}");
        if (from is null && serviceSid is null) return TwilioError(400, 21603, "A 'From' phone number is required.");
        if (from is not null && !IsWhatsAppAddress(from)) return TwilioError(400, 21212, $"Invalid 'From' Phone Number: {from}");
        if (body is null && contentSid is null && mediaUrls.Count == 0) return TwilioError(400, 21602, "Message body is required.");
        if (body?.Length > MaxBodyLength) return TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
        if (contentVariables is not null && !IsJsonObject(contentVariables)) return TwilioError(400, 21656, "The ContentVariables Parameter is invalid.");

        var now = DateTimeOffset.UtcNow;
        var message = new SentMessage(
            Sid: "SM" + Guid.NewGuid().ToString("N"),
            AccountSid: accountSid,
            From: from,
            To: to,
            Body: body,
            ContentSid: contentSid,
            ContentVariables: contentVariables,
            MessagingServiceSid: serviceSid,
            MediaUrls: mediaUrls,
            StatusCallback: Field("StatusCallback"),
            Status: "queued",
            ErrorCode: null,
            CreatedAt: now,
            UpdatedAt: now,
            SentAt: null)
        {
            TraceParent = request.Headers["traceparent"].FirstOrDefault(),
            Fault = fault?.Mode,
        };
        state.Add(message);
        webhooks.StartLifecycle(message, fault);
        if (fault?.Mode == TwilioFaultMode.DropAfterAccept)
        {
            request.HttpContext.Abort();
            return Results.Empty;
        }

        if (fault is { Mode: TwilioFaultMode.DelayAfterAccept, DelayMs: > 0 })
        {
            await Task.Delay(fault.DelayMs, request.HttpContext.RequestAborted);
        }

        return Results.Json(ToResource(message), statusCode: 201);
    }

    private static IResult FetchMessage(string accountSid, string messageSid, HttpRequest request, TwilioStandInState state, IOptions<TwilioStandInOptions> options)
    {
        if (!IsAuthenticated(request, accountSid, options.Value))
        {
            return TwilioError(401, 20003, "Authenticate");
        }

        return state.FindMessage(messageSid) is { } message && message.AccountSid == accountSid
            ? Results.Json(ToResource(message))
            : TwilioError(404, 20404, $"The requested resource /2010-04-01/Accounts/{accountSid}/Messages/{messageSid}.json was not found");
    }

    /// <summary>Twilio's list of messages, newest first, filtered by To and From (one page: no next page).</summary>
    private static IResult ListMessages(string accountSid, HttpRequest request, TwilioStandInState state, IOptions<TwilioStandInOptions> options)
    {
        if (!IsAuthenticated(request, accountSid, options.Value))
        {
            return TwilioError(401, 20003, "Authenticate");
        }

        var to = request.Query["To"].ToString();
        var from = request.Query["From"].ToString();
        var pageSize = int.TryParse(request.Query["PageSize"], out var size) ? Math.Clamp(size, 1, 1000) : 50;
        var messages = state.SentMessages
            .Where(m => m.AccountSid == accountSid && (to.Length == 0 || m.To == to) && (from.Length == 0 || m.From == from))
            .OrderByDescending(m => m.CreatedAt)
            .Take(pageSize)
            .Select(ToResource)
            .ToList();
        var uri = $"/{ApiVersion}/Accounts/{accountSid}/Messages.json?PageSize={pageSize}&Page=0";
        return Results.Json(new Dictionary<string, object?>
        {
            ["messages"] = messages,
            ["end"] = Math.Max(messages.Count - 1, 0),
            ["first_page_uri"] = uri,
            ["next_page_uri"] = null,
            ["page"] = 0,
            ["page_size"] = pageSize,
            ["previous_page_uri"] = null,
            ["start"] = 0,
            ["uri"] = uri,
        });
    }

    /// <summary>HTTP Basic with the path's account SID as user name and that account's auth token as password.</summary>
    private static bool IsAuthenticated(HttpRequest request, string accountSid, TwilioStandInOptions options)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || options.FindAuthToken(accountSid) is not { } token)
        {
            return false;
        }

        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = Encoding.UTF8.GetBytes($"{accountSid}:{token}");
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credentials), expected);
    }

    /// <summary><c>whatsapp:</c> followed by an E.164 number or another WhatsApp id (no spaces).</summary>
    private static bool IsWhatsAppAddress(string address)
    {
        if (!address.StartsWith("whatsapp:", StringComparison.Ordinal))
        {
            return false;
        }

        var id = address["whatsapp:".Length..];
        return id.Length > 0 && !id.Any(char.IsWhiteSpace)
            && (id[0] != '+' || (id.Length is >= 8 and <= 16 && id[1..].All(char.IsAsciiDigit)));
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Twilio's message resource, field for field as its API returns it (snake_case, RFC 1123 dates).</summary>
    private static Dictionary<string, object?> ToResource(SentMessage m)
    {
        var uri = $"/{ApiVersion}/Accounts/{m.AccountSid}/Messages/{m.Sid}";
        return new()
        {
            ["account_sid"] = m.AccountSid,
            ["api_version"] = ApiVersion,
            ["body"] = m.Body ?? RenderedTemplate(m),
            ["date_created"] = Rfc1123(m.CreatedAt),
            ["date_sent"] = m.SentAt is { } sentAt ? Rfc1123(sentAt) : null,
            ["date_updated"] = Rfc1123(m.UpdatedAt),
            ["direction"] = "outbound-api",
            ["error_code"] = m.ErrorCode,
            ["error_message"] = null,
            ["from"] = m.From,
            ["messaging_service_sid"] = m.MessagingServiceSid,
            ["num_media"] = m.MediaUrls.Count.ToString(CultureInfo.InvariantCulture),
            ["num_segments"] = "1",
            ["price"] = null,
            ["price_unit"] = "USD",
            ["sid"] = m.Sid,
            ["status"] = m.Status,
            ["subresource_uris"] = new Dictionary<string, string> { ["media"] = uri + "/Media.json", ["feedback"] = uri + "/Feedback.json" },
            ["to"] = m.To,
            ["uri"] = uri + ".json",
        };
    }

    /// <summary>
    /// A template send's text as Twilio lists it: the approved template rendered with its variables. The stand-in does
    /// not know the templates' texts, so it renders the Content SID followed by the variables' values in order.
    /// </summary>
    private static string RenderedTemplate(SentMessage m)
    {
        if (m.ContentSid is null)
        {
            return "";
        }

        using var variables = JsonDocument.Parse(m.ContentVariables ?? "{}");
        var values = variables.RootElement.EnumerateObject().OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => v.Value.ToString());
        return string.Join(" ", values.Prepend($"[{m.ContentSid}]"));
    }

    internal static string Rfc1123(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);

    internal static IResult TwilioError(int status, int code, string message) =>
        Results.Json(new Dictionary<string, object> { ["code"] = code, ["message"] = message, ["more_info"] = $"https://www.twilio.com/docs/errors/{code}", ["status"] = status }, statusCode: status);
}
