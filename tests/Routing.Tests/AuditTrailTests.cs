using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>Routing's own critical changes enter the trail with their change; Routing keeps every service's trail and shows it to operators.</summary>
[Collection(RoutingCollection.Name)]
public sealed class AuditTrailTests(RoutingService routing)
{
    private static readonly CallerIdentity Operator = new(null, CallerIdentity.OperatorRole, "key_ops_console");

    [Fact]
    public async Task A_plan_change_is_audited_in_the_same_transaction_with_who_what_and_when()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "basic");
        using var admin = routing.ClientAs(Operator);
        using (var response = await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "enterprise" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var tenant = await routing.WithDbAsync(db => db.Tenants.AsNoTracking().SingleAsync(t => t.Id == tenantId));
        var audited = Assert.Single(await routing.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.Action == AuditActions.TenantPlanChanged));
        Assert.Equal(("tenant", tenantId, "plan basic -> enterprise"), (audited.TargetType, audited.TargetId, audited.Detail));
        Assert.Equal((CallerIdentity.OperatorRole, (string?)null, "key_ops_console"), (audited.ActorRole, audited.ActorTenantId, audited.ActorKeyId));
        Assert.Equal(tenant.UpdatedAt, audited.OccurredAt, TimeSpan.FromMilliseconds(1)); // the database keeps microseconds

        // A change that changes nothing is not a change.
        using (var same = await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "enterprise" }))
        {
            Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        }

        Assert.Single(await routing.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.Action.StartsWith("tenant.", StringComparison.Ordinal)
            && a.Action != AuditActions.TenantCreated));

        // Routing consumes its own event like any other: the operator reads it in the trail.
        var entry = await Eventually.ReturnsAsync(() => FindAsync($"tenantId={tenantId}&action=tenant.plan_changed"), "the plan change in the audit trail");
        Assert.Equal("key_ops_console", entry["actor"]!["keyId"]!.GetValue<string>());
        Assert.Equal("operator", entry["actor"]!["role"]!.GetValue<string>());
        Assert.Equal("routing", entry["service"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refused_change_records_nothing()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var admin = routing.ClientAs(Operator);
        using var response = await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "platinum" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await routing.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.Action != AuditActions.TenantCreated
            && a.Action != AuditActions.ApiKeyIssued));
    }

    [Fact]
    public async Task Tenant_creation_key_issue_and_rotation_are_audited_without_the_key()
    {
        var (tenantId, firstKey) = await routing.CreateTenantAsync();
        using var admin = routing.ClientAs(Operator);
        using var response = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { rotate = true });
        var issued = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        var newKey = issued["apiKey"]!.GetValue<string>();
        var replacedId = issued["replaced"]![0]!["id"]!.GetValue<string>();

        var audited = await routing.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId);
        Assert.Equal([AuditActions.TenantCreated, AuditActions.ApiKeyIssued, AuditActions.ApiKeyRotated], audited.Select(a => a.Action));
        var rotated = audited[2];
        Assert.Equal(("api_key", replacedId, "key_ops_console"), (rotated.TargetType, rotated.TargetId, rotated.ActorKeyId));
        Assert.Contains(issued["id"]!.GetValue<string>(), rotated.Detail);
        Assert.All(audited, a => Assert.DoesNotContain(newKey[8..], a.Detail ?? ""));
        Assert.All(audited, a => Assert.DoesNotContain(firstKey[8..], a.Detail ?? ""));
    }

    [Fact]
    public async Task A_redelivered_audit_event_is_stored_once_and_the_trail_filters_and_pages()
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..20];
        var at = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var handoff = new AuditRecorded(tenantId, AuditActions.ConversationHandedOff, "conversation", "conv_1", "to employee emp-7", "tenant", tenantId,
            "key_tenant_1", "lead", at);
        var messageId = await routing.HandledAsync(handoff);
        await routing.HandledAsync(handoff, messageId); // the broker delivers it again
        await routing.HandledAsync(handoff with { Action = AuditActions.LeadExported, TargetType = "lead", TargetId = "lead_1", OccurredAt = at.AddDays(1) });
        await routing.HandledAsync(handoff with { Action = AuditActions.LeadErased, TargetType = "lead", TargetId = "lead_1", OccurredAt = at.AddDays(2) });

        Assert.Equal(3, await routing.WithDbAsync(db => db.AuditEntries.CountAsync(e => e.TenantId == tenantId)));

        using var admin = routing.OperatorClient();
        var all = (await admin.GetFromJsonAsync<JsonNode>($"/api/admin/audit?tenantId={tenantId}&pageSize=2"))!;
        Assert.Equal(3, all["total"]!.GetValue<int>());
        Assert.Equal(2, all["pageSize"]!.GetValue<int>());
        Assert.Equal([AuditActions.LeadErased, AuditActions.LeadExported], all["items"]!.AsArray().Select(i => i!["action"]!.GetValue<string>()));

        var handoffs = (await admin.GetFromJsonAsync<JsonNode>($"/api/admin/audit?tenantId={tenantId}&action=conversation.handed_off"))!;
        var entry = Assert.Single(handoffs["items"]!.AsArray())!;
        Assert.Equal(("conversation", "conv_1", "lead"), (entry["targetType"]!.GetValue<string>(), entry["targetId"]!.GetValue<string>(), entry["service"]!.GetValue<string>()));
        Assert.Equal(("tenant", tenantId, "key_tenant_1"),
            (entry["actor"]!["role"]!.GetValue<string>(), entry["actor"]!["tenantId"]!.GetValue<string>(), entry["actor"]!["keyId"]!.GetValue<string>()));
        Assert.Equal(at, entry["occurredAt"]!.GetValue<DateTimeOffset>());

        var window = (await admin.GetFromJsonAsync<JsonNode>($"/api/admin/audit?tenantId={tenantId}&from=2026-03-02&to=2026-03-03T00:00:00Z"))!;
        Assert.Equal(AuditActions.LeadExported, Assert.Single(window["items"]!.AsArray())!["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_trail_is_for_operators_and_bad_filters_are_a_400()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using (var tenant = routing.ClientFor(tenantId))
        using (var forbidden = await tenant.GetAsync("/api/admin/audit"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using (var anonymous = routing.CreateClient())
        using (var unauthorized = await anonymous.GetAsync("/api/admin/audit"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }

        using var admin = routing.OperatorClient();
        using var bad = await admin.GetAsync("/api/admin/audit?from=yesterday&to=2026-01-01");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(["from"], (await bad.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
        using var reversed = await admin.GetAsync("/api/admin/audit?from=2026-02-01&to=2026-01-01");
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
    }

    private async Task<JsonNode?> FindAsync(string query)
    {
        using var admin = routing.OperatorClient();
        var page = await admin.GetFromJsonAsync<JsonNode>($"/api/admin/audit?{query}");
        return page!["items"]!.AsArray().FirstOrDefault();
    }
}
