using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The console's pages checked by axe (Deque's accessibility engine) in the browser, as their people see them: no
/// serious or critical issue on the account pages, the home page, the staff page and the profile.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ConsoleAccessibilityTests(SystemFixture system)
{
    private const string Password = "una contraseña bien larga";

    [Fact]
    public async Task The_consoles_pages_have_no_serious_accessibility_issue()
    {
        var tenant = await system.CreateTenantAsync("Clínica Accesible");
        var ownerEmail = $"duena-{Guid.NewGuid():N}@clinica.example";
        var owner = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/staff", SystemFixture.OperatorKey,
            new { email = ownerEmail, displayName = "Beatriz Ortega", role = "OWNER" }, expected: 201);
        var operatorEmail = $"operador-{Guid.NewGuid():N}@safenotify.example";
        var operatorInvitation = await system.CallAsync(HttpMethod.Post, "/api/admin/operators", SystemFixture.OperatorKey,
            new { email = operatorEmail, displayName = "Tomás Reyes" }, expected: 201);
        await system.CallAsync(HttpMethod.Post, $"/account/invitations/{operatorInvitation["invitationLink"]!.GetValue<string>().Split('/')[^1]}", null,
            new { password = Password }, expected: 204);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        // axe runs as a script the test adds to the page, which the console's Content-Security-Policy would refuse.
        var page = await (await browser.NewContextAsync(new() { BypassCSP = true })).NewPageAsync();
        var issues = new List<string>();

        await page.GotoAsync(owner["invitationLink"]!.GetValue<string>());
        await CheckAsync(page, "invitation", issues);
        await page.GetByLabel("New password").FillAsync(Password);
        await page.GetByLabel("Repeat the password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Welcome, Beatriz Ortega" })).ToBeVisibleAsync();
        await CheckAsync(page, "home", issues);

        await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "staff").ToString());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Invite" })).ToBeEnabledAsync();
        await CheckAsync(page, "staff", issues);

        await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "account").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your account" })).ToBeVisibleAsync();
        await CheckAsync(page, "profile", issues);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await CheckAsync(page, "sign-in", issues);
        await page.GetByLabel("Email").FillAsync(operatorEmail);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Second factor" })).ToBeVisibleAsync();
        await CheckAsync(page, "second factor", issues);

        Assert.True(issues.Count == 0, string.Join("\n", issues));
    }

    private static async Task CheckAsync(IPage page, string name, List<string> issues)
    {
        var result = await page.RunAxe();
        Assert.True(result.Passes.Length > 10, $"axe checked almost nothing on the {name} page"); // it ran, on a rendered page
        issues.AddRange(result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{name}: {v.Impact} {v.Id} ({v.Help}) at {string.Join(", ", v.Nodes.Select(n => n.Html))}"));
    }
}
