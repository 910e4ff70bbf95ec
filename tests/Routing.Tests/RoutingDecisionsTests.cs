using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// Whole-service decisions with the service's clock stopped at chosen instants (a Wednesday in November 2025,
/// Bogotá UTC-5), and the in-memory directory seeing every change.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class RoutingDecisionsTests(RoutingService routing) : IDisposable
{
    private static readonly WeeklyHours? Weekdays = AgentChoiceTests.Hours("""
        {"monday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
         "tuesday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
         "wednesday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
         "thursday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
         "friday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
         "closedDates":["2025-12-25"]}
        """);

    private RoutingDirectory Directory => routing.Services.GetRequiredService<RoutingDirectory>();

    public void Dispose() => routing.Clock.Reset();

    private static DateTimeOffset Bogota(int month, int day, int hour, int minute = 0) => new(2025, month, day, hour, minute, 0, TimeSpan.FromHours(-5));

    [Theory]
    [InlineData(11, 19, 10, 0, "DrBot", true)]        // Wednesday morning shift
    [InlineData(11, 19, 13, 0, "DrBot", false)]       // lunch between the split shifts: DrBot, active 08:00-18:00, is still on duty
    [InlineData(11, 19, 22, 0, "Urgencias", false)]   // night: the seed's Urgencias, 18:00-08:00
    [InlineData(11, 19, 3, 0, "Urgencias", false)]    // past midnight, Wednesday 03:00: Tuesday night's 18:00-08:00 still runs
    [InlineData(12, 25, 10, 0, "Urgencias", false)]   // Christmas: a closed date of the number, DrBot's too; Urgencias covers holidays
    public async Task The_agent_on_duty_in_the_numbers_time_zone_answers_at_that_moment(int month, int day, int hour, int minute, string expected, bool inside)
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var drBot = await routing.AddAgentAsync(tenantId, "DrBot", ["cita"], isDefault: true,
            activeHours: AgentChoiceTests.Hours("""{"monday":[{"start":"08:00","end":"18:00"}],"tuesday":[{"start":"08:00","end":"18:00"}],"wednesday":[{"start":"08:00","end":"18:00"}],"thursday":[{"start":"08:00","end":"18:00"}],"friday":[{"start":"08:00","end":"18:00"}],"closedDates":["2025-12-25"]}"""));
        var urgencias = await routing.AddAgentAsync(tenantId, "Urgencias", ["urgencia", "dolor fuerte"],
            activeHours: AgentChoiceTests.Hours("""{"monday":[{"start":"18:00","end":"08:00"}],"tuesday":[{"start":"18:00","end":"08:00"}],"wednesday":[{"start":"18:00","end":"08:00"}],"thursday":[{"start":"00:00","end":"24:00"}],"friday":[{"start":"18:00","end":"08:00"}],"saturday":[{"start":"00:00","end":"24:00"}],"sunday":[{"start":"00:00","end":"24:00"}]}"""));
        var (_, phone) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = drBot, businessHours = Weekdays });
        routing.Clock.Set(Bogota(month, day, hour, minute));

        var decision = await RouteAsync(phone, "hola, buenas");
        Assert.Equal(ReplyPolicy.Agent, decision.Reply);
        Assert.Equal(expected == "DrBot" ? drBot : urgencias, decision.ProposedAgentId);
        Assert.Equal(inside, decision.InsideBusinessHours);
        Assert.Contains(inside ? "inside business hours" : "outside business hours", decision.ProposalReason);
    }

    [Fact]
    public async Task The_same_instant_is_inside_hours_for_a_number_in_Madrid_and_outside_for_one_in_Bogota()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var agent = await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var (_, bogota) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent, businessHours = Weekdays });
        var (_, madrid) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent, businessHours = Weekdays, timezone = "Europe/Madrid" });
        routing.Clock.Set(Bogota(11, 19, 9)); // 09:00 in Bogotá is 15:00 in Madrid

        Assert.True((await RouteAsync(bogota, "hola")).InsideBusinessHours);
        Assert.True((await RouteAsync(madrid, "hola")).InsideBusinessHours);

        routing.Clock.Set(Bogota(11, 19, 12, 30)); // 12:30 in Bogotá (lunch) is 18:30 in Madrid (closed)
        Assert.False((await RouteAsync(bogota, "hola")).InsideBusinessHours);
        Assert.False((await RouteAsync(madrid, "hola")).InsideBusinessHours);

        routing.Clock.Set(Bogota(11, 19, 3)); // 03:00 in Bogotá is 09:00 in Madrid
        Assert.False((await RouteAsync(bogota, "hola")).InsideBusinessHours);
        Assert.True((await RouteAsync(madrid, "hola")).InsideBusinessHours);
    }

    [Fact]
    public async Task Out_of_hours_with_autoReply_off_the_message_is_routed_but_nobody_answers_and_with_it_on_the_text_goes_out()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var drBot = await routing.AddAgentAsync(tenantId, "DrBot", ["cita"], isDefault: true, activeHours: AgentChoiceTests.Hours("\"08:00-18:00\""));
        var (numberId, phone) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = drBot, businessHours = Weekdays, autoReply = false });
        routing.Clock.Set(Bogota(11, 19, 21));

        var off = await RouteAsync(phone, "quiero una cita");
        Assert.Equal((ReplyPolicy.None, (string?)null), (off.Reply, off.ProposedAgentId));
        Assert.Contains("autoReply is off", off.ProposalReason);

        (await routing.ClientFor(tenantId).PatchAsJsonAsync($"/api/numbers/{numberId}", new { autoReply = true })).EnsureSuccessStatusCode();
        var on = await RouteAsync(phone, "quiero una cita");
        Assert.Equal(ReplyPolicy.OutOfHoursText, on.Reply);
        Assert.False(string.IsNullOrWhiteSpace(on.OutOfHoursText));
    }

    [Fact]
    public async Task A_message_to_an_inactive_number_is_recorded_for_operators()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var (_, phone) = await routing.CreateNumberAsync(tenantId, new { isActive = false });
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = RoutingService.Received(phone, "hola");
        await routing.Bus.Publish(message);
        var announced = await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId);
        Assert.Equal(("number_inactive", tenantId), (announced.Reason, announced.TenantId));
        Assert.True(await routing.WithDbAsync(db => db.UnroutedMessages.AnyAsync(m => m.MessageSid == message.MessageSid && m.Reason == "number_inactive")));
    }

    [Fact]
    public async Task The_cached_directory_sees_an_agent_change_a_number_change_and_a_plan_change()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro");
        var drBot = await routing.AddAgentAsync(tenantId, "DrBot", ["cita"], isDefault: true);
        var (numberId, phone) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = drBot });

        Assert.Equal(drBot, (await RouteAsync(phone, "tengo una urgencia")).ProposedAgentId);
        Assert.True(Directory.IsCached(tenantId)); // the tenant is now served from memory

        // Agent announces a new agent with the keyword: the directory drops the tenant once the change commits.
        var urgencias = "agt_" + Guid.NewGuid().ToString("N")[..12];
        await routing.HandledAsync(new AgentChanged(tenantId, urgencias, "Urgencias", true, false, ["urgencia"], null, null, false, 1, DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(() => Task.FromResult(!Directory.IsCached(tenantId)), "the directory to hear of the agent change");
        Assert.Equal(urgencias, (await RouteAsync(phone, "tengo una urgencia")).ProposedAgentId);

        // The number is switched off through the API: the very next message sees it.
        (await routing.ClientFor(tenantId).PatchAsJsonAsync($"/api/numbers/{numberId}", new { isActive = false })).EnsureSuccessStatusCode();
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = RoutingService.Received(phone, "hola");
        await routing.Bus.Publish(message);
        Assert.Equal("number_inactive", (await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId)).Reason);

        // Back on, then a downgrade to free (no numbers answer): seen at once as well.
        (await routing.ClientFor(tenantId).PatchAsJsonAsync($"/api/numbers/{numberId}", new { isActive = true })).EnsureSuccessStatusCode();
        Assert.Equal(urgencias, (await RouteAsync(phone, "urgencia")).ProposedAgentId);
        (await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "free" })).EnsureSuccessStatusCode();
        var afterDowngrade = RoutingService.Received(phone, "hola");
        await routing.Bus.Publish(afterDowngrade);
        Assert.Equal("over_plan_limit", (await unrouted.FirstAsync(m => m.InboundMessageId == afterDowngrade.InboundMessageId)).Reason);
    }

    [Fact]
    public async Task The_cached_directory_sees_a_phone_number_changed_the_CRM_switched_off_and_a_number_deleted()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro");
        var agent = await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var (numberId, oldPhone) = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent });
        using var client = routing.ClientFor(tenantId);
        Assert.Equal(agent, (await RouteAsync(oldPhone, "hola")).ProposedAgentId);
        Assert.True(Directory.IsCached(tenantId));

        // The number's phone changes: the new phone is routed, the old one is nobody's.
        var newPhone = RoutingService.NewPhone();
        (await client.PatchAsJsonAsync($"/api/numbers/{numberId}", new { phoneNumber = newPhone })).EnsureSuccessStatusCode();
        var routed = await RouteAsync(newPhone, "hola");
        Assert.Equal((tenantId, numberId, agent), (routed.TenantId, routed.NumberId, routed.ProposedAgentId));
        Assert.Equal("unknown_number", (await UnroutedAsync(oldPhone)).Reason);
        Assert.True(Directory.IsCached(tenantId));

        // The CRM is switched off, then on again.
        (await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmEnabled = false })).EnsureSuccessStatusCode();
        var off = await UnroutedAsync(newPhone);
        Assert.Equal(("crm_disabled", tenantId), (off.Reason, off.TenantId));
        (await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmEnabled = true })).EnsureSuccessStatusCode();
        Assert.Equal(agent, (await RouteAsync(newPhone, "hola")).ProposedAgentId);
        Assert.True(Directory.IsCached(tenantId));

        // The number is deleted: its phone is nobody's.
        (await client.DeleteAsync($"/api/numbers/{numberId}")).EnsureSuccessStatusCode();
        var gone = await UnroutedAsync(newPhone);
        Assert.Equal(("unknown_number", (string?)null), (gone.Reason, gone.TenantId));
    }

    private async Task<InboundMessageUnrouted> UnroutedAsync(string phone)
    {
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = RoutingService.Received(phone, "hola");
        await routing.Bus.Publish(message);
        return await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId);
    }

    private async Task<InboundMessageRouted> RouteAsync(string phone, string text)
    {
        await using var routed = await routing.WatchAsync<InboundMessageRouted>();
        var message = RoutingService.Received(phone, text);
        await routing.Bus.Publish(message);
        return await routed.FirstAsync(m => m.InboundMessageId == message.InboundMessageId);
    }
}
