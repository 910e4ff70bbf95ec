using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The console's pages checked by axe (Deque's accessibility engine) in the browser, as their people see them, in English
/// and in Spanish: no serious or critical issue on the account pages, the home page, the staff and API keys pages and the
/// profile.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ConsoleAccessibilityTests(SystemFixture system)
{
    private const string Password = "una contraseña bien larga";

    /// <summary>What the pages say in one language, for the test to find its way.</summary>
    public sealed record Words(string Locale, string NewPassword, string Repeat, string SetPassword, string Welcome, string Invite, string ApiKeys,
        string Issue, string YourAccount, string SignOut, string SignIn, string Email, string Password, string SecondFactor);

    public static TheoryData<Words> Languages => new()
    {
        new Words("en-US", "New password", "Repeat the password", "Set password and sign in", "Welcome, Beatriz Ortega", "Invite", "API keys",
            "Issue a key", "Your account", "Sign out", "Sign in", "Email", "Password", "Second factor"),
        new Words("es-CO", "Contraseña nueva", "Repita la contraseña", "Guardar la contraseña e iniciar sesión", "Bienvenido(a), Beatriz Ortega", "Invitar",
            "Claves de API", "Emitir una clave", "Su cuenta", "Cerrar sesión", "Iniciar sesión", "Correo electrónico", "Contraseña", "Segundo factor"),
    };

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task The_consoles_pages_have_no_serious_accessibility_issue_in_either_language(Words words)
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
        // The browser asks for its language; axe runs as a script the test adds to the page, which the console's
        // Content-Security-Policy would refuse.
        var page = await (await browser.NewContextAsync(new() { BypassCSP = true, Locale = words.Locale })).NewPageAsync();
        var issues = new List<string>();

        await page.GotoAsync(owner["invitationLink"]!.GetValue<string>());
        await CheckAsync(page, "invitation", issues);
        await page.GetByLabel(words.NewPassword).FillAsync(Password);
        await page.GetByLabel(words.Repeat).FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = words.SetPassword }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = words.Welcome })).ToBeVisibleAsync();
        await CheckAsync(page, "home", issues);

        await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "staff").ToString());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = words.Invite, Exact = true })).ToBeEnabledAsync();
        await CheckAsync(page, "staff", issues);

        await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "api-keys").ToString());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = words.Issue })).ToBeEnabledAsync();
        await CheckAsync(page, "API keys", issues);

        await page.GotoAsync(new Uri(system.Gateway.BaseAddress!, "account").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = words.YourAccount })).ToBeVisibleAsync();
        await CheckAsync(page, "profile", issues);

        await page.GetByRole(AriaRole.Button, new() { Name = words.SignOut }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = words.SignIn })).ToBeVisibleAsync();
        await CheckAsync(page, "sign-in", issues);
        await page.GetByLabel(words.Email).FillAsync(operatorEmail);
        await page.GetByLabel(words.Password, new() { Exact = true }).FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = words.SignIn }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = words.SecondFactor })).ToBeVisibleAsync();
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
