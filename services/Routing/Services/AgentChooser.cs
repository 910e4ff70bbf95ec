using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Model;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>Routing's proposal for one message, with the reason in words (it is shown on the conversation).</summary>
public sealed record AgentChoice(
    ReplyPolicy Reply,
    string? AgentId,
    string Reason,
    bool MatchedKeyword,
    bool InsideBusinessHours,
    string? OutOfHoursText);

/// <summary>
/// Chooses who answers (ARCHITECTURE.md "Choosing the agent"): among the tenant's agents active now in the
/// number's time zone, the one whose trigger keyword matches (the longest match wins: "dolor fuerte" is
/// more specific than "dolor"; between equally long matches the agent whose name sorts first, so the choice
/// never depends on storage order); else the number's default agent, else the tenant's default agent, if
/// active now; else, outside business hours, any agent active now. Outside business hours with autoReply
/// off, nobody answers; with autoReply on and nobody on duty, the out-of-hours text goes out.
/// Keywords match whole words and phrases only (see <see cref="TextMatching"/>): "cita" matches "¿Una CITÁ?"
/// but not "citas"; a tenant that wants both lists both.
/// </summary>
public static class AgentChooser
{
    public const string DefaultOutOfHoursText =
        "¡Gracias por escribirnos! En este momento estamos fuera de horario; te responderemos apenas abramos. " +
        "Thanks for your message! We are closed right now and will reply as soon as we open.";

    private static readonly TimeZoneInfo Bogota = TimeZoneInfo.FindSystemTimeZoneById("America/Bogota");

    public static AgentChoice Choose(WhatsAppNumber number, IReadOnlyList<KnownAgent> tenantAgents, string? text, DateTimeOffset now)
    {
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(number.Timezone, out var found) ? found : Bogota;
        var insideHours = number.BusinessHours is null || number.BusinessHours.IsOpenAt(now, zone);
        var onDuty = tenantAgents
            .Where(agent => agent.IsActive && !agent.Deleted && (agent.ActiveHours is null || agent.ActiveHours.IsOpenAt(now, zone)))
            .ToList();

        if (!insideHours && !number.AutoReply)
        {
            return new AgentChoice(ReplyPolicy.None, null, "outside business hours and autoReply is off: stored, nobody answers", false, false, null);
        }

        var normalized = TextMatching.Normalize(text);
        var byKeyword = onDuty
            .SelectMany(agent => agent.TriggerKeywords.Select(keyword => (agent, keyword, phrase: TextMatching.Normalize(keyword))))
            .Where(candidate => TextMatching.ContainsNormalizedPhrase(normalized, candidate.phrase))
            .OrderByDescending(candidate => candidate.phrase.Length)
            .ThenBy(candidate => candidate.agent.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (byKeyword.agent is not null)
        {
            return Answer(byKeyword.agent, $"keyword '{byKeyword.keyword}' matched {byKeyword.agent.Name}", matchedKeyword: true);
        }

        if (onDuty.FirstOrDefault(agent => agent.AgentId == number.DefaultAgentId) is { } numberDefault)
        {
            return Answer(numberDefault, $"the number's default agent {numberDefault.Name}", matchedKeyword: false);
        }

        if (onDuty.FirstOrDefault(agent => agent.IsDefault) is { } tenantDefault)
        {
            return Answer(tenantDefault, $"the tenant's default agent {tenantDefault.Name}", matchedKeyword: false);
        }

        if (!insideHours && onDuty.OrderBy(agent => agent.Name, StringComparer.Ordinal).FirstOrDefault() is { } anyOnDuty)
        {
            return Answer(anyOnDuty, $"outside business hours; {anyOnDuty.Name} is on duty", matchedKeyword: false);
        }

        if (!insideHours)
        {
            // The number's default agent's text, else the tenant's default agent's, else ours (bilingual).
            var outOfHoursText = new[]
                {
                    tenantAgents.FirstOrDefault(agent => agent.AgentId == number.DefaultAgentId && !agent.Deleted)?.OutOfHoursMessage,
                    tenantAgents.FirstOrDefault(agent => agent.IsDefault && !agent.Deleted)?.OutOfHoursMessage,
                }
                .FirstOrDefault(text => !string.IsNullOrWhiteSpace(text)) ?? DefaultOutOfHoursText;
            return new AgentChoice(ReplyPolicy.OutOfHoursText, null, "outside business hours and no agent is on duty: out-of-hours text",
                false, false, outOfHoursText);
        }

        return new AgentChoice(ReplyPolicy.None, null, "no active agent: waiting for a human", false, true, null);

        AgentChoice Answer(KnownAgent agent, string reason, bool matchedKeyword) =>
            new(ReplyPolicy.Agent, agent.AgentId, reason + (insideHours ? " (inside business hours)" : " (outside business hours, autoReply on)"),
                matchedKeyword, insideHours, null);
    }
}
