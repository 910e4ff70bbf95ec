using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>Every field of a number is checked: a bad value is a 400 naming the field, and nothing is stored or changed.</summary>
[Collection(RoutingCollection.Name)]
public sealed class NumberValidationTests(RoutingService routing)
{
    [Theory]
    [InlineData("phoneNumber", "\"3001234567\"")]                 // no plus
    [InlineData("phoneNumber", "\"+0573001234567\"")]             // a country code never starts with 0
    [InlineData("phoneNumber", "\"+57 300 123 4567\"")]           // spaces
    [InlineData("phoneNumber", "\"+1234567\"")]                   // too short
    [InlineData("phoneNumber", "\"+1234567890123456\"")]          // longer than E.164's 15 digits
    [InlineData("phoneNumber", "\"whatsapp:+573001234567\"")]     // Twilio's address, not the number
    [InlineData("displayName", "\"  \"")]
    [InlineData("displayName", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"")] // 101
    [InlineData("timezone", "\"Bogota\"")]
    [InlineData("timezone", "\"America/Bogata\"")]
    [InlineData("timezone", "\"\"")]
    [InlineData("timezone", "\"SA Pacific Standard Time\"")]  // a Windows zone id (Bogotá's), not IANA
    [InlineData("webhookUrl", "\"not a url\"")]
    [InlineData("webhookUrl", "\"ftp://clinica.example/hook\"")]
    [InlineData("webhookUrl", "42")]
    [InlineData("twilioSid", "\"AC123\"")]
    [InlineData("twilioSid", "\"SK0123456789abcdef0123456789abcdef\"")]
    [InlineData("defaultAgentId", "42")]
    [InlineData("businessHours", "\"25:00-26:00\"")]
    [InlineData("businessHours", "\"08:00\"")]
    [InlineData("businessHours", "\"\"")]
    [InlineData("businessHours", "42")]
    [InlineData("businessHours", """{"funday":[{"start":"08:00","end":"12:00"}]}""")]
    [InlineData("businessHours", """{"monday":"08:00-12:00"}""")]
    [InlineData("businessHours", """{"monday":[{"start":"08:00"}]}""")]
    [InlineData("businessHours", """{"monday":[{"start":"08:00","end":"08:00"}]}""")]   // empty
    [InlineData("businessHours", """{"monday":[{"start":"24:00","end":"02:00"}]}""")]   // 24:00 only ends a range
    [InlineData("businessHours", """{"monday":[{"start":"8:00","end":"12:00"}]}""")]    // HH:mm
    [InlineData("businessHours", """{"monday":[{"start":"08:60","end":"12:00"}]}""")]
    [InlineData("businessHours", """{"closedDates":["25/12/2026"]}""")]
    [InlineData("businessHours", """{"closedDates":["2026-02-30"]}""")]
    [InlineData("businessHours", """{"closedDates":"2026-12-25"}""")]
    public async Task A_bad_value_is_a_400_naming_the_field_on_create_and_on_change_and_nothing_is_written(string field, string json)
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "enterprise");
        using var client = routing.ClientFor(tenantId);
        var body = new JsonObject { ["phoneNumber"] = RoutingService.NewPhone(), ["displayName"] = "Citas", [field] = JsonNode.Parse(json) };

        using var create = await client.PostAsJsonAsync("/api/numbers", body);
        await AssertFieldErrorAsync(create, field);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["total"]!.GetValue<int>());

        var (id, phone) = await routing.CreateNumberAsync(tenantId, new { displayName = "Citas", businessHours = "08:00-18:00" });
        var before = (await client.GetStringAsync($"/api/numbers/{id}"));
        using var patch = await client.PatchAsync($"/api/numbers/{id}", JsonContent.Create(new JsonObject { [field] = JsonNode.Parse(json) }));
        await AssertFieldErrorAsync(patch, field);
        Assert.Equal(before, await client.GetStringAsync($"/api/numbers/{id}"));
        Assert.Equal(phone, (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!["phoneNumber"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("isPrimary", "\"yes\"")]
    [InlineData("isActive", "1")]
    [InlineData("autoReply", "\"sí\"")]
    [InlineData("displayName", "[]")]
    public async Task A_value_of_the_wrong_type_is_a_400_problem_not_a_500(string field, string json)
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var client = routing.ClientFor(tenantId);
        var body = new JsonObject { ["phoneNumber"] = RoutingService.NewPhone(), ["displayName"] = "Citas", [field] = JsonNode.Parse(json) };
        using var response = await client.PostAsync("/api/numbers", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Hours_with_split_shifts_ranges_across_midnight_24_00_and_holidays_are_accepted_and_a_zone_defaults_to_Bogota()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var hours = JsonNode.Parse("""
            {"monday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
             "friday":[{"start":"20:00","end":"02:00"}], "saturday":[{"start":"10:00","end":"24:00"}],
             "closedDates":["2026-12-25","2027-01-01"]}
            """);
        var (id, _) = await routing.CreateNumberAsync(tenantId, new { businessHours = hours });
        var number = (await routing.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!;
        Assert.Equal("America/Bogota", number["timezone"]!.GetValue<string>());
        Assert.Equal("02:00", number["businessHours"]!["friday"]![0]!["end"]!.GetValue<string>());
        Assert.Equal("24:00", number["businessHours"]!["saturday"]![0]!["end"]!.GetValue<string>());
        Assert.Equal(2, number["businessHours"]!["closedDates"]!.AsArray().Count);

        using var patch = await routing.ClientFor(tenantId).PatchAsJsonAsync($"/api/numbers/{id}", new { timezone = "Europe/Madrid", businessHours = "18:00-08:00" });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        number = (await patch.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal("Europe/Madrid", number["timezone"]!.GetValue<string>());
        Assert.Equal("18:00", number["businessHours"]!["sunday"]![0]!["start"]!.GetValue<string>()); // the string form is every day
    }

    [Fact]
    public async Task A_default_agent_of_another_tenant_or_a_deleted_one_is_refused()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var (otherTenant, _) = await routing.CreateTenantAsync();
        var theirs = await routing.AddAgentAsync(otherTenant, "Ajeno", []);
        var gone = await routing.AddAgentAsync(tenantId, "Antiguo", []);
        await routing.Bus.Publish(new AgentChanged(tenantId, gone, "Antiguo", false, false, [], null, null, true, 2, DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(() => routing.WithDbAsync(db => db.Agents.AnyAsync(a => a.AgentId == gone && a.Deleted)), "the agent to be deleted");

        using var client = routing.ClientFor(tenantId);
        foreach (var agentId in new[] { theirs, gone })
        {
            using var response = await client.PostAsJsonAsync("/api/numbers", new { phoneNumber = RoutingService.NewPhone(), displayName = "Citas", defaultAgentId = agentId });
            await AssertFieldErrorAsync(response, "defaultAgentId");
        }

        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Changing_a_number_to_a_phone_another_tenant_holds_is_a_409_and_changes_nothing()
    {
        var (mine, _) = await routing.CreateTenantAsync();
        var (theirs, _) = await routing.CreateTenantAsync();
        var (id, phone) = await routing.CreateNumberAsync(mine);
        var (_, taken) = await routing.CreateNumberAsync(theirs);

        using var response = await routing.ClientFor(mine).PatchAsJsonAsync($"/api/numbers/{id}", new { phoneNumber = taken });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(phone, (await routing.ClientFor(mine).GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!["phoneNumber"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deleting_the_primary_number_makes_the_oldest_remaining_one_primary()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "enterprise");
        var (first, _) = await routing.CreateNumberAsync(tenantId);
        var (second, _) = await routing.CreateNumberAsync(tenantId);
        var (third, _) = await routing.CreateNumberAsync(tenantId, new { isPrimary = true });
        using var client = routing.ClientFor(tenantId);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/numbers/{third}")).StatusCode);
        var primaries = (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["items"]!.AsArray()
            .Where(n => n!["isPrimary"]!.GetValue<bool>()).Select(n => n!["id"]!.GetValue<string>());
        Assert.Equal([first], primaries);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Counters_count_every_message_to_the_number_and_each_lead_once_on_its_own_number()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var agent = await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var (id, phone) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent });
        var (otherTenant, _) = await routing.CreateTenantAsync();

        for (var i = 0; i < 3; i++)
        {
            await routing.HandledAsync(RoutingService.Received(phone, $"mensaje {i}"));
        }

        await routing.HandledAsync(new LeadCreated(tenantId, "lead_1", id, "whatsapp", DateTimeOffset.UtcNow));
        await routing.HandledAsync(new LeadCreated(tenantId, "lead_2", id, "whatsapp", DateTimeOffset.UtcNow));
        await routing.HandledAsync(new LeadCreated(otherTenant, "lead_x", id, "whatsapp", DateTimeOffset.UtcNow)); // not this tenant's number

        var number = (await routing.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!;
        Assert.Equal((3, 2), (number["totalMessages"]!.GetValue<int>(), number["totalLeads"]!.GetValue<int>()));
    }

    private static async Task AssertFieldErrorAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        Assert.Equal([field], errors.Select(e => e.Key));
    }
}
