using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>Row-level security keeps each tenant's staff and name to itself, whatever a query forgets.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TenantIsolationTests(ConsoleService console)
{
    [Fact]
    public async Task A_query_without_a_tenant_filter_sees_none_of_another_tenants_rows_and_cannot_write_them()
    {
        var tenantA = await console.TenantAsync("A");
        var tenantB = await console.TenantAsync("B");
        await console.MemberAsync(tenantA, "OWNER", "una contraseña larga");
        await console.MemberAsync(tenantB, "OWNER", "una contraseña larga");

        var report = await TenantIsolationProbe.ProbeAsync(console, tenantA, tenantB);

        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Equal(report.TenantTables, report.Checked);
        Assert.Superset(new HashSet<string> { "staff_accounts", "tenants" }, report.Checked.ToHashSet());
    }
}
