using System.Net;
using System.Net.Http.Headers;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>
/// The console speaks English and Spanish: the browser's language by default, the one a person chooses from any page
/// after that. The page says which it is in, and a refusal from the model reads in the page's language too.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class LanguageTests(ConsoleService console)
{
    [Theory]
    [InlineData("es-CO,es;q=0.9,en;q=0.5", "es", "Iniciar sesión", "Correo electrónico")]
    [InlineData("en-US,en;q=0.9", "en", "Sign in", "Email")]
    [InlineData("de-DE", "en", "Sign in", "Email")] // a language the console does not speak: English
    public async Task The_sign_in_page_speaks_the_browsers_language(string acceptLanguage, string lang, string heading, string label)
    {
        using var browser = console.NewBrowser();
        browser.Http.DefaultRequestHeaders.AcceptLanguage.ParseAdd(acceptLanguage);

        var page = await browser.PageAsync("/sign-in");

        Assert.Contains($"<html lang=\"{lang}\"", page, StringComparison.Ordinal);
        Assert.Contains($"<h1>{heading}</h1>", page, StringComparison.Ordinal);
        Assert.Contains($">{label}</label>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_language_chosen_in_the_console_holds_over_the_browsers_and_the_models_sentences_follow_it()
    {
        var tenantId = await console.TenantAsync();
        var token = await console.InviteAsync(tenantId, $"nueva-{Guid.NewGuid():N}@clinica.example", "Nueva Asesora", "AGENT");
        using var browser = console.NewBrowser();
        browser.Http.DefaultRequestHeaders.AcceptLanguage.Add(new StringWithQualityHeaderValue("en-US"));

        using (var chosen = await browser.PostFormAsync("/sign-in", "", new() { ["language"] = "es", ["returnUrl"] = $"/invitation/{token}" }, action: "/language"))
        {
            Assert.Equal(HttpStatusCode.Redirect, chosen.StatusCode);
            Assert.Equal($"/invitation/{token}", chosen.Headers.Location?.OriginalString);
        }

        var invitation = await browser.PageAsync($"/invitation/{token}");
        Assert.Contains("<h1>Bienvenido(a), Nueva Asesora</h1>", invitation, StringComparison.Ordinal);

        // A password the model refuses: its sentence in Spanish.
        using var refused = await browser.PostFormAsync($"/invitation/{token}", "invitation",
            new() { ["Input.Password"] = "corta", ["Input.Confirmation"] = "corta" });
        Assert.Contains("Elija una contraseña de al menos 12 caracteres.", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);

        // A return address that leaves the console is not followed.
        using var away = await browser.PostFormAsync("/sign-in", "", new() { ["language"] = "en", ["returnUrl"] = "https://example.com/" }, action: "/language");
        Assert.Equal("/", away.Headers.Location?.OriginalString);
    }
}
