using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>The tenant's leads and conversations through the API (as the gateway calls it).</summary>
[Collection(LeadCollection.Name)]
public sealed class LeadsApiTests(LeadService lead)
{
    [Fact]
    public async Task Another_tenants_leads_and_conversations_are_404_and_lists_hold_only_the_tenants_own()
    {
        var mine = Chat.New();
        var theirs = Chat.New();
        await lead.HandledAsync(mine.Says(1, "Hola", Chat.NewAgent()));
        await lead.HandledAsync(theirs.Says(1, "Hola", Chat.NewAgent()));
        var theirConversation = (await lead.PublishedAsync<ConversationOpened>(o => o.TenantId == theirs.TenantId)).Single();

        using var client = lead.ClientFor(mine.TenantId);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/leads/{theirConversation.LeadId}")).StatusCode);
        using var notFound = await client.GetAsync($"/api/conversations/{theirConversation.ConversationId}");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("application/problem+json", notFound.Content.Headers.ContentType?.MediaType);

        var leads = (await client.GetFromJsonAsync<JsonNode>("/api/leads"))!;
        var conversations = (await client.GetFromJsonAsync<JsonNode>("/api/conversations"))!;
        Assert.Equal(mine.CustomerId, Assert.Single(leads["items"]!.AsArray())!["customerId"]!.GetValue<string>());
        Assert.Equal(mine.CustomerId, Assert.Single(conversations["items"]!.AsArray())!["customerId"]!.GetValue<string>());
        Assert.Equal((1, 1), (leads["total"]!.GetValue<int>(), conversations["total"]!.GetValue<int>()));

        // And the owner does see them.
        Assert.Equal(HttpStatusCode.OK, (await lead.ClientFor(theirs.TenantId).GetAsync($"/api/conversations/{theirConversation.ConversationId}")).StatusCode);
    }

