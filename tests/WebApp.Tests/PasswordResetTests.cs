using SafeNotify.Crm.ServiceDefaults;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>
/// A lost password: an owner (for the business's staff) or an operator (for anyone) makes a one-time link, good for an
/// hour and shown once; the person chooses a new password there, and every session of the account ends.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class PasswordResetTests(ConsoleService console)
{
    private const string Password = "una contraseña larga";
    private const string NewPassword = "la contraseña nueva, también larga";

    [Fact]
    public async Task An_operators_reset_link_sets_a_new_password_once_unlocks_the_account_and_ends_its_sessions()
    {
        var tenantId = await console.TenantAsync();
        var email = await console.MemberAsync(tenantId, "AGENT", Password, "Valentina Ríos");
        var accountId = await IdOfAsync(tenantId, email);
        using var phone = console.NewBrowser();
        using (await phone.SignInAsync(email, Password))
        {
        }

        using var locked = console.NewBrowser();
        for (var attempt = 0; attempt < StaffAccount.AllowedFailures; attempt++)
        {
            using (await locked.SignInAsync(email, "not the password at all"))
            {
            }
        }

        using var response = await console.OperatorClient().PostAsync($"/api/admin/staff/{accountId}/password-reset", null);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var link = body["passwordResetLink"]!.GetValue<string>();
        Assert.StartsWith(ConsoleService.PublicBaseUrl + "/password-reset/", link, StringComparison.Ordinal);
        var expiresIn = body["passwordResetExpiresAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow;
        Assert.InRange(expiresIn, TimeSpan.FromMinutes(55), StaffAccount.PasswordResetLifetime);
        var path = new Uri(link).AbsolutePath;

        using var browser = console.NewBrowser();
        Assert.Contains(email, await browser.PageAsync(path));
        using (var reset = await browser.PostFormAsync(path, "password-reset", new() { ["Input.Password"] = NewPassword, ["Input.Confirmation"] = NewPassword }))
        {
            Assert.Equal(HttpStatusCode.Redirect, reset.StatusCode);
            Assert.EndsWith("/sign-in?passwordReset=done", reset.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        Assert.Contains("This link is not valid", await browser.PageAsync(path)); // spent
        using (var home = await phone.Http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.Redirect, home.StatusCode); // the old session ended
        }

        using (var old = await browser.SignInAsync(email, Password))
        {
            Assert.Equal(HttpStatusCode.OK, old.StatusCode); // refused: the form again
        }

        using var signedIn = await browser.SignInAsync(email, NewPassword); // and no longer locked
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Contains("Welcome, Valentina Ríos", await browser.PageAsync("/"));
    }

    [Fact]
    public async Task An_owner_makes_a_reset_link_for_the_staff_but_not_for_themselves_nor_for_someone_still_invited()
    {
        var tenantId = await console.TenantAsync();
        var owner = await IdOfAsync(tenantId, await console.MemberAsync(tenantId, "OWNER", Password, "Gloria Mejía"));
        var advisor = await IdOfAsync(tenantId, await console.MemberAsync(tenantId, "AGENT", Password, "Iván Salazar"));
        await console.InviteAsync(tenantId, $"pendiente-{Guid.NewGuid():N}@clinica.example", "Paula Pendiente", "AGENT");
        var invited = await console.WithTenantDbAsync(tenantId, db => db.Accounts.Where(a => a.DisplayName == "Paula Pendiente").Select(a => a.Id).SingleAsync());

        await using var scope = console.Services.CreateAsyncScope();
        var directory = scope.ServiceProvider.GetRequiredService<StaffDirectory>();

        Assert.IsType<PasswordResetResult.Started>(await directory.StartPasswordResetAsync(tenantId, Owner(tenantId, owner), advisor, CancellationToken.None));
        Assert.Equal(new PasswordResetResult.Refused("Change your own password from your profile."),
            await directory.StartPasswordResetAsync(tenantId, Owner(tenantId, owner), owner, CancellationToken.None));
        Assert.Equal(new PasswordResetResult.Refused("This person has not accepted the invitation yet: invite them again instead."),
            await directory.StartPasswordResetAsync(tenantId, Owner(tenantId, owner), invited, CancellationToken.None));
        var otherTenant = await console.TenantAsync("Restaurante La Plaza");
        Assert.IsType<PasswordResetResult.Refused>(await directory.StartPasswordResetAsync(otherTenant, Owner(otherTenant, owner), advisor, CancellationToken.None));
    }

    [Fact]
    public async Task Only_operators_make_reset_links_and_an_unknown_account_is_not_found()
    {
        var tenantId = await console.TenantAsync();
        var accountId = await IdOfAsync(tenantId, await console.MemberAsync(tenantId, "OWNER", Password));

        using (var asTenant = await console.ClientFor(tenantId).PostAsync($"/api/admin/staff/{accountId}/password-reset", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
        }

        using var unknown = await console.OperatorClient().PostAsync("/api/admin/staff/staff_unheardof/password-reset", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    private Task<string> IdOfAsync(string tenantId, string email) =>
        console.WithTenantDbAsync(tenantId, db => db.Accounts.Where(a => a.Email == email).Select(a => a.Id).SingleAsync());

    private static CallerIdentity Owner(string tenantId, string ownerId) => CallerIdentity.Member(tenantId, TenantRole.Owner, ownerId, "Dueña");
}
