using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

// Screenshots of the console for docs/screenshots/, in English and Spanish, taken from a system `./run.sh` started:
//   dotnet run --project tests/Screenshots [-- <console address> <output folder>]
// It signs in with the demo clinic's owner and advisor (their passwords are in .state/secrets.json).
var repository = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
var console = new Uri(args.Length > 0 ? args[0] : "http://localhost:8080/");
var output = Path.GetFullPath(args.Length > 1 ? args[1] : Path.Combine(repository, "docs", "screenshots"));
var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(repository, ".state", "secrets.json")))!;
const string Owner = "owner@demo-clinica-dental.example";
const string Advisor = "advisor@demo-clinica-dental.example";
Directory.CreateDirectory(output);

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ["--no-sandbox"] });
foreach (var (language, locale) in new[] { ("en", "en-US"), ("es", "es-CO") })
{
    var context = await browser.NewContextAsync(new() { Locale = locale, ViewportSize = new() { Width = 1280, Height = 800 } });
    var page = await context.NewPageAsync();
    await page.GotoAsync(new Uri(console, "sign-in").ToString());
    await ShotAsync(page, "sign-in");

    await SignInAsync(page, Owner);
    await ShotAsync(page, "home");
    foreach (var path in new[] { "staff", "api-keys", "account" })
    {
        await page.GotoAsync(new Uri(console, path).ToString());
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await ShotAsync(page, path);
    }

    var advisor = await (await browser.NewContextAsync(new() { Locale = locale, ViewportSize = new() { Width = 1280, Height = 800 } })).NewPageAsync();
    await SignInAsync(advisor, Advisor);
    await advisor.GotoAsync(new Uri(console, "staff").ToString());
    await ShotAsync(advisor, "not-allowed");

    async Task ShotAsync(IPage shown, string name)
    {
        var file = Path.Combine(output, $"{name}.{language}.png");
        await shown.ScreenshotAsync(new() { Path = file, FullPage = true });
        Console.WriteLine(file);
    }

    async Task SignInAsync(IPage shown, string email)
    {
        await shown.GotoAsync(new Uri(console, "sign-in").ToString());
        await shown.Locator("#email").FillAsync(email);
        await shown.Locator("#password").FillAsync(secrets[$"console-password-{email}"]);
        await shown.Locator("form:has(#password) button[type=submit]").ClickAsync();
        await Expect(shown.Locator("h1")).ToBeVisibleAsync();
        await shown.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }
}
