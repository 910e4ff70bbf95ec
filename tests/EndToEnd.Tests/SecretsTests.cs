using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Secrets never leave the place they are used: after a whole flow (a tenant created and a second key issued, a number
/// and an agent, a customer's signed webhook answered by the AI through a model that needs a key, an employee's reply),
/// none of them is in any service's console log, in the exported traces, logs and metrics, in any event of any outbox,
/// or in any answer of the API but the one that shows a new key once.
/// </summary>
[Collection(SecretsCollection.Name)]
public sealed class SecretsTests(SecretsFixture system)
{
    [Fact]
    public async Task No_secret_is_in_the_logs_traces_events_or_answers_after_a_whole_flow()
    {
        var tenant = await system.CreateTenantAsync("Clínica Reservada");
        var issued = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey, new { }, expected: 201);
        var secondKey = issued["apiKey"]!.GetValue<string>();
        await system.CallAsync(HttpMethod.Get, "/api/tenant", secondKey);

        var customer = $"+57301{Random.Shared.Next(1_000_000, 9_999_999)}";
        var (_, webhookStatus) = await system.SendAsCustomerAsync(customer, tenant.Phone, "Hola, quiero una cita de limpieza para mañana");
        Assert.Equal(200, webhookStatus);
        await SentAsync(customer, 1);
        Assert.Contains(system.ModelRequests, r => r.Messages.Any(m => m.Content.Contains("cita de limpieza", StringComparison.Ordinal)));

        var conversations = await system.CallAsync(HttpMethod.Get, "/api/conversations", secondKey);
        var conversation = conversations["items"]![0]!["id"]!.GetValue<string>();
        await system.CallAsync(HttpMethod.Post, $"/api/conversations/{conversation}/messages", tenant.ApiKey,
            new { body = "Hola María, le confirmo la cita a las 10.", assignedToUser = "recepcion" }, expected: 202);
        await SentAsync(customer, 2);
        await system.CallAsync(HttpMethod.Get, $"/api/conversations/{conversation}", tenant.ApiKey);
        await system.CallAsync(HttpMethod.Get, "/api/leads", tenant.ApiKey);
        await system.CallAsync(HttpMethod.Get, "/api/agents", tenant.ApiKey);
        await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants/{tenant.Id}", SystemFixture.OperatorKey);
        await system.CallAsync(HttpMethod.Get, "/api/admin/tenants", SystemFixture.OperatorKey);
        await system.CallAsync(HttpMethod.Get, "/api/admin/outbound-messages", SystemFixture.OperatorKey);
        using (var wrong = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/leads", tenant.ApiKey + "x")))
        {
            Assert.Equal(401, (int)wrong.StatusCode); // a near miss is refused, and must not be echoed either
        }

        // The services export every 200 ms; give the last batches time to arrive.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var secrets = new Dictionary<string, string>
        {
            ["the tenant's first API key"] = tenant.ApiKey,
            ["the tenant's second API key"] = secondKey,
            ["the operator key"] = SystemFixture.OperatorKey,
            ["the model key"] = SecretsFixture.ModelApiKey,
        };
        foreach (var (name, value) in system.GeneratedSecrets.Where(s => !s.Key.Contains("account-sid", StringComparison.Ordinal)))
        {
            secrets[name] = value; // Twilio's auth token, the gateway's and the console's signing keys, every database and broker password
        }

        Assert.Contains("twilio-standin-auth-token", secrets.Keys);
        Assert.Contains("gateway-identity-key", secrets.Keys);
        Assert.Contains("console-identity-key", secrets.Keys);
        Assert.All(ResourceNames.Services, service => Assert.Contains($"{service}-db-password", secrets.Keys));
        Assert.All(secrets, s => Assert.True(s.Value.Length >= 16, $"{s.Key} is too short to search for"));

        var places = new List<(string Where, string Text)>();
        places.AddRange(system.Logs.Select(line => ("console log", line)));
        places.AddRange(system.Otlp.Exported("/v1/traces").Select(batch => ("exported traces", batch)));
        places.AddRange(system.Otlp.Exported("/v1/logs").Select(batch => ("exported logs", batch)));
        places.AddRange(system.Otlp.Exported("/v1/metrics").Select(batch => ("exported metrics", batch)));
        var events = await OutboxAsync();
        places.AddRange(events.Select(e => ("outbox event", e)));
        var responses = system.Responses.ToList();
        // Creating a tenant and issuing a key are the only answers that show a key, once, each its own.
        var showsKeyOnce = responses.Where(r => r.Request.StartsWith("POST /api/admin/tenants", StringComparison.Ordinal) && r.Body.Contains("\"apiKey\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, showsKeyOnce.Count(r => r.Body.Contains(tenant.ApiKey, StringComparison.Ordinal) || r.Body.Contains(secondKey, StringComparison.Ordinal)));
        places.AddRange(responses.Except(showsKeyOnce).Select(r => ($"answer to {r.Request}", $"{r.Headers}\n{r.Body}")));
        foreach (var shown in showsKeyOnce)
        {
            var key = JsonNode.Parse(shown.Body)!["apiKey"]!.GetValue<string>();
            places.Add(($"answer to {shown.Request} (its own new key left out)", $"{shown.Headers}\n{shown.Body.Replace(key, "<the new key>", StringComparison.Ordinal)}"));
        }

        // The capture is real: each kind of place holds what the flow did.
        Assert.True(system.Logs.Count > 20, $"only {system.Logs.Count} console lines captured");
        Assert.Contains(places, p => p.Where == "exported traces" && p.Text.Contains("/api/conversations", StringComparison.Ordinal));
        Assert.Contains(places, p => p.Where == "exported logs");
        Assert.Contains(events, e => e.Contains(tenant.Id, StringComparison.Ordinal) && e.Contains(conversation, StringComparison.Ordinal));
        Assert.Contains(places, p => p.Where.StartsWith("answer to GET /api/conversations/", StringComparison.Ordinal) && p.Text.Contains("le confirmo la cita", StringComparison.Ordinal));

        var leaks = (from place in places
                     from secret in secrets
                     where place.Text.Contains(secret.Value, StringComparison.Ordinal)
                     select $"{secret.Key} in {place.Where}: {Around(place.Text, secret.Value)}").Distinct().ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} leak(s) among {places.Count} places searched:\n" + string.Join("\n", leaks.Take(30)));
    }

    private async Task SentAsync(string customer, int count)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if ((await system.SentToAsync(customer)).Count >= count)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{customer} never received {count} message(s): {await system.SentToAsync(customer)}");
    }

    /// <summary>Every event every service has written to its outbox (read as the superuser: no row is hidden).</summary>
    private async Task<List<string>> OutboxAsync()
    {
        var events = new List<string>();
        foreach (var service in ResourceNames.Services)
        {
            var connection = new NpgsqlConnectionStringBuilder(await system.App.GetConnectionStringAsync(ResourceNames.Database(service)))
            {
                Username = "postgres",
                Password = system.GeneratedSecrets["postgres-password"],
            };
            await using var db = new NpgsqlConnection(connection.ConnectionString);
            await db.OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT row_to_json(o)::text FROM \"{service}\".outbox_messages o", db);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                events.Add($"{service}: {reader.GetString(0)}");
            }
        }

        return events;
    }

    /// <summary>Where a secret was found, with the secret itself masked (a failing test must not print it either).</summary>
    private static string Around(string text, string secret)
    {
        var at = text.IndexOf(secret, StringComparison.Ordinal);
        var start = Math.Max(0, at - 80);
        var end = Math.Min(text.Length, at + secret.Length + 80);
        return text[start..end].Replace(secret, "<SECRET>", StringComparison.Ordinal).ReplaceLineEndings(" ");
    }
}
