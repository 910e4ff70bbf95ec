using System.Net;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// A rotated key works through the gateway until its grace period ends, and not a moment longer, although the gateway
/// remembers resolved keys for up to 5 s: it never remembers one past the end Routing gave it. (In the collection whose
/// fixture shortens the grace period to a few seconds.)
/// </summary>
[Collection(SecretsCollection.Name)]
public sealed class KeyRotationTests(SecretsFixture system)
{
    [Fact]
    public async Task A_rotated_out_key_is_refused_within_a_second_of_its_grace_period_ending_while_the_new_key_works()
    {
        var tenant = await system.CreateTenantAsync("Clínica Rotativa");
        // A key the gateway has never seen, so the first it hears of it is Routing's answer with its end.
        var old = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey, new { }, expected: 201);
        var rotated = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey,
            new { replacesKeyId = old["id"]!.GetValue<string>() }, expected: 201);
        var oldKey = old["apiKey"]!.GetValue<string>();
        var newKey = rotated["apiKey"]!.GetValue<string>();
        var expiresAt = rotated["replaced"]![0]!["expiresAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.Zero, SecretsFixture.RotationGracePeriod);

        // Both keys, every 100 ms, until a second and a half past the end of the grace period.
        var calls = new List<(string Key, DateTimeOffset Sent, DateTimeOffset Answered, HttpStatusCode Status)>();
        while (DateTimeOffset.UtcNow < expiresAt + TimeSpan.FromSeconds(1.5))
        {
            foreach (var (name, key) in new[] { ("old", oldKey), ("new", newKey) })
            {
                var sent = DateTimeOffset.UtcNow;
                using var response = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/tenant", key));
                calls.Add((name, sent, DateTimeOffset.UtcNow, response.StatusCode));
            }

            await Task.Delay(100);
        }

        string Report() => string.Join("\n", calls.Select(c => $"{c.Key} {(c.Sent - expiresAt).TotalMilliseconds:+0;-0} ms: {(int)c.Status}"));
        var oldCalls = calls.Where(c => c.Key == "old").ToList();
        Assert.True(oldCalls.Where(c => c.Answered < expiresAt).All(c => c.Status == HttpStatusCode.OK), "the old key failed in its grace period:\n" + Report());
        var firstRefused = oldCalls.FirstOrDefault(c => c.Status != HttpStatusCode.OK);
        Assert.True(firstRefused.Status == HttpStatusCode.Unauthorized && firstRefused.Sent <= expiresAt + TimeSpan.FromSeconds(1),
            "the old key was not refused within a second of its end:\n" + Report());
        Assert.True(oldCalls.SkipWhile(c => c.Sent < firstRefused.Sent).All(c => c.Status == HttpStatusCode.Unauthorized), "the old key worked again:\n" + Report());
        Assert.True(calls.Where(c => c.Key == "new").All(c => c.Status == HttpStatusCode.OK), "the new key failed:\n" + Report());
    }
}
