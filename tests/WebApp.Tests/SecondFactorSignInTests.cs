using System.Net;
using System.Text.RegularExpressions;
using OtpNet;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>
/// Signing in with a second factor, as a browser does it: operators set up an authenticator app before anything opens,
/// members may turn one on from their profile, and then every sign-in asks for a code that works once.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed partial class SecondFactorSignInTests(ConsoleService console)
{
    private const string Password = "una contraseña larga";
    private const string WrongCode = "That is not the code the app shows";
    private const string Refused = "The code is not right, or the account is locked for a while";

    [Fact]
    public async Task The_first_operator_sets_up_an_authenticator_before_the_console_opens_and_then_signs_in_with_its_codes()
    {
        using var browser = console.NewBrowser();
        using (var password = await browser.SignInAsync(ConsoleService.FirstOperatorEmail, ConsoleService.FirstOperatorPassword))
        {
            Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
            Assert.Equal("/sign-in/second-factor", PathOf(password));
            Assert.DoesNotContain(password.Headers.GetValues("Set-Cookie"), c => c.StartsWith("safenotify.console=", StringComparison.Ordinal));
        }

        await AssertSignedOutAsync(browser); // a right password alone opens nothing

        var setup = await browser.PageAsync("/sign-in/second-factor");
        Assert.Contains("src=\"data:image/png;base64,", setup); // the QR code
        var key = KeyShownOn(setup);
        Assert.Contains(WrongCode, await AnswerOf(await browser.SecondFactorAsync(WrongCodeOf(key))));
        using (var passed = await browser.SecondFactorAsync(CodeOf(key)))
        {
            Assert.Equal(HttpStatusCode.Redirect, passed.StatusCode);
            Assert.Equal("/", PathOf(passed));
        }

        Assert.Contains("SafeNotify's operators", await browser.PageAsync("/"));
        using (await browser.PostFormAsync("/", "", [], action: "/sign-out"))
        {
        }

        using (await browser.SignInAsync(ConsoleService.FirstOperatorEmail, ConsoleService.FirstOperatorPassword))
        {
        }

        var second = await browser.PageAsync("/sign-in/second-factor");
        Assert.DoesNotContain("authenticator-key", second); // set up already: only the code is asked for
        Assert.Contains(Refused, await AnswerOf(await browser.SecondFactorAsync(CodeOf(key)))); // that code was spent
        await AssertSignedOutAsync(browser);
        using (await browser.SecondFactorAsync(CodeOf(key, TimeSpan.FromSeconds(30))))
        {
        }

        Assert.Contains("SafeNotify's operators", await browser.PageAsync("/"));
    }

    [Fact]
    public async Task The_second_step_cannot_be_reached_without_the_password_step()
    {
        using var browser = console.NewBrowser();

        var page = await browser.PageAsync("/sign-in/second-factor");

        Assert.Contains("Sign in again", page);
        Assert.DoesNotContain("name=\"Input.Code\"", page);
    }

    [Fact]
    public async Task A_member_turns_on_the_second_factor_from_the_profile_which_signs_out_other_browsers_and_then_signs_in_with_a_code()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "AGENT", Password, "Camila Rojas");
        using var laptop = console.NewBrowser();
        using var phone = console.NewBrowser();
        using (await laptop.SignInAsync(email, Password))
        using (await phone.SignInAsync(email, Password))
        {
        }

        string? key = null;
        using (var turnedOn = await laptop.PostFormFromPageAsync("/account", "authenticator", page =>
               {
                   key = KeyShownOn(page);
                   return new() { ["Setup.ProtectedKey"] = ProtectedKey().Match(page).Groups[1].Value, ["Setup.Code"] = CodeOf(key) };
               }))
        {
            Assert.Contains("The second factor is on", await AnswerOf(turnedOn, "class=\"done\""));
        }

        Assert.Contains("Stop asking for a code", await laptop.PageAsync("/account")); // this browser stays signed in
        await AssertSignedOutAsync(phone);

        using (var password = await phone.SignInAsync(email, Password))
        {
            Assert.Equal("/sign-in/second-factor", PathOf(password));
        }

        using (await phone.SecondFactorAsync(CodeOf(key!, TimeSpan.FromSeconds(30))))
        {
        }

        Assert.Contains("Welcome, Camila Rojas", await phone.PageAsync("/"));
    }

    [Fact]
    public async Task A_key_the_console_did_not_make_cannot_be_set_up()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "ADMIN", Password);
        using var browser = console.NewBrowser();
        using (await browser.SignInAsync(email, Password))
        {
        }

        var chosen = KeyGeneration.GenerateRandomKey(20);
        using var refused = await browser.PostFormAsync("/account", "authenticator", new()
        {
            ["Setup.ProtectedKey"] = Base32Encoding.ToString(chosen), ["Setup.Code"] = new Totp(chosen).ComputeTotp(),
        });

        Assert.Contains("This form is too old", await AnswerOf(refused));
        Assert.DoesNotContain("Stop asking for a code", await browser.PageAsync("/account"));
    }

    [Fact]
    public async Task A_new_password_from_the_profile_signs_out_other_browsers_and_the_old_one_stops_working()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "OWNER", Password, "Felipe Castro");
        using var laptop = console.NewBrowser();
        using var phone = console.NewBrowser();
        using (await laptop.SignInAsync(email, Password))
        using (await phone.SignInAsync(email, Password))
        {
        }

        using (var differ = await laptop.PostFormAsync("/account", "password",
                   new() { ["Password.Current"] = Password, ["Password.New"] = "otra contraseña larga", ["Password.Repeat"] = "otra contraseña larga!" }))
        {
            Assert.Contains("The two new passwords differ.", await AnswerOf(differ));
        }

        using (var wrong = await laptop.PostFormAsync("/account", "password",
                   new() { ["Password.Current"] = "no es la contraseña", ["Password.New"] = "otra contraseña larga", ["Password.Repeat"] = "otra contraseña larga" }))
        {
            Assert.Contains("The password is not right", await AnswerOf(wrong));
        }

        using (var changed = await laptop.PostFormAsync("/account", "password",
                   new() { ["Password.Current"] = Password, ["Password.New"] = "otra contraseña larga", ["Password.Repeat"] = "otra contraseña larga" }))
        {
            Assert.Contains("Your password is changed", await AnswerOf(changed, "class=\"done\""));
        }

        Assert.Contains("Welcome, Felipe Castro", await laptop.PageAsync("/"));
        await AssertSignedOutAsync(phone);
        using (var old = await phone.SignInAsync(email, Password))
        {
            Assert.Equal(HttpStatusCode.OK, old.StatusCode); // the form again, with its message
        }

        using var renewed = await phone.SignInAsync(email, "otra contraseña larga");
        Assert.Equal("/", PathOf(renewed));
    }

    private static string PathOf(HttpResponseMessage redirect) => new Uri(new Uri("http://localhost/"), redirect.Headers.Location!).PathAndQuery;

    private static string CodeOf(string key, TimeSpan? ahead = null) =>
        new Totp(Base32Encoding.ToBytes(key)).ComputeTotp(DateTime.UtcNow + (ahead ?? TimeSpan.Zero));

    private static string WrongCodeOf(string key) => ((int.Parse(CodeOf(key), System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000)
        .ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private static string KeyShownOn(string page) =>
        AuthenticatorKey().Match(page) is { Success: true } shown ? shown.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal) : throw new InvalidOperationException("No key on the page.");

    private static async Task AssertSignedOutAsync(ConsoleService.Browser browser)
    {
        using var home = await browser.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/sign-in", PathOf(home));
    }

    /// <summary>The message a posted form answered with (an alert by default).</summary>
    private static async Task<string> AnswerOf(HttpResponseMessage response, string marker = "role=\"alert\"")
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
            var start = page.IndexOf(marker, StringComparison.Ordinal);
            Assert.True(start >= 0, "the page shows no message");
            return page[start..page.IndexOf("</p>", start, StringComparison.Ordinal)];
        }
    }

    [GeneratedRegex("class=\"authenticator-key\">([A-Z2-7 ]+)</code>")]
    private static partial Regex AuthenticatorKey();

    [GeneratedRegex("name=\"Setup.ProtectedKey\" value=\"([^\"]+)\"")]
    private static partial Regex ProtectedKey();
}
