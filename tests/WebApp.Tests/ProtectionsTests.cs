using System.Net;

namespace SafeNotify.Crm.WebApp.Tests;

/// <summary>What the console tells browsers about itself, and whom its live connection answers.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ProtectionsTests(ConsoleService console)
{
    [Fact]
    public async Task Every_page_forbids_inline_script_framing_and_sniffing()
    {
        using var response = await console.CreateClient().GetAsync("/sign-in");

        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var script = policy.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src ", StringComparison.Ordinal));
        Assert.Equal("script-src 'self'", script);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Contains("object-src 'none'", policy);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Theory]
    [InlineData("https://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("http://localhost.evil.example", HttpStatusCode.Forbidden)]
    [InlineData("http://localhost", HttpStatusCode.OK)]
    public async Task The_live_connection_answers_only_pages_of_the_console_itself(string origin, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_blazor/negotiate?negotiateVersion=1");
        request.Headers.Add("Origin", origin);

        using var response = await console.CreateClient().SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }
}
