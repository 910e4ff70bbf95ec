using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OtpNet;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The staff console in a real browser (Debian's Chromium through Playwright), reached through the gateway like every
/// user reaches it: an invitation accepted, the live console connected, a sign-out, a refused and a right sign-in.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed partial class ConsoleTests(SystemFixture system)
{
    private const string Password = "una contraseña bien larga";
    private const string NewPassword = "otra contraseña, también larga";

    [Fact]
    public async Task An_invited_owner_sets_a_password_uses_the_live_console_through_the_gateway_and_signs_out()
    {
        var tenant = await system.CreateTenantAsync("Clínica del Navegador");
        var email = $"duena-{Guid.NewGuid():N}@clinica.example";
        var invitation = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/staff", SystemFixture.OperatorKey,
            new { email, displayName = "María Pérez", role = "OWNER" }, expected: 201);
        var link = invitation["invitationLink"]!.GetValue<string>();
        Assert.StartsWith(system.Gateway.BaseAddress!.ToString().TrimEnd('/') + "/invitation/", link, StringComparison.Ordinal);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var errors = new List<string>(); // a refused script or style (the Content-Security-Policy), a failed connection
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };

        await page.GotoAsync(link);
        await page.GetByLabel("New password").FillAsync(Password);
        await page.GetByLabel("Repeat the password").FillAsync(Password);
        // The console's live connection is a WebSocket through the gateway; it must carry the circuit's frames.
        var circuitAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        page.WebSocket += (_, socket) =>
        {
            if (socket.Url.Contains("/_blazor", StringComparison.Ordinal))
            {
                socket.FrameReceived += (_, _) => circuitAnswered.TrySetResult();
            }
        };
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, María Pérez" })).ToBeVisibleAsync();
        await Expect(page.GetByText("Clínica del Navegador")).ToBeVisibleAsync();
        await circuitAnswered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The console runs as two instances; the gateway keeps this browser on one, where its live connection is.
        Assert.Contains(await page.Context.CookiesAsync(), cookie => cookie.Name == "safenotify.console.instance" && cookie.HttpOnly);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(SignInPage());

        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync("no es la contraseña");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The email or password is not right");

        await page.GetByLabel("Email").FillAsync(email.ToUpperInvariant());
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, María Pérez" })).ToBeVisibleAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_tenant_created_with_its_first_owner_gives_the_operator_the_link_the_owner_signs_in_with()
    {
        var created = await system.CallAsync(HttpMethod.Post, "/api/admin/tenants", SystemFixture.OperatorKey, new
        {
            safeNotifyUserId = $"user-{Guid.NewGuid():N}", name = "Gimnasio Fuerza", crmPlan = "pro",
            firstOwner = new { email = $"dueno-{Guid.NewGuid():N}@gimnasio.example", displayName = "Camilo Vargas" },
        }, expected: 201);
        var link = created["firstOwnerInvitationLink"]!.GetValue<string>();
        Assert.StartsWith(system.Gateway.BaseAddress!.ToString().TrimEnd('/') + "/invitation/", link, StringComparison.Ordinal);

        // The console hears of the tenant a moment later: until then the link is not valid yet.
        var accepted = HttpStatusCode.NotFound;
        for (var attempt = 0; attempt < 100 && accepted == HttpStatusCode.NotFound; attempt++)
        {
            using var response = await system.Gateway.PostAsJsonAsync(new Uri(link).AbsolutePath.TrimStart('/').Replace("invitation/", "account/invitations/", StringComparison.Ordinal),
                new { password = Password });
            accepted = response.StatusCode;
            if (accepted == HttpStatusCode.NotFound)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(HttpStatusCode.NoContent, accepted);
    }

    [Fact]
    public async Task A_page_of_the_console_asked_for_without_a_session_goes_to_sign_in_and_back_after_it()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        var response = await page.GotoAsync(system.Gateway.BaseAddress!.ToString());

        Assert.Equal(200, response!.Status);
        await Expect(page).ToHaveURLAsync(SignInPage());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_owner_invites_an_advisor_from_the_staff_page_and_disabling_the_advisor_ends_the_advisors_session()
    {
        var tenant = await system.CreateTenantAsync("Clínica del Equipo");
        var ownerEmail = $"dueno-{Guid.NewGuid():N}@clinica.example";
        var invitation = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/staff", SystemFixture.OperatorKey,
            new { email = ownerEmail, displayName = "Jorge Ruiz", role = "OWNER" }, expected: 201);
        var token = invitation["invitationLink"]!.GetValue<string>().Split('/')[^1];
        await system.CallAsync(HttpMethod.Post, $"/account/invitations/{token}", null, new { password = Password }, expected: 204);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var errors = new List<string>(); // an open console that failed (its circuit ended) says so in the browser's console
        var owner = await (await browser.NewContextAsync()).NewPageAsync();
        owner.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        await SignInAsync(owner, ownerEmail, Password);
        await owner.GetByRole(AriaRole.Link, new() { Name = "Staff" }).ClickAsync();
        await Expect(owner.GetByRole(AriaRole.Heading, new() { Name = "Staff", Exact = true })).ToBeVisibleAsync();
        await Expect(owner.GetByRole(AriaRole.Button, new() { Name = "Invite" })).ToBeEnabledAsync(); // the live connection is up
        await Expect(owner.GetByRole(AriaRole.Row).Filter(new() { HasText = "Jorge Ruiz" })).ToBeVisibleAsync();

        var advisorEmail = $"asesora-{Guid.NewGuid():N}@clinica.example";
        await owner.GetByLabel("Email", new() { Exact = true }).FillAsync(advisorEmail);
        await owner.GetByLabel("Name", new() { Exact = true }).FillAsync("Lucía Gómez");
        await owner.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("Agent");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Invite" }).ClickAsync();
        var link = await owner.Locator(".invitation-link").TextContentAsync();
        await Expect(owner.GetByRole(AriaRole.Row).Filter(new() { HasText = "Lucía Gómez" })).ToContainTextAsync("Invited");

        var advisor = await (await browser.NewContextAsync()).NewPageAsync();
        await advisor.GotoAsync(link!.Trim());
        await advisor.GetByLabel("New password").FillAsync(Password);
        await advisor.GetByLabel("Repeat the password").FillAsync(Password);
        await advisor.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await Expect(advisor.GetByRole(AriaRole.Heading, new() { Name = "Welcome, Lucía Gómez" })).ToBeVisibleAsync();
        await Expect(advisor.GetByRole(AriaRole.Link, new() { Name = "Staff" })).ToHaveCountAsync(0); // owners only

        await owner.ReloadAsync();
        await Expect(owner.GetByRole(AriaRole.Row).Filter(new() { HasText = "Lucía Gómez" })).ToContainTextAsync("Active");

        // A new role ends the member's sessions: her open console notices and she signs in again with it.
        await Expect(owner.GetByLabel("Role of Lucía Gómez")).ToBeEnabledAsync();
        await owner.GetByLabel("Role of Lucía Gómez").SelectOptionAsync("Admin");
        await Expect(advisor).ToHaveURLAsync(SignInPage(), new() { Timeout = 20_000 });

        // She has forgotten her password: the owner makes her a one-time link, and she signs in with the new one.
        await owner.GetByRole(AriaRole.Button, new() { Name = "Reset the password of Lucía Gómez" }).ClickAsync();
        var reset = await owner.Locator(".invitation-link").TextContentAsync();
        Assert.Contains("/password-reset/", reset, StringComparison.Ordinal);
        await advisor.GotoAsync(reset!.Trim());
        await advisor.GetByLabel("New password").FillAsync(NewPassword);
        await advisor.GetByLabel("Repeat the password").FillAsync(NewPassword);
        await advisor.GetByRole(AriaRole.Button, new() { Name = "Set the new password" }).ClickAsync();
        await Expect(advisor.GetByRole(AriaRole.Status)).ToContainTextAsync("Your new password is set");
        await SignInAsync(advisor, advisorEmail, NewPassword);
        await Expect(advisor.GetByText("as an admin")).ToBeVisibleAsync();
        await Expect(owner.GetByRole(AriaRole.Button, new() { Name = "Disable Lucía Gómez" })).ToBeEnabledAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Disable Lucía Gómez" }).ClickAsync();
        await Expect(owner.GetByRole(AriaRole.Row).Filter(new() { HasText = "Lucía Gómez" })).ToContainTextAsync("Disabled");

        // The advisor's open console notices by itself at its next check, and goes to the sign-in page.
        await Expect(advisor).ToHaveURLAsync(SignInPage(), new() { Timeout = 20_000 });
        await SignInAsync(advisor, advisorEmail, NewPassword, expectWelcome: false);
        await Expect(advisor.GetByRole(AriaRole.Alert)).ToContainTextAsync("The email or password is not right");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_operator_opens_the_console_only_after_setting_up_and_passing_an_authenticator_code()
    {
        var email = $"operadora-{Guid.NewGuid():N}@safenotify.example";
        var invitation = await system.CallAsync(HttpMethod.Post, "/api/admin/operators", SystemFixture.OperatorKey,
            new { email, displayName = "Sofía Herrera" }, expected: 201);
        var token = invitation["invitationLink"]!.GetValue<string>().Split('/')[^1];
        await system.CallAsync(HttpMethod.Post, $"/account/invitations/{token}", null, new { password = Password }, expected: 204);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await SignInAsync(page, email, Password, expectWelcome: false);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Second factor" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "QR code that adds SafeNotify CRM to an authenticator app" })).ToBeVisibleAsync();
        var key = (await page.Locator(".authenticator-key").TextContentAsync())!.Replace(" ", "", StringComparison.Ordinal);

        await page.GotoAsync(system.Gateway.BaseAddress!.ToString()); // the password alone opens nothing
        await Expect(page).ToHaveURLAsync(SignInPage());

        await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "sign-in/second-factor").ToString());
        await page.GetByLabel("Code").FillAsync(new Totp(Base32Encoding.ToBytes(key)).ComputeTotp());
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify and sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, Sofía Herrera" })).ToBeVisibleAsync();
        await Expect(page.GetByText("one of SafeNotify's operators")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task An_advisor_cannot_open_staff_management_or_api_keys_and_routing_refuses_the_same_call_the_owner_makes()
    {
        var tenant = await system.CreateTenantAsync("Clínica de Roles");
        var (ownerId, ownerEmail) = await MemberAsync(tenant.Id, "Jorge Ruiz", "OWNER");
        var (advisorId, advisorEmail) = await MemberAsync(tenant.Id, "Lucía Gómez", "AGENT");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var advisor = await (await browser.NewContextAsync()).NewPageAsync();
        await SignInAsync(advisor, advisorEmail, Password);
        await Expect(advisor.GetByRole(AriaRole.Link, new() { Name = "API keys" })).ToHaveCountAsync(0);
        foreach (var ownersPage in new[] { "staff", "api-keys" })
        {
            await advisor.GotoAsync(new Uri(system.Gateway.BaseAddress!, ownersPage).ToString());
            await Expect(advisor.GetByRole(AriaRole.Heading, new() { Name = "This page is not for your role" })).ToBeVisibleAsync();
        }

        // The console calls Routing directly with an identity it signs; Routing checks the role itself.
        var console = system.ConsoleSigner();
        using var routing = system.App.CreateHttpClient("routing");
        async Task<HttpStatusCode> KeysAsAsync(CallerIdentity caller)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tenant/api-keys");
            request.Headers.Add(CallerIdentity.Header, console.Create(caller));
            using var response = await routing.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await KeysAsAsync(CallerIdentity.Member(tenant.Id, TenantRole.Agent, advisorId, "Lucía Gómez")));
        Assert.Equal(HttpStatusCode.OK, await KeysAsAsync(CallerIdentity.Member(tenant.Id, TenantRole.Owner, ownerId, "Jorge Ruiz")));
        using (var asKey = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/tenant/api-keys", tenant.ApiKey)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, asKey.StatusCode); // a key acts as an admin and never manages keys
        }

        // The owner issues a key from the console; it works through the gateway until the owner revokes it.
        var owner = await (await browser.NewContextAsync()).NewPageAsync();
        await SignInAsync(owner, ownerEmail, Password);
        await owner.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await Expect(owner.GetByRole(AriaRole.Heading, new() { Name = "API keys" })).ToBeVisibleAsync();
        await Expect(owner.GetByRole(AriaRole.Button, new() { Name = "Issue a key" })).ToBeEnabledAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Issue a key" }).ClickAsync();
        var issued = (await owner.Locator(".issued-key").TextContentAsync())!.Trim();
        await system.CallAsync(HttpMethod.Get, "/api/tenant", issued);
        var prefix = issued[..12];
        await owner.GetByRole(AriaRole.Button, new() { Name = $"Revoke the key {prefix}" }).ClickAsync();
        await Expect(owner.GetByRole(AriaRole.Row).Filter(new() { HasText = prefix })).ToContainTextAsync("Revoked");
        await Eventually.TrueAsync(async () =>
        {
            using var refused = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/tenant", issued));
            return refused.StatusCode == HttpStatusCode.Unauthorized;
        }, "the revoked key refused at the gateway", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_member_of_one_business_never_sees_another_businesss_console_also_by_address()
    {
        var clinic = await system.CreateTenantAsync("Clínica Vecina");
        var plaza = await system.CreateTenantAsync("Restaurante La Plaza Vecina");
        await MemberAsync(clinic.Id, "Dueña de la Clínica", "OWNER");
        var (_, plazaOwnerEmail) = await MemberAsync(plaza.Id, "Dueño de La Plaza", "OWNER");
        var (_, advisorEmail) = await MemberAsync(plaza.Id, "Asesor de La Plaza", "AGENT");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var advisor = await (await browser.NewContextAsync()).NewPageAsync();
        await SignInAsync(advisor, advisorEmail, Password);
        await Expect(advisor.GetByText("Restaurante La Plaza Vecina")).ToBeVisibleAsync();
        foreach (var address in new[] { $"?tenantId={clinic.Id}", $"staff?tenantId={clinic.Id}", $"api-keys?tenantId={clinic.Id}", $"tenants/{clinic.Id}" })
        {
            await advisor.GotoAsync(new Uri(system.Gateway.BaseAddress!, address).ToString());
            await Expect(advisor.GetByRole(AriaRole.Heading).First).ToBeVisibleAsync();
            await Expect(advisor.GetByText("Clínica Vecina")).ToHaveCountAsync(0);
            await Expect(advisor.GetByText("Dueña de la Clínica")).ToHaveCountAsync(0);
        }

        // La Plaza's owner, with the clinic's id in the address of the staff page, sees La Plaza's staff and nobody else.
        var owner = await (await browser.NewContextAsync()).NewPageAsync();
        await SignInAsync(owner, plazaOwnerEmail, Password);
        await owner.GotoAsync(new Uri(system.Gateway.BaseAddress!, $"staff?tenantId={clinic.Id}").ToString());
        await Expect(owner.GetByRole(AriaRole.Row).Filter(new() { HasText = "Asesor de La Plaza" })).ToBeVisibleAsync();
        await Expect(owner.GetByText("Dueña de la Clínica")).ToHaveCountAsync(0);
        await Expect(owner.GetByText("Clínica Vecina")).ToHaveCountAsync(0);
    }

    /// <summary>A member of <paramref name="tenantId"/> invited by an operator who has chosen <see cref="Password"/>: their account id and email.</summary>
    private async Task<(string Id, string Email)> MemberAsync(string tenantId, string displayName, string role)
    {
        var email = $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@clinica.example";
        var invitation = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenantId}/staff", SystemFixture.OperatorKey,
            new { email, displayName, role }, expected: 201);
        var token = invitation["invitationLink"]!.GetValue<string>().Split('/')[^1];
        await system.CallAsync(HttpMethod.Post, $"/account/invitations/{token}", null, new { password = Password }, expected: 204);
        return (invitation["id"]!.GetValue<string>(), email);
    }

    private async Task SignInAsync(IPage page, string email, string password, bool expectWelcome = true)
    {
        if (!page.Url.Contains("/sign-in", StringComparison.Ordinal))
        {
            await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "sign-in").ToString());
        }

        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        if (expectWelcome)
        {
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome" })).ToBeVisibleAsync();
        }
    }

    [GeneratedRegex(@"/sign-in(\?.*)?$")]
    private static partial Regex SignInPage();
}

/// <summary>Where the tests' browser is: Debian's Chromium, which the test command installs (AppHost/infra/prerequisites.sh --browser).</summary>
internal static class Browser
{
    public const string Executable = "/usr/bin/chromium";

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new() { ExecutablePath = Executable, Args = ["--no-sandbox"] });
}
