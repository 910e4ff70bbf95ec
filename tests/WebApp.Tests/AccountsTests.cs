using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>Staff accounts as people use them: invited by an operator, accepted once, signed in, signed out everywhere.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AccountsTests(ConsoleService console)
{
    private const string Password = "una contraseña larga";
    private const string Refused = "The email or password is not right, or the account is locked for a while";

    [Fact]
    public async Task An_operator_invites_a_tenants_owner_who_chooses_a_password_once_and_signs_in_to_the_tenants_console()
    {
        var tenantId = await console.TenantAsync("Clínica Dental Sonrisas");
        var token = await console.InviteAsync(tenantId, "Dueña@Clinica.example", "María Pérez", "OWNER");

        using var browser = console.NewBrowser();
        Assert.Contains("Choose a password for", await browser.PageAsync($"/invitation/{token}"));
        using (var accepted = await console.CreateClient().PostAsJsonAsync($"/account/invitations/{token}", new { password = Password }))
        {
            Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        }

        using (var again = await console.CreateClient().PostAsJsonAsync($"/account/invitations/{token}", new { password = "another long password" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode); // a link works once
        }

        Assert.Contains("This invitation is not valid", await browser.PageAsync($"/invitation/{token}"));

        using var signedIn = await browser.SignInAsync("dueña@clinica.example", Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", OnConsole(signedIn));
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("safenotify.console=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        var home = await browser.PageAsync("/");
        Assert.Contains("Welcome, María Pérez", home);
        Assert.Contains("Clínica Dental Sonrisas", home);
        Assert.Contains("Owner", home);
    }

    [Fact]
    public async Task The_first_owner_named_when_the_tenant_was_created_accepts_the_link_the_operator_was_given()
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        var token = SecretTokens.New();
        var email = $"Fundadora-{Guid.NewGuid():N}@Clinica.example";
        var taken = await console.MemberAsync(await console.TenantAsync(), "AGENT", Password); // an address with an account elsewhere
        await console.HandledAsync(new TenantProvisioned(tenantId, "user-" + tenantId, "Clínica Nueva", true, "pro", null, 3, "America/Bogota", DateTimeOffset.UtcNow)
        {
            FirstOwner = new FirstOwnerInvitation(email, "Dra. Marta Gil", SecretTokens.Hash(token), DateTimeOffset.UtcNow + FirstOwnerInvitation.Lifetime),
        });
        var secondTenant = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        await console.HandledAsync(new TenantProvisioned(secondTenant, "user-" + secondTenant, "Otra", true, "pro", null, 3, "America/Bogota", DateTimeOffset.UtcNow)
        {
            FirstOwner = new FirstOwnerInvitation(taken, "Quien Ya Tiene Cuenta", SecretTokens.Hash(SecretTokens.New()), DateTimeOffset.UtcNow + FirstOwnerInvitation.Lifetime),
        });

        using var browser = console.NewBrowser();
        Assert.Contains("Welcome, Dra. Marta Gil", await browser.PageAsync($"/invitation/{token}"));
        using (var accepted = await browser.PostFormAsync($"/invitation/{token}", "invitation", new() { ["Input.Password"] = Password, ["Input.Confirmation"] = Password }))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }

        var home = await browser.PageAsync("/");
        Assert.Contains("Clínica Nueva", home);
        Assert.Contains("its owner", home);
        Assert.Empty(await console.WithTenantDbAsync(secondTenant, db => db.Accounts.ToListAsync())); // the address stays where it was
    }

    [Fact]
    public async Task The_invitation_page_sets_the_password_and_signs_the_person_in()
    {
        var tenantId = await console.TenantAsync();
        var token = await console.InviteAsync(tenantId, $"asesor-{Guid.NewGuid():N}@clinica.example", "Luis Ortiz", "AGENT");
        using var browser = console.NewBrowser();

        using (var mismatch = await browser.PostFormAsync($"/invitation/{token}", "invitation", new() { ["Input.Password"] = Password, ["Input.Confirmation"] = Password + "!" }))
        {
            Assert.Contains("The two passwords differ.", WebUtility.HtmlDecode(await mismatch.Content.ReadAsStringAsync()));
        }

        using var accepted = await browser.PostFormAsync($"/invitation/{token}", "invitation", new() { ["Input.Password"] = Password, ["Input.Confirmation"] = Password });
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        var home = await browser.PageAsync("/");
        Assert.Contains("Welcome, Luis Ortiz", home);
        Assert.Contains("Advisor", home);
    }

    [Fact]
    public async Task An_unknown_address_a_wrong_password_and_a_locked_account_get_the_same_answer()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "AGENT", Password);
        using var browser = console.NewBrowser();

        var unknown = await AnswerAsync(browser, $"nobody-{Guid.NewGuid():N}@clinica.example", Password);
        var wrong = await AnswerAsync(browser, email, "not the password at all");
        for (var attempt = 2; attempt <= StaffAccount.AllowedFailures; attempt++)
        {
            await AnswerAsync(browser, email, "not the password at all");
        }

        var locked = await AnswerAsync(browser, email, Password); // the right password, but the account is locked now

        Assert.Contains(Refused, unknown);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, locked);
        using var home = await browser.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode); // never signed in
        Assert.StartsWith("/sign-in", home.Headers.Location?.PathAndQuery ?? home.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Signing_out_ends_every_session_of_the_account_in_every_browser()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "ADMIN", Password, "Rosa Díaz");
        using var laptop = console.NewBrowser();
        using var phone = console.NewBrowser();
        using (await laptop.SignInAsync(email, Password))
        using (await phone.SignInAsync(email, Password))
        {
        }

        Assert.Contains("Welcome, Rosa Díaz", await laptop.PageAsync("/"));
        using var signedOut = await laptop.PostFormAsync("/", "", [], action: "/sign-out");
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);

        foreach (var browser in new[] { laptop, phone })
        {
            using var home = await browser.Http.GetAsync("/");
            Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
            Assert.Contains("/sign-in", home.Headers.Location?.OriginalString);
        }
    }

    [Fact]
    public async Task A_session_signed_in_on_one_console_instance_holds_on_another_through_the_key_ring_in_the_database()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "ADMIN", Password, "Diego Torres");
        using var browser = console.NewBrowser();
        using var signedIn = await browser.SignInAsync(email, Password);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("safenotify.console=", StringComparison.Ordinal)).Split(';')[0];

        Assert.True(await console.WithDbAsync(db => db.DataProtectionKeys.AnyAsync()));
        await using var otherInstance = console.WithWebHostBuilder(_ => { });
        using var other = otherInstance.CreateClient(new() { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookie);
        using var home = await other.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("Welcome, Diego Torres", WebUtility.HtmlDecode(await home.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_return_address_after_signing_in_stays_on_the_console()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "AGENT", Password);
        using var browser = console.NewBrowser();

        using var response = await browser.PostFormAsync("/sign-in?returnUrl=https%3A%2F%2Fevil.example%2F", "sign-in",
            new() { ["Input.Email"] = email, ["Input.Password"] = Password });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", OnConsole(response));
    }

    /// <summary>The path a redirect leads to, when it stays on the console (null when it leaves it).</summary>
    private static string? OnConsole(HttpResponseMessage response)
    {
        var target = new Uri(new Uri("http://localhost/"), response.Headers.Location!);
        return target.Host == "localhost" ? target.PathAndQuery : null;
    }

    private static async Task<string> AnswerAsync(ConsoleService.Browser browser, string email, string password)
    {
        using var response = await browser.SignInAsync(email, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        var start = page.IndexOf("role=\"alert\"", StringComparison.Ordinal);
        Assert.True(start >= 0, "the page shows no message");
        return page[start..page.IndexOf("</p>", start, StringComparison.Ordinal)];
    }
}