    [Fact]
    public async Task Leads_are_found_by_part_of_the_name_phone_or_email_whatever_the_case()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);
        var maria = await CreateAsync(client, "+573001112233", "María González", "maria@example.com");
        var mario = await CreateAsync(client, "+573004445566", "Mario Ruiz", null);
        await CreateAsync(client, "+573007778899", "Ana Pérez", null);

        Assert.Equal([maria], await SearchAsync(client, "MARÍA"));            // case folded, accented letters included
        Assert.Equal([maria], await SearchAsync(client, "gonzá"));
        Assert.Equal(new[] { maria, mario }.Order(), (await SearchAsync(client, "mari")).Order());
        Assert.Equal([mario], await SearchAsync(client, "3004445"));          // part of the phone
        Assert.Equal([maria], await SearchAsync(client, "@EXAMPLE"));
        Assert.Equal([maria], await SearchAsync(client, "maria gonzalez"));   // accents ignored both ways
        Assert.Equal([maria], await SearchAsync(client, "GONZÁLEZ"));
        Assert.Equal(["+573007778899"], await SearchPhonesAsync(client, "perez"));
    }

    [Fact]
    public async Task Percent_and_underscore_in_a_search_are_taken_literally()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);
        var gym = await CreateAsync(client, "+573101112233", "100% Fit_Gym", null);
        await CreateAsync(client, "+573104445566", "1000 Fit Gym", null);

        Assert.Equal([gym], await SearchAsync(client, "100%"));
        Assert.Equal([gym], await SearchAsync(client, "fit_"));
    }

    [Fact]
    public async Task Creating_a_lead_with_invalid_fields_is_a_400_naming_each_one_and_a_known_phone_is_a_409()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);

        using var invalid = await client.PostAsJsonAsync("/api/leads", new { phone = "3001234567", name = "Sin prefijo", email = "not-an-email", totalSpent = -5 });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal(["email", "phone", "totalSpent"], errors.Select(e => e.Key).Order());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/leads"))!["total"]!.GetValue<int>());

        using var created = await client.PostAsJsonAsync("/api/leads", new { phone = "+573001234567", name = "Con prefijo" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = (await created.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(($"/api/leads/{body["id"]}", "manual", "NEW"), (created.Headers.Location?.ToString(), body["source"]!.GetValue<string>(), body["leadStatus"]!.GetValue<string>()));

        using var again = await client.PostAsJsonAsync("/api/leads", new { phone = "+573001234567", name = "Otra vez" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonNode>("/api/leads"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_same_lead_posted_several_times_at_once_is_created_once()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            client.PostAsJsonAsync("/api/leads", new { phone = "+573009998877", name = "Camila Torres" })));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonNode>("/api/leads"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Conversations_are_filtered_by_status_attention_number_and_agent()
    {
        var tenantId = Chat.NewTenant();
        var drBot = Chat.NewAgent();
        var active = Chat.New(tenantId);
        var handedOff = Chat.New(tenantId);
        await lead.HandledAsync(active.Says(1, "Hola", drBot));
        await lead.HandledAsync(handedOff.Says(1, "Tengo un problema con mi factura", Chat.NewAgent()));
        var handedOffId = (await lead.PublishedAsync<ReplyRequested>(r => r.TenantId == tenantId && r.NumberId == handedOff.NumberId)).Single();
        await lead.HandledAsync(new AgentReplyFailed(tenantId, handedOffId.ConversationId, handedOffId.AgentId, 1, "model unavailable", DateTimeOffset.UtcNow));

        using var client = lead.ClientFor(tenantId);
        Assert.Equal([active.CustomerId], await CustomersAsync(client, "status=ACTIVE"));
        Assert.Equal([handedOff.CustomerId], await CustomersAsync(client, "status=WAITING_HUMAN"));
        Assert.Equal([handedOff.CustomerId], await CustomersAsync(client, "requiresAttention=true"));
        Assert.Equal([active.CustomerId], await CustomersAsync(client, $"numberId={active.NumberId}"));
        Assert.Equal([active.CustomerId], await CustomersAsync(client, $"agentId={drBot}"));
        Assert.Equal(2, (await CustomersAsync(client, "")).Count);

        using var unknown = await client.GetAsync("/api/conversations?status=OPEN");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["status"], (await unknown.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Leads_are_filtered_by_the_status_names_the_API_shows()
    {
        var tenantId = Chat.NewTenant();
        using var client = lead.ClientFor(tenantId);
        var id = await CreateAsync(client, "+573201112233", "Lucía Gómez", null);

        var fresh = (await client.GetFromJsonAsync<JsonNode>("/api/leads?status=NEW"))!["items"]!.AsArray();
        Assert.Equal([id], fresh.Select(l => l!["id"]!.GetValue<string>()));
        Assert.Empty((await client.GetFromJsonAsync<JsonNode>("/api/leads?status=CONVERTED"))!["items"]!.AsArray());
        using var unknown = await client.GetAsync("/api/leads?status=HOT");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(["status"], (await unknown.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
    }

    private static async Task<string> CreateAsync(HttpClient client, string phone, string name, string? email)
    {
        using var response = await client.PostAsJsonAsync("/api/leads", new { phone, name, email });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();
    }

    private static async Task<List<string>> SearchAsync(HttpClient client, string search)
    {
        var page = (await client.GetFromJsonAsync<JsonNode>($"/api/leads?search={Uri.EscapeDataString(search)}"))!;
        return page["items"]!.AsArray().Select(l => l!["id"]!.GetValue<string>()).ToList();
    }

    private static async Task<List<string>> SearchPhonesAsync(HttpClient client, string search)
    {
        var page = (await client.GetFromJsonAsync<JsonNode>($"/api/leads?search={Uri.EscapeDataString(search)}"))!;
        return page["items"]!.AsArray().Select(l => l!["phone"]!.GetValue<string>()).ToList();
    }

    private static async Task<List<string>> CustomersAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync($"/api/conversations?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["items"]!.AsArray().Select(c => c!["customerId"]!.GetValue<string>()).ToList();
    }
}
