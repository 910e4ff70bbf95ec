using System.Net;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>An address the console does not have answers 404 with its own page, signed in or not, in the person's language.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class NotFoundPageTests(ConsoleService console)
{
    [Theory]
    [InlineData("/tenants/tnt_otro", "en-US", "This page does not exist")]
    [InlineData("/no/existe", "es-CO", "Esta página no existe")]
    public async Task An_unknown_address_is_a_404_with_the_consoles_page(string path, string language, string heading)
    {
        using var browser = console.NewBrowser();
        browser.Http.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);

        using var response = await browser.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains($"<h1>{heading}</h1>", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }
}
