using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The migration of existing SafeNotify users (README "Migrating existing SafeNotify users") across the running
/// system: the documented command against the system's Routing database, then what every service shows.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class UserMigrationTests(SystemFixture system)
{
    [Fact]
    public async Task Migrated_users_appear_in_every_service_and_a_rollback_removes_exactly_the_unused_ones_everywhere()
    {
        var handMade = await system.CreateTenantAsync("Hecho a mano");
        var handMadeUser = (await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants/{handMade.Id}", SystemFixture.OperatorKey))["safeNotifyUserId"]!.GetValue<string>();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var routingDb = await system.App.GetConnectionStringAsync(ResourceNames.Database(ResourceNames.Routing)) ?? "";
        // The legacy database lives on the system's own server, made there by its superuser (password kept in the state folder).
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(system.StateDirectory, "secrets.json")))!;
        var superuser = new NpgsqlConnectionStringBuilder(routingDb) { Username = "postgres", Password = secrets["postgres-password"], Database = "postgres" }.ConnectionString;
        var legacy = await LegacySafeNotifyDatabase.CreateAsync(superuser, planTypeEnum: true,
            new LegacyUserRow("cused" + suffix, $"used{suffix}@example.com", "Clínica Usada", "PRO", true),
            new LegacyUserRow("cplain" + suffix, $"plain{suffix}@example.com", "Restaurante Intacto", "BASIC", true),
            new LegacyUserRow("cgone" + suffix, $"gone{suffix}@example.com", "Cliente Antiguo", "PRO", false),
            new LegacyUserRow(handMadeUser, $"hand{suffix}@example.com", "Hecho a mano", "ENTERPRISE", true));
        var checksum = await legacy.ChecksumAsync();

        var migrated = await MigrateUsersAsync("--legacy", legacy.Reader, "--routing", routingDb);
        Assert.Equal("SkippedInactive", ActionOf(migrated, "cgone" + suffix));
        Assert.Equal("AlreadyTenant", ActionOf(migrated, handMadeUser));
        var runId = migrated.Split('\n').Single(l => l.StartsWith("migrate-users, run ", StringComparison.Ordinal))["migrate-users, run ".Length..].Trim();
        var used = await TenantOfAsync("cused" + suffix);
        var plain = await TenantOfAsync("cplain" + suffix);
        Assert.Equal(("pro", runId), (used["crmPlan"]!.GetValue<string>(), used["migrationRunId"]!.GetValue<string>()));
        var (usedId, plainId) = (used["id"]!.GetValue<string>(), plain["id"]!.GetValue<string>());

        // An operator issues the used tenant a key: it sees its "Asistente" (made by Agent), known to Routing and to Metrics, and zeroed figures.
        var key = (await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{usedId}/api-keys", SystemFixture.OperatorKey, expected: 201))["apiKey"]!.GetValue<string>();
        var assistant = await Eventually.ReturnsAsync(async () =>
            (await system.CallAsync(HttpMethod.Get, "/api/agents", key))["items"]!.AsArray().SingleOrDefault(), "Agent to make the migrated tenant's Asistente", TimeSpan.FromSeconds(60));
        Assert.Equal(("Asistente", true, true), (assistant!["name"]!.GetValue<string>(), assistant["isDefault"]!.GetValue<bool>(), assistant["isActive"]!.GetValue<bool>()));
        var assistantId = assistant["id"]!.GetValue<string>();
        await Eventually.TrueAsync(async () => (await system.CallAsync(HttpMethod.Get, "/api/tenant", key))["usage"]!["agents"]!.GetValue<int>() == 1,
            "Routing to count the Asistente");
        await Eventually.TrueAsync(async () => await StatusAsync($"/api/metrics/agents/{assistantId}", key) == HttpStatusCode.OK, "Metrics to know the Asistente");
        var figures = await system.CallAsync(HttpMethod.Get, "/api/metrics", key);
        Assert.Equal(0, figures["total"]!.GetValue<int>()); // nothing has happened yet: no figure is above zero
        Assert.Empty((await system.CallAsync(HttpMethod.Get, $"/api/metrics/agents/{assistantId}", key))["items"]!.AsArray());

        // The untouched tenant is in every service too (it has no key: its rows are read directly).
        await Eventually.TrueAsync(async () => await RowsAsync(ResourceNames.Agent, "ai_agents", plainId) == 1
            && await RowsAsync(ResourceNames.Metrics, "tenant_agents", plainId) == 1 && await RowsAsync(ResourceNames.Metrics, "tenant_clocks", plainId) == 1,
            "Agent and Metrics to hold the untouched tenant's Asistente and clock", TimeSpan.FromSeconds(60));

        // Rollback: the tenant with a key is kept and reported; the untouched one goes from every service.
        var rollback = await MigrateUsersAsync("--rollback", "--run", runId, "--routing", routingDb);
        Assert.Equal("KeptInUse", ActionOf(rollback, "cused" + suffix));
        Assert.Contains("1 API key(s) issued", rollback);
        Assert.Equal("Removed", ActionOf(rollback, "cplain" + suffix));
        await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants/{plainId}", SystemFixture.OperatorKey, expected: 404);
        Assert.Equal(0, (await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants?safeNotifyUserId=cplain{suffix}", SystemFixture.OperatorKey))["total"]!.GetValue<int>());
        await Eventually.TrueAsync(async () => await RowsAsync(ResourceNames.Agent, "ai_agents", plainId) == 0 && await RowsAsync(ResourceNames.Agent, "agent_prompts", plainId) == 0
            && await RowsAsync(ResourceNames.Agent, "tenant_plans", plainId) == 0 && await RowsAsync(ResourceNames.Metrics, "tenant_agents", plainId) == 0
            && await RowsAsync(ResourceNames.Metrics, "tenant_clocks", plainId) == 0 && await RowsAsync(ResourceNames.Routing, "known_agents", plainId) == 0,
            "every service to remove the rolled-back tenant", TimeSpan.FromSeconds(60));

        // The kept tenant and the hand-made one work as before; the legacy table was only read.
        Assert.Equal([assistantId], (await system.CallAsync(HttpMethod.Get, "/api/agents", key))["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()));
        Assert.Equal([handMade.AgentId], (await system.CallAsync(HttpMethod.Get, "/api/agents", handMade.ApiKey))["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()));
        Assert.Equal([handMade.NumberId], (await system.CallAsync(HttpMethod.Get, "/api/numbers", handMade.ApiKey))["items"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));
        Assert.Null((await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants/{handMade.Id}", SystemFixture.OperatorKey))["migrationRunId"]);
        Assert.Equal(checksum, await legacy.ChecksumAsync());
    }

    /// <summary>The action the command's report gives for one user (each line: "  Action user id ...").</summary>
    private static string ActionOf(string report, string userId) =>
        report.Split('\n').Single(l => l.Contains($" user {userId} ", StringComparison.Ordinal)).Trim().Split(' ')[0];

    private async Task<JsonNode> TenantOfAsync(string safeNotifyUserId) =>
        (await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants?safeNotifyUserId={safeNotifyUserId}", SystemFixture.OperatorKey))["items"]!.AsArray().Single()!;

    private async Task<HttpStatusCode> StatusAsync(string path, string key)
    {
        using var response = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, path, key));
        return response.StatusCode;
    }

    /// <summary>A tenant's rows in a service's table, read as that service reads them (its own role, row-level security keyed on the tenant).</summary>
    private async Task<long> RowsAsync(string service, string table, string tenantId)
    {
        await using var connection = new NpgsqlConnection(await system.App.GetConnectionStringAsync(ResourceNames.Database(service)));
        await connection.OpenAsync();
        // The schema and table come from this test, never from input.
        await using var command = new NpgsqlCommand(
            $"SELECT set_config('app.tenant_id', @tenant, false); SELECT count(*) FROM {service}.{table} WHERE tenant_id = @tenant", connection);
        command.Parameters.AddWithValue("tenant", tenantId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }

    /// <summary>Runs Routing's migrate-users mode as the README documents it (built already: the AppHost's build built it).</summary>
    private static async Task<string> MigrateUsersAsync(params string[] args)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var start = new ProcessStartInfo("dotnet", ["run", "--no-build", "-c", configuration, "--no-launch-profile", "--project", Path.Combine(Repository.Root, "services", "Routing"),
            "--", "migrate-users", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"migrate-users exited with {process.ExitCode}: {await output}{await error}");
        return await output;
    }
}
