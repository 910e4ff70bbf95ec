using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>The public API is described at the gateway: one OpenAPI document per service and a page to browse them.</summary>
[Collection(SystemCollection.Name)]
public sealed class ApiReferenceTests(SystemFixture system)
{
    [Theory]
    [InlineData("routing", "/api/numbers")]
    [InlineData("agent", "/api/agents")]
    [InlineData("lead", "/api/leads")]
    [InlineData("metrics", "/api/metrics")]
    [InlineData("ingress", "/webhooks/twilio/whatsapp")]
    [InlineData("webapp", "/api/admin/operators")]
    public async Task Each_service_describes_its_public_routes_with_the_api_key_scheme(string service, string path)
    {
        var document = (await system.Gateway.GetFromJsonAsync<JsonNode>($"/openapi/{service}.json"))!;
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        Assert.NotNull(document["paths"]![path]);
        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["ApiKey"]!["scheme"]!.GetValue<string>());
        // Described as clients see it, through the gateway: never a service's own address, never an internal route.
        Assert.Null(document["servers"]);
        Assert.DoesNotContain(document["paths"]!.AsObject(), p => p.Key.StartsWith("/internal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_reference_page_is_served_at_docs()
    {
        using var response = await system.Gateway.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await response.Content.ReadAsStringAsync();
        // The page resolves each document against the site's root: /openapi/routing.json, the document tested above.
        Assert.Contains("\"url\":\"openapi/routing.json\"", page);
        using var script = await system.Gateway.GetAsync(new Uri(response.RequestMessage!.RequestUri!, "scalar.js"));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }
}
