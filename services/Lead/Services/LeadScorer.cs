using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Services;

/// <summary>
/// Explainable scoring: each signal a customer message shows (in Spanish or English, whatever the accents
/// and case) changes the lead's score once per conversation, and the change is stored with the customer's
/// own words. The grade follows the score with the tenant's thresholds; the status follows the grade.
/// </summary>
public sealed partial class LeadScorer(LeadDbContext db)
{
    /// <summary>The built-in signals; a tenant adds its own (<see cref="LeadSettings.ScoringRules"/>).</summary>
    public static readonly IReadOnlyList<ScoringRule> BuiltInRules =
    [
        new("asked_to_book", "asked to book",
            ["quiero una cita", "una cita", "cita", "agendar", "reservar", "reserva", "turno", "appointment", "book", "booking", "schedule a visit"], 20),
        new("asked_price", "asked about prices",
            ["cuanto cuesta", "cuanto vale", "cuanto sale", "precio", "precios", "tarifa", "costo", "how much", "price", "prices", "cost"], 10),
        new("wants_to_buy", "wants to buy",
            ["quiero comprar", "comprar", "quiero pagar", "como pago", "buy", "purchase", "i want to pay", "place an order"], 25),
        new("urgent_need", "has an urgent need",
            ["urgente", "urgencia", "emergencia", "dolor fuerte", "lo antes posible", "urgent", "emergency", "asap", "as soon as possible"], 15),
        new("not_interested", "said not interested",
            ["no me interesa", "no gracias", "cancelar", "not interested", "no thanks", "cancel", "unsubscribe"], -20),
    ];

    private const int EmailPoints = 10;

    /// <summary>Scores one customer message; returns the changes made (already applied to <paramref name="lead"/>).</summary>
    public async Task<IReadOnlyList<LeadScoreEvent>> ScoreMessageAsync(
        CustomerLead lead, string conversationId, string? text, LeadSettings settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var seen = await db.ScoreEvents.Where(e => e.LeadId == lead.Id && e.ConversationId == conversationId)
            .Select(e => e.Signal).ToListAsync(cancellationToken);
        var words = TextMatch.Words(text);
        var changes = new List<LeadScoreEvent>();
        foreach (var rule in BuiltInRules.Concat(settings.ScoringRules))
        {
            if (seen.Contains(rule.Signal) || changes.Any(c => c.Signal == rule.Signal) || TextMatch.FirstMatch(words, rule.Phrases) is null)
            {
                continue;
            }

            changes.Add(Apply(lead, rule.Signal, rule.Description, rule.Points, TextMatch.Quote(text), conversationId, settings, now));
        }

        if (Email().Match(text) is { Success: true } email && !seen.Contains("shared_email"))
        {
            lead.Email ??= email.Value;
            changes.Add(Apply(lead, "shared_email", "shared an email address", EmailPoints, TextMatch.Quote(text), conversationId, settings, now));
        }

        return changes;
    }

    /// <summary>Changes the score by <paramref name="points"/>, records why, regrades, and publishes <see cref="LeadScored"/>.</summary>
    public LeadScoreEvent Apply(CustomerLead lead, string signal, string description, int points, string? evidence, string? conversationId,
        LeadSettings settings, DateTimeOffset now)
    {
        lead.QualificationScore += points;
        lead.LeadGrade = settings.GradeFor(lead.QualificationScore);
        lead.UpdatedAt = now;
        var change = new LeadScoreEvent
        {
            Id = Ids.New("score"),
            TenantId = lead.TenantId,
            LeadId = lead.Id,
            ConversationId = conversationId,
            Signal = signal,
            Description = description,
            Points = points,
            Evidence = evidence,
            ScoreAfter = lead.QualificationScore,
            GradeAfter = lead.LeadGrade,
            OccurredAt = now,
        };
        db.ScoreEvents.Add(change);
        db.Publish(new LeadScored(lead.TenantId, lead.Id, lead.QualificationScore, lead.LeadGrade, change.Reason, now)
            { Delta = points, Signal = signal, ConversationId = conversationId }, OrderingKeys.Lead(lead.TenantId, lead.Id));

        // A good enough grade qualifies a lead that is still new or contacted.
        if (lead.LeadStatus is LeadStatus.New or LeadStatus.Contacted && lead.LeadGrade is "A" or "B")
        {
            ChangeStatus(lead, LeadStatus.Qualified, now);
        }

        return change;
    }

    /// <summary>Moves the lead's status and publishes <see cref="LeadStatusChanged"/> (nothing when it does not change).</summary>
    public void ChangeStatus(CustomerLead lead, LeadStatus status, DateTimeOffset now)
    {
        if (lead.LeadStatus == status)
        {
            return;
        }

        var from = lead.LeadStatus;
        lead.LeadStatus = status;
        lead.UpdatedAt = now;
        db.Publish(new LeadStatusChanged(lead.TenantId, lead.Id, Apis.ApiEnum.Name(from), Apis.ApiEnum.Name(status), now), OrderingKeys.Lead(lead.TenantId, lead.Id));
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")]
    private static partial Regex Email();
}
