using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Ingress.Services;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>The signature check against Twilio's published example and the URL Twilio called, rebuilt behind the gateway.</summary>
public sealed class SignatureTests
{
    // Twilio's documented example (the twilio-csharp test suite and the security docs): token 12345.
    private const string ExampleUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
    private const string ExampleSignature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    private static readonly Dictionary<string, string> ExampleForm = new()
    {
        ["CallSid"] = "CA1234567890ABCDE",
        ["From"] = "+14158675309",
        ["Digits"] = "1234",
        ["To"] = "+18005551212",
        ["Caller"] = "+14158675309",
    };

    [Fact]
    public void Twilios_published_example_is_accepted_and_any_change_to_it_is_refused()
    {
        Assert.True(TwilioSignatureChecker.Verify(ExampleUrl, ExampleForm, ExampleSignature, "12345"));
        Assert.False(TwilioSignatureChecker.Verify(ExampleUrl, ExampleForm, ExampleSignature, "12346"));
        Assert.False(TwilioSignatureChecker.Verify(ExampleUrl.Replace("foo=1", "foo=2"), ExampleForm, ExampleSignature, "12345"));
        Assert.False(TwilioSignatureChecker.Verify(ExampleUrl, new Dictionary<string, string>(ExampleForm) { ["Digits"] = "1235" }, ExampleSignature, "12345"));
        Assert.False(TwilioSignatureChecker.Verify(ExampleUrl, ExampleForm, "", "12345"));
    }

    [Fact]
    public void The_tests_own_signer_reproduces_Twilios_published_example()
    {
        // The tests sign webhooks with an implementation of their own; it must agree with Twilio's example.
        Assert.Equal(ExampleSignature, TwilioSigner.Sign("12345", ExampleUrl, ExampleForm));
    }

    [Fact]
    public void Behind_the_gateway_the_public_url_comes_from_configuration_with_the_path_and_query_Twilio_called()
    {
        var checker = Checker(publicBaseUrl: "https://crm.safenotify.co/");
        var request = Request("/webhooks/twilio/whatsapp", "?source=whatsapp", host: "ingress:8080");
        Assert.Equal("https://crm.safenotify.co/webhooks/twilio/whatsapp?source=whatsapp", checker.PublicUrl(request));
    }

    [Fact]
    public void Without_configuration_the_public_url_is_rebuilt_from_the_forwarded_headers()
    {
        var checker = Checker(publicBaseUrl: null);
        var request = Request("/webhooks/twilio/whatsapp", "", host: "ingress:8080");
        request.Headers["X-Forwarded-Proto"] = "https";
        request.Headers["X-Forwarded-Host"] = "crm.safenotify.co";
        Assert.Equal("https://crm.safenotify.co/webhooks/twilio/whatsapp", checker.PublicUrl(request));
    }

    [Fact]
    public void An_unknown_account_or_a_missing_signature_never_passes()
    {
        var checker = Checker(publicBaseUrl: "https://crm.safenotify.co");
        var form = new Dictionary<string, string> { ["AccountSid"] = "AC99999999999999999999999999999999", ["Body"] = "hola" };
        var request = Request("/webhooks/twilio/whatsapp", "", host: "ingress");
        request.Headers["X-Twilio-Signature"] = TwilioSigner.Sign("anything", "https://crm.safenotify.co/webhooks/twilio/whatsapp", form);
        Assert.False(checker.IsGenuine(request, form));

        form["AccountSid"] = IngressService.AccountSid;
        request.Headers.Remove("X-Twilio-Signature");
        Assert.False(checker.IsGenuine(request, form));
    }

    private static TwilioSignatureChecker Checker(string? publicBaseUrl) => new(Options.Create(new TwilioOptions
    {
        AccountSid = IngressService.AccountSid,
        AuthToken = IngressService.AuthToken,
        PublicBaseUrl = publicBaseUrl,
    }));

    private static HttpRequest Request(string path, string query, string host)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString(host);
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query.Length == 0 ? null : query);
        return context.Request;
    }
}
