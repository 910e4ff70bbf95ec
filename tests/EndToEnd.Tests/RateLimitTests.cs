using System.Net;
using System.Net.Http.Json;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// A burst from one caller is cut off at the gateway with 429 and Retry-After, and nobody else notices: the
/// API is limited per tenant, Twilio's webhooks per account and number (never per client address: all of
/// them come from Twilio).
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class RateLimitTests(SystemFixture system)
{
    [Fact]
    public async Task A_tenant_over_its_api_limit_gets_429_with_retry_after_and_another_tenant_is_not_slowed()
    {
        var noisy = await system.CreateTenantAsync("Gimnasio Ruidoso", agentName: "FitBot");
        var quiet = await system.CreateTenantAsync("Clínica Tranquila");

        // Three times the default burst at once from one tenant, while the other makes its ordinary calls.
        var burst = Enumerable.Range(0, 300).Select(_ => SendAsync(noisy.ApiKey, "/api/tenant")).ToList();
        var ordinary = new List<(HttpStatusCode Status, string? RetryAfter)>();
        for (var i = 0; i < 10; i++)
        {
            ordinary.Add(await SendAsync(quiet.ApiKey, "/api/numbers"));
        }

        var noisyResults = await Task.WhenAll(burst);
        var limited = noisyResults.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.True(int.Parse(r.RetryAfter!) >= 1));
        Assert.All(noisyResults, r => Assert.Contains(r.Status, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        Assert.All(ordinary, r => Assert.Equal(HttpStatusCode.OK, r.Status));

        // The limit is a rate, not a ban: after the wait it asked for, the tenant is served again.
        await Task.Delay(TimeSpan.FromSeconds(int.Parse(limited[0].RetryAfter!)));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(noisy.ApiKey, "/api/tenant")).Status);
    }

    [Fact]
    public async Task Webhooks_are_limited_per_number_so_a_flood_to_one_number_leaves_the_others_alone()
    {
        var flooded = "whatsapp:+5730" + Random.Shared.Next(10_000_000, 99_999_999);
        var other = "whatsapp:+5731" + Random.Shared.Next(10_000_000, 99_999_999);

        // Unsigned webhooks: whatever the limiter lets through, Ingress refuses (403) without storing anything.
        using var gate = new SemaphoreSlim(16);
        var flood = Enumerable.Range(0, SystemFixture.WebhooksPerNumberPerSecond * 8).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await PostWebhookAsync(flooded, i);
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        var others = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            others.Add((await PostWebhookAsync(other, i)).Status);
        }

        var results = await Task.WhenAll(flood);
        var limited = results.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.NotNull(r.RetryAfter));
        Assert.All(results, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Forbidden, HttpStatusCode.TooManyRequests }));
        Assert.All(others, status => Assert.Equal(HttpStatusCode.Forbidden, status));
    }

    private async Task<(HttpStatusCode Status, string? RetryAfter)> SendAsync(string key, string path)
    {
        using var response = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, path, key));
        return (response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString("0"));
    }

    private async Task<(HttpStatusCode Status, string? RetryAfter)> PostWebhookAsync(string to, int i)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["AccountSid"] = system.Twilio.AccountSid,
            ["MessageSid"] = $"SM{Guid.NewGuid():N}",
            ["From"] = "whatsapp:+573001112233",
            ["To"] = to,
            ["Body"] = $"hola {i}",
        });
        using var response = await system.Gateway.PostAsync("/webhooks/twilio/whatsapp", content);
        return (response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString("0"));
    }
}
