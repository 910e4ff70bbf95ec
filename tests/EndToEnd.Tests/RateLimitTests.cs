using System.Net;
using System.Security.Cryptography;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// A burst from one caller is cut off at the gateway with 429 and Retry-After, and nobody else notices: the
/// API is limited per tenant, Twilio's webhooks per account and number (never per client address: all of
/// them come from Twilio), keys that fail to resolve per client address; a webhook with no signature at all is
/// refused before it counts.
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

        // Webhooks that look signed: whatever the limiter lets through, Ingress refuses (403) without storing anything.
        // The other number is of the same account, whose limit is twice a number's: the flood spends only its own
        // number's share of it.
        var flood = InParallel(SystemFixture.WebhooksPerNumberPerSecond * 8, i => PostWebhookAsync(system.Twilio.AccountSid, flooded, i));
        var others = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            others.Add((await PostWebhookAsync(system.Twilio.AccountSid, other, i)).Status);
        }

        var results = await flood;
        var limited = results.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.NotNull(r.RetryAfter));
        Assert.All(results, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Forbidden, HttpStatusCode.TooManyRequests }));
        Assert.All(others, status => Assert.Equal(HttpStatusCode.Forbidden, status));
    }

    [Fact]
    public async Task Webhooks_are_limited_per_account_so_many_numbers_each_under_their_limit_are_cut_off_together_and_another_account_is_not()
    {
        // Accounts of no one (the gateway cannot tell: it holds no auth token), so that no other test's traffic shares them.
        var busy = "AC" + Guid.NewGuid().ToString("N");
        var quiet = "AC" + Guid.NewGuid().ToString("N");
        var numbers = Enumerable.Range(0, 12).Select(_ => "whatsapp:+5732" + Random.Shared.Next(10_000_000, 99_999_999)).ToList();

        // Each number gets less than its own burst, all of them together several times the account's.
        const int perNumber = SystemFixture.WebhooksPerNumberPerSecond - 5;
        var flood = InParallel(numbers.Count * perNumber, i => PostWebhookAsync(busy, numbers[i % numbers.Count], i));
        var others = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            others.Add((await PostWebhookAsync(quiet, numbers[i], i)).Status);
        }

        var results = await flood;
        var limited = results.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(limited.Count > 0, $"none of {results.Length} webhooks of one account was limited");
        Assert.All(limited, r => Assert.True(int.Parse(r.RetryAfter!) >= 1));
        Assert.All(results, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Forbidden, HttpStatusCode.TooManyRequests }));
        Assert.All(others, status => Assert.Equal(HttpStatusCode.Forbidden, status));
    }

    [Fact]
    public async Task A_webhook_without_a_signature_is_refused_before_it_counts_against_the_numbers_limit()
    {
        var number = "whatsapp:+5733" + Random.Shared.Next(10_000_000, 99_999_999);

        var unsigned = await InParallel(SystemFixture.WebhooksPerNumberPerSecond * 4, i => PostWebhookAsync(system.Twilio.AccountSid, number, i, signed: false));
        Assert.All(unsigned, r => Assert.Equal(HttpStatusCode.Forbidden, r.Status));

        // Four bursts' worth went by, yet the number's bucket is full: webhooks that look signed are not limited.
        var signedLooking = await InParallel(10, i => PostWebhookAsync(system.Twilio.AccountSid, number, i));
        Assert.All(signedLooking, r => Assert.Equal(HttpStatusCode.Forbidden, r.Status));
    }

    [Fact]
    public async Task Keys_that_fail_to_resolve_are_limited_per_client_address_with_429_and_retry_after_and_another_address_is_not()
    {
        var tenant = await system.CreateTenantAsync("Clínica Vigilada");
        var started = DateTime.UtcNow;

        // A guesser: many different wrong keys at once, from an address of its own (the other tests' is left alone).
        using var guesser = system.GatewayFrom("127.0.0.2");
        var guesses = await InParallel(200, _ => SendAsync("sn_live_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(), "/api/tenant", guesser));
        var elapsed = DateTime.UtcNow - started;
        var limited = guesses.Where(r => r.Status == HttpStatusCode.TooManyRequests).ToList();
        var tried = guesses.Count(r => r.Status == HttpStatusCode.Unauthorized);
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.True(int.Parse(r.RetryAfter!) >= 1));
        Assert.Equal(guesses.Length, limited.Count + tried);
        // Only the guesses within the budget (a burst of 40, then 20 a second) were answered 401, having been looked up.
        Assert.InRange(tried, 1, 40 + (20 * ((int)Math.Ceiling(elapsed.TotalSeconds) + 1)));

        // Another address is not affected: a wrong key there is a plain 401, the tenant's key works.
        using var elsewhere = system.GatewayFrom("127.0.0.3");
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync("sn_live_" + new string('z', 32), "/api/tenant", elsewhere)).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant.ApiKey, "/api/tenant", elsewhere)).Status);

        // A rate, not a ban: after the wait it was told, the guesser's address gets its 401 again.
        await Task.Delay(TimeSpan.FromSeconds(int.Parse(limited[^1].RetryAfter!)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync("sn_live_" + new string('y', 32), "/api/tenant", guesser)).Status);
    }

    [Fact]
    public async Task Attempts_to_sign_in_to_the_console_are_limited_per_client_address_with_a_page_that_says_so()
    {
        // Whatever the form holds (here not even its antiforgery token), every attempt from the address counts.
        using var guesser = system.GatewayFrom("127.0.0.5");
        var answers = new List<(HttpStatusCode Status, string? ContentType, string Body, string? RetryAfter)>();
        for (var attempt = 0; attempt < 12; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/sign-in")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["Input.Email"] = "ana@clinica.example", ["Input.Password"] = "guess " + attempt }),
            };
            request.Headers.Accept.ParseAdd("text/html");
            using var response = await guesser.SendAsync(request);
            answers.Add((response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(),
                response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString("0")));
        }

        Assert.All(answers.Take(10), a => Assert.NotEqual(HttpStatusCode.TooManyRequests, a.Status));
        Assert.All(answers.Skip(10), a =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, a.Status);
            Assert.Equal("text/html", a.ContentType);
            Assert.Contains("Too many attempts to sign in came from this address", a.Body);
            Assert.True(int.Parse(a.RetryAfter!) >= 1);
        });

        // Another address still reaches the console's sign-in.
        using var elsewhere = system.GatewayFrom("127.0.0.6");
        using var page = await elsewhere.GetAsync("/sign-in");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    private async Task<(HttpStatusCode Status, string? RetryAfter)> SendAsync(string key, string path, HttpClient? client = null)
    {
        using var response = await (client ?? system.Gateway).SendAsync(system.Request(HttpMethod.Get, path, key));
        return (response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString("0"));
    }

    /// <summary>A webhook about one of our numbers; "signed" with a signature that looks like Twilio's (Ingress refuses it).</summary>
    private async Task<(HttpStatusCode Status, string? RetryAfter)> PostWebhookAsync(string accountSid, string to, int i, bool signed = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/whatsapp")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["AccountSid"] = accountSid,
                ["MessageSid"] = $"SM{Guid.NewGuid():N}",
                ["From"] = "whatsapp:+573001112233",
                ["To"] = to,
                ["Body"] = $"hola {i}",
            }),
        };
        if (signed)
        {
            request.Headers.Add("X-Twilio-Signature", Convert.ToBase64String(RandomNumberGenerator.GetBytes(20)));
        }

        using var response = await system.Gateway.SendAsync(request);
        return (response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString("0"));
    }

    /// <summary><paramref name="count"/> calls, 16 at a time.</summary>
    private static async Task<T[]> InParallel<T>(int count, Func<int, Task<T>> call)
    {
        using var gate = new SemaphoreSlim(16);
        return await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await call(i);
            }
            finally
            {
                gate.Release();
            }
        }));
    }
}
