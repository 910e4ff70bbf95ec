using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>The operators' invitations: who may invite, what is checked, what is answered.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class StaffApiTests(ConsoleService console)
{
    [Fact]
    public async Task An_invitation_answers_the_account_and_a_link_that_lasts_three_days()
    {
        var tenantId = await console.TenantAsync();
        using var response = await console.OperatorClient().PostAsJsonAsync($"/api/admin/tenants/{tenantId}/staff",
            new { email = "Recepcion@Clinica.example", displayName = "Recepción", role = "AGENT" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("recepcion@clinica.example", body["email"]!.GetValue<string>());
        Assert.Equal("AGENT", body["role"]!.GetValue<string>());
        Assert.Equal(tenantId, body["tenantId"]!.GetValue<string>());
        var expires = body["invitationExpiresAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(71), TimeSpan.FromHours(72));
        Assert.False(body["emailed"]!.GetValue<bool>()); // no mail server here: the link is the operator's to hand on
    }

    [Theory]
    [InlineData("not an address", "Ana", "OWNER", "email")]
    [InlineData("ana@clinica.example", "", "OWNER", "displayName")]
    [InlineData("ana@clinica.example", "Ana", "OPERATOR", "role")]
    [InlineData("ana@clinica.example", "Ana", null, "role")]
    public async Task A_bad_invitation_is_refused_naming_the_field(string email, string displayName, string? role, string field)
    {
        var tenantId = await console.TenantAsync();
        using var response = await console.OperatorClient().PostAsJsonAsync($"/api/admin/tenants/{tenantId}/staff", new { email, displayName, role });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![field]);
    }

    [Fact]
    public async Task An_address_with_an_account_cannot_be_invited_again()
    {
        var tenantId = await console.TenantAsync();
        var other = await console.TenantAsync("Restaurante La Plaza");
        var email = await console.MemberAsync(tenantId, "AGENT", "una contraseña larga");

        foreach (var (tenant, role) in new[] { (tenantId, "AGENT"), (other, "OWNER") })
        {
            using var response = await console.OperatorClient().PostAsJsonAsync($"/api/admin/tenants/{tenant}/staff", new { email, displayName = "Ana", role });
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        }
    }

    [Fact]
    public async Task Inviting_again_before_the_first_invitation_is_answered_replaces_its_link()
    {
        var tenantId = await console.TenantAsync();
        var email = $"nuevo-{Guid.NewGuid():N}@clinica.example";
        var first = await console.InviteAsync(tenantId, email, "Nuevo", "ADMIN");
        var second = await console.InviteAsync(tenantId, email, "Nuevo", "ADMIN");

        using var old = await console.CreateClient().PostAsJsonAsync($"/account/invitations/{first}", new { password = "una contraseña larga" });
        using var current = await console.CreateClient().PostAsJsonAsync($"/account/invitations/{second}", new { password = "una contraseña larga" });

        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
    }

    [Fact]
    public async Task A_tenant_the_console_has_not_heard_of_is_answered_retry_later()
    {
        using var response = await console.OperatorClient().PostAsJsonAsync("/api/admin/tenants/tnt_unheardof/staff",
            new { email = "ana@clinica.example", displayName = "Ana", role = "OWNER" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Only_operators_invite_and_a_weak_password_is_refused_with_its_reason()
    {
        var tenantId = await console.TenantAsync();
        using (var asTenant = await console.ClientFor(tenantId).PostAsJsonAsync($"/api/admin/tenants/{tenantId}/staff",
            new { email = "ana@clinica.example", displayName = "Ana", role = "OWNER" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
        }

        using (var anonymous = await console.CreateClient().PostAsJsonAsync("/api/admin/operators", new { email = "op@safenotify.example", displayName = "Op" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var token = await console.InviteAsync(tenantId, $"corta-{Guid.NewGuid():N}@clinica.example", "Corta", "AGENT");
        using var weak = await console.CreateClient().PostAsJsonAsync($"/account/invitations/{token}", new { password = "corta" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("at least 12 characters", await weak.Content.ReadAsStringAsync());
    }
}
