using System.Globalization;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

using SafeNotify.Crm.Ingress.Model;

namespace SafeNotify.Crm.Ingress.Services;

public static class InboundParser
{
    private const string WhatsAppPrefix = "whatsapp:";
    private const int MaxMedia = 10;

    /// <summary>Reads the form, or says which required field is missing or malformed.</summary>
    public static bool TryParse(IReadOnlyDictionary<string, string> form, out ParsedInbound? parsed, out string? error)
    {
        parsed = null;
        error = null;
        string? Field(string name) => form.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

        var messageSid = Field("MessageSid") ?? Field("SmsMessageSid");
        var accountSid = Field("AccountSid");
        var to = Address(Field("To"));
        var customerId = Address(Field("From"));
        if (messageSid is null || messageSid.Length > 64 || accountSid is null || to is null || customerId is null)
        {
            error = "MessageSid, AccountSid, From and To are required.";
            return false;
        }

        var media = new List<WhatsAppMedia>();
        var count = int.TryParse(Field("NumMedia"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Math.Min(n, MaxMedia) : 0;
        for (var i = 0; i < count; i++)
        {
            if (Field($"MediaUrl{i}") is { } url)
            {
                media.Add(new WhatsAppMedia(url, Field($"MediaContentType{i}")));
            }
        }

        // A point on the globe or nothing: "NaN", "Infinity" or 91° are no place (and JSON cannot even hold NaN).
        // The message itself is kept, as Twilio would deliver it; the raw payload still has what was sent.
        WhatsAppLocation? location = null;
        if (Coordinate(Field("Latitude"), 90) is { } latitude && Coordinate(Field("Longitude"), 180) is { } longitude)
        {
            location = new WhatsAppLocation(latitude, longitude, Field("Label"), Field("Address"));
        }

        // A customer id may be a WhatsApp username id rather than a phone number: the phone is only
        // filled when there is one (From itself, or WaId's digits).
        var waId = Field("WaId")?.Trim();
        var phone = Validators.IsE164(customerId) ? customerId
            : waId is not null && Validators.IsE164("+" + waId) ? "+" + waId
            : null;

        parsed = new ParsedInbound(messageSid, accountSid, to, customerId, phone, Field("ProfileName"), Field("Body"), media, location,
            Field("ButtonPayload"), Field("ButtonText"), waId is { Length: > 0 } ? waId : null);
        return true;
    }

    private static double? Coordinate(string? text, double limit) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && Math.Abs(value) <= limit
            ? value
            : null;

    private static string? Address(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var address = value.StartsWith(WhatsAppPrefix, StringComparison.OrdinalIgnoreCase) ? value[WhatsAppPrefix.Length..] : value;
        address = address.Trim();
        return address.Length is > 0 and <= 128 ? address : null;
    }
}
