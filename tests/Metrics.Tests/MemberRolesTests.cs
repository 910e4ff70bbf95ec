using System.Net;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>The business's figures are for its admins and owners (and its API keys), not its advisors.</summary>
[Collection(MetricsCollection.Name)]
public sealed class MemberRolesTests(MetricsService metrics)
{
    [Theory]
    [InlineData(TenantRole.Agent, HttpStatusCode.Forbidden)]
    [InlineData(TenantRole.Admin, HttpStatusCode.OK)]
    [InlineData(TenantRole.Owner, HttpStatusCode.OK)]
    public async Task The_figures_answer_by_role(TenantRole role, HttpStatusCode expected)
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        using var client = metrics.MemberClient(tenantId, role);
        using (var response = await client.GetAsync("/api/metrics"))
        {
            Assert.Equal(expected, response.StatusCode);
        }

        // A number or agent the business does not have is 404 to those who may look, and 403 to those who may not.
        foreach (var path in new[] { "/api/metrics/numbers/num_any", "/api/metrics/agents/agt_any" })
        {
            using var response = await client.GetAsync(path);
            var wanted = expected == HttpStatusCode.Forbidden ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound;
            Assert.True(response.StatusCode == wanted, $"{role} {path}: {(int)response.StatusCode}");
        }
    }
}
