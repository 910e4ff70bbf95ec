using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>Agent's part of the migration of SafeNotify users: the default "Asistente", and removal on rollback.</summary>
[Collection(AgentCollection.Name)]
public sealed class MigratedTenantTests(AgentService agent)
{
    [Fact]
    public async Task A_migrated_tenant_gets_one_default_Asistente_with_a_first_prompt_announced_to_Routing()
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        var migrated = new TenantMigrated(tenantId, "cuser" + Guid.NewGuid().ToString("N")[..8], "Clínica Dental Pérez", "mig_1", DateTimeOffset.UtcNow);
        await agent.HandledAsync(new TenantProvisioned(tenantId, migrated.SafeNotifyUserId, migrated.Name, true, "basic", 1, 1,
            "America/Bogota", DateTimeOffset.UtcNow) { Migrated = true });
        await agent.HandledAsync(migrated);
        var assistantId = MigratedTenants.AssistantId(tenantId);
        await Eventually.TrueAsync(() => agent.WithDbAsync(db => db.Agents.AnyAsync(a => a.Id == assistantId)), "the Asistente to be created");

        // The same news again (a re-run publishes none, but a message may be published twice) makes no second one.
        await agent.HandledAsync(migrated);
        var agents = (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>("/api/agents"))!["items"]!.AsArray();
        var only = Assert.Single(agents)!;
        Assert.Equal((MigratedTenants.AssistantName, true, true), (only["name"]!.GetValue<string>(), only["isDefault"]!.GetValue<bool>(), only["isActive"]!.GetValue<bool>()));

        var prompt = await agent.WithDbAsync(db => db.Prompts.SingleAsync(p => p.AgentId == assistantId));
        Assert.Equal((1, true), (prompt.Version, prompt.IsActive));
        Assert.Contains("Clínica Dental Pérez", prompt.SystemPrompt);
        Assert.Single(await agent.PublishedAsync<AgentChanged>(e => e.AgentId == assistantId && e.IsDefault && !e.Deleted));
    }

    [Fact]
    public async Task A_tenant_that_already_has_agents_gets_no_Asistente()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        await agent.CreateAgentAsync(tenantId, new JsonObject
        {
            ["name"] = "Recepción", ["personalityPrompt"] = "Amable", ["businessPrompt"] = "Clínica", ["objectivesPrompt"] = "Citas",
        });
        await agent.HandledAsync(new TenantMigrated(tenantId, "cuser", "Clínica", "mig_1", DateTimeOffset.UtcNow));
        Assert.Equal(["Recepción"], await agent.WithDbAsync(db => db.Agents.Where(a => a.TenantId == tenantId).Select(a => a.Name).ToListAsync()));
    }

    [Fact]
    public async Task A_deprovisioned_tenant_loses_its_agents_prompts_and_plan_and_other_tenants_keep_theirs()
    {
        var gone = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        await agent.HandledAsync(new TenantMigrated(gone, "cuser" + Guid.NewGuid().ToString("N")[..8], "Se va", "mig_1", DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(() => agent.WithDbAsync(db => db.Agents.AnyAsync(a => a.TenantId == gone)), "the Asistente to be created");
        var stays = await agent.ProvisionTenantAsync();
        await agent.CreateAgentAsync(stays, new JsonObject
        {
            ["name"] = "DrBot", ["personalityPrompt"] = "Amable", ["businessPrompt"] = "Clínica", ["objectivesPrompt"] = "Citas",
        });

        await agent.HandledAsync(new TenantDeprovisioned(gone, "cuser", MigratedTenants.RollbackReason, DateTimeOffset.UtcNow));

        Assert.False(await agent.WithDbAsync(db => db.Agents.AnyAsync(a => a.TenantId == gone)));
        Assert.False(await agent.WithDbAsync(db => db.Prompts.AnyAsync(p => p.TenantId == gone)));
        Assert.False(await agent.WithDbAsync(db => db.Tenants.AnyAsync(t => t.TenantId == gone)));
        Assert.True(await agent.WithDbAsync(db => db.Agents.AnyAsync(a => a.TenantId == stays)));
    }
}
