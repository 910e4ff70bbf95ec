using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;
using SafeNotify.Crm.WebApp.Data;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>
/// The console over a real database and broker. Tests play Routing (they publish its tenant events), call the operators'
/// API as the gateway would, and use the console's pages as a browser without scripts does: they read a form, post it
/// with its antiforgery token and follow the session cookie.
/// </summary>
public sealed partial class ConsoleService() : ServiceFactory<Program, WebAppDbContext>("webapp")
{
    public const string PublicBaseUrl = "https://crm.example";
    public const string FirstOperatorEmail = "operator@safenotify.example";
    public const string FirstOperatorPassword = "first operator's long password";

    protected override void ConfigureService(IWebHostBuilder builder)
    {
        builder.UseSetting("Crm:Console:PublicBaseUrl", PublicBaseUrl);
        builder.UseSetting("Crm:Console:FirstOperator:Email", FirstOperatorEmail);
        builder.UseSetting("Crm:Console:FirstOperator:Password", FirstOperatorPassword);
        builder.UseSetting("Crm:Identity:SigningKey", ConsoleKey.SigningKey);
    }

    /// <summary>A tenant the console has heard of from Routing.</summary>
    public async Task<string> TenantAsync(string name = "Clínica Dental Sonrisas")
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        await HandledAsync(new TenantProvisioned(tenantId, "user-" + tenantId, name, true, "pro", null, 3, "America/Bogota", DateTimeOffset.UtcNow));
        return tenantId;
    }

    /// <summary>Invites <paramref name="email"/> as an operator would; returns the invitation's token.</summary>
    public async Task<string> InviteAsync(string tenantId, string email, string displayName, string role)
    {
        using var response = await OperatorClient().PostAsJsonAsync($"/api/admin/tenants/{tenantId}/staff", new { email, displayName, role });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {body}");
        var link = JsonNode.Parse(body)!["invitationLink"]!.GetValue<string>();
        Assert.StartsWith(PublicBaseUrl + "/invitation/", link, StringComparison.Ordinal);
        return link[(link.LastIndexOf('/') + 1)..];
    }

    /// <summary>A member who accepted an invitation with <paramref name="password"/>.</summary>
    public async Task<string> MemberAsync(string tenantId, string role, string password, string displayName = "Ana Gómez")
    {
        var email = $"member-{Guid.NewGuid():N}@clinica.example";
        var token = await InviteAsync(tenantId, email, displayName, role);
        using var accepted = await CreateClient().PostAsJsonAsync($"/account/invitations/{token}", new { password });
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        return email;
    }

    /// <summary>A browser of its own: its own cookies, redirects shown to the test.</summary>
    public Browser NewBrowser() => new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));

    public sealed partial class Browser(HttpClient http) : IDisposable
    {
        public HttpClient Http { get; } = http;

        /// <summary>Fills and posts the sign-in form; the response as the browser gets it.</summary>
        public Task<HttpResponseMessage> SignInAsync(string email, string password) =>
            PostFormAsync("/sign-in", "sign-in", new() { ["Input.Email"] = email, ["Input.Password"] = password });

        /// <summary>Gets the page at <paramref name="path"/>, then posts its form <paramref name="formName"/> with <paramref name="fields"/>.</summary>
        public Task<HttpResponseMessage> PostFormAsync(string path, string formName, Dictionary<string, string> fields, string? action = null) =>
            PostFormFromPageAsync(path, formName, _ => fields, action);

        /// <summary>As <see cref="PostFormAsync(string, string, Dictionary{string, string}, string?)"/>, with fields that depend on what the page shows.</summary>
        public async Task<HttpResponseMessage> PostFormFromPageAsync(string path, string formName, Func<string, Dictionary<string, string>> fieldsFor, string? action = null)
        {
            var page = await Http.GetStringAsync(path);
            var form = new Dictionary<string, string>(fieldsFor(WebUtility.HtmlDecode(page)))
            {
                ["__RequestVerificationToken"] = AntiforgeryToken().Match(page) is { Success: true } token
                    ? WebUtility.HtmlDecode(token.Groups[1].Value)
                    : throw new InvalidOperationException($"{path} has no antiforgery token."),
                ["_handler"] = formName,
            };
            return await Http.PostAsync(action ?? path, new FormUrlEncodedContent(form));
        }

        /// <summary>Posts the authenticator's code on the second step of signing in.</summary>
        public Task<HttpResponseMessage> SecondFactorAsync(string code) =>
            PostFormAsync("/sign-in/second-factor", "second-factor", new() { ["Input.Code"] = code });

        public async Task<string> PageAsync(string path)
        {
            using var response = await Http.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {response.Headers.Location}");
            return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        }

        public void Dispose() => Http.Dispose();

        [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
        private static partial Regex AntiforgeryToken();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleService>
{
    public const string Name = "console";
}
