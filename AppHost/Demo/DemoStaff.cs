using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.AppHost.Demo;

/// <summary>A console login of the demo data, printed by the run command.</summary>
internal sealed record DemoLogin(string TenantName, string Role, string Email, string? Password);

/// <summary>
/// An owner and an advisor for each demo tenant, made as an operator would: invited through the operators' API, then
/// the invitation accepted with a password kept in the state folder. An account that exists already (an earlier run)
/// keeps the password that run chose.
/// </summary>
internal static class DemoStaff
{
    /// <summary>The people of each demo business: its owner and an advisor at its front desk.</summary>
    private static readonly Dictionary<string, (string Owner, string Advisor)> People = new(StringComparer.Ordinal)
    {
        ["demo-clinica-dental"] = ("Dr. Juan Pérez", "Laura Martínez"),
        ["demo-restaurante-la-plaza"] = ("Carmen Rodríguez", "Andrés Gómez"),
    };

    public static async Task<IReadOnlyList<DemoLogin>> SeedAsync(HttpClient http, string operatorKey, string tenantId, string tenantName, string safeNotifyUserId,
        StateFolder state, CancellationToken cancellationToken)
    {
        var (ownerName, advisorName) = People.TryGetValue(safeNotifyUserId, out var people) ? people : ("Owner", "Advisor");
        var logins = new List<DemoLogin>();
        foreach (var (role, label, email, name) in new[]
        {
            ("OWNER", "Owner", $"owner@{safeNotifyUserId}.example", ownerName),
            ("AGENT", "Advisor", $"advisor@{safeNotifyUserId}.example", advisorName),
        })
        {
            var password = state.Secret($"console-password-{email}", bytes: 9);
            var invitation = await InviteAsync(http, operatorKey, tenantId, email, name, role, cancellationToken);
            if (invitation is not null)
            {
                await AcceptAsync(http, invitation, password, cancellationToken);
            }

            logins.Add(new DemoLogin(tenantName, label, email, password));
        }

        return logins;
    }

    /// <summary>The invitation's link, or null when the address has an account already.</summary>
    private static async Task<string?> InviteAsync(HttpClient http, string operatorKey, string tenantId, string email, string displayName, string role,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/tenants/{tenantId}/staff")
            {
                Content = JsonContent.Create(new JsonObject { ["email"] = email, ["displayName"] = displayName, ["role"] = role }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Conflict && response.Headers.RetryAfter is not null && attempt < 60)
            {
                // The console has not heard of the tenant yet; one made before the console was (an older .state/) is told again.
                if (attempt == 10)
                {
                    await AnnounceAsync(http, operatorKey, tenantId, cancellationToken);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                continue;
            }

            if (response.StatusCode == HttpStatusCode.Conflict && response.Headers.RetryAfter is null)
            {
                return null; // the address has an account already
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Inviting {email} answered {(int)response.StatusCode}: {text}");
            }

            return JsonNode.Parse(text)?["invitationLink"]?.GetValue<string>() ?? throw new InvalidOperationException($"Inviting {email} answered no link.");
        }
    }

    private static async Task AnnounceAsync(HttpClient http, string operatorKey, string tenantId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/tenants/{tenantId}/announce");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private static async Task AcceptAsync(HttpClient http, string invitationLink, string password, CancellationToken cancellationToken)
    {
        var token = invitationLink[(invitationLink.LastIndexOf('/') + 1)..];
        using var response = await http.PostAsJsonAsync($"/account/invitations/{token}", new JsonObject { ["password"] = password }, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Accepting an invitation answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
