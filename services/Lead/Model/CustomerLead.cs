using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Model;

public enum LeadStatus
{
    New,
    Contacted,
    Qualified,
    Converted,
    Lost,
}

/// <summary>What a person entering or editing a lead gives; a field left null keeps its value (or its default).</summary>
public sealed record LeadDetails(
    string? Phone = null, string? Name = null, string? Email = null, string? Company = null, string? CustomerType = null,
    string? BusinessCategory = null, IReadOnlyList<string>? Tags = null, JsonObject? Preferences = null, string? Source = null,
    string? AssignedTo = null, DateTimeOffset? LastActivity = null, DateTimeOffset? NextFollowUp = null, bool ClearNextFollowUp = false,
    DateTimeOffset? LastPurchase = null, decimal? TotalSpent = null, string? InternalNotes = null);

/// <summary>
/// A customer of a tenant (seed "CustomerLead"): one per tenant and WhatsApp customer id. Its rules: explainable
/// scoring (each signal a customer message shows counts once per conversation, kept with the customer's own words), the
/// grade following the score with the tenant's thresholds, and a status that moves forward by itself (a reply contacts a
/// new lead, a good grade qualifies it, a purchase converts it) and anywhere by hand except back to never contacted.
/// </summary>
public sealed partial class CustomerLead : Aggregate
{
    /// <summary>The largest amount of money (a purchase, a total spent) the CRM keeps, well inside its numeric(18, 2) columns.</summary>
    public const decimal MaxAmount = 1_000_000_000_000m;

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
    private const string SharedEmail = "shared_email";

    private List<LeadScoreEvent>? _scoreChanges;

    private CustomerLead()
    {
    }

    public required string Id { get; init; }
    public required string TenantId { get; init; }

    /// <summary>The customer's WhatsApp id ("+573001234567", or a username id); null for a lead entered by hand without WhatsApp yet.</summary>
    public string? CustomerId { get; private set; }

    /// <summary>E.164 when the customer has a phone number.</summary>
    public string? Phone { get; private set; }

    public string? Name { get; private set; }
    public string? Email { get; private set; }
    public string? Company { get; private set; }
    public string? CustomerType { get; private set; }
    public string? BusinessCategory { get; private set; }
    public List<string> Tags { get; private set; } = [];
    public int QualificationScore { get; private set; }
    public LeadStatus LeadStatus { get; private set; } = LeadStatus.New;
    public string LeadGrade { get; private set; } = "C";
    public DateTimeOffset? LastPurchase { get; private set; }
    public decimal TotalSpent { get; private set; }
    public JsonObject? Preferences { get; private set; }
    public string? Source { get; private set; }
    /// <summary>Who looks after the lead, by name; <see cref="AssignedStaffId"/> when a member of the console's staff.</summary>
    public string? AssignedTo { get; private set; }

    public string? AssignedStaffId { get; private set; }
    public DateTimeOffset LastActivity { get; private set; }
    public DateTimeOffset? NextFollowUp { get; private set; }
    public string? InternalNotes { get; private set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>Name, phone and email folded to lower case without accents, for search ("maria" finds "María").</summary>
    public string SearchText { get; private set; } = "";

    private string Key => OrderingKeys.Lead(TenantId, Id);

    /// <summary>A customer writing on WhatsApp for the first time, with no lead of theirs yet.</summary>
    public static CustomerLead FirstContact(string tenantId, string customerId, string? phone, string? profileName, string numberId,
        LeadSettings settings, DateTimeOffset now)
    {
        var lead = new CustomerLead
        {
            Id = Ids.New("lead"),
            TenantId = tenantId,
            CustomerId = customerId,
            Phone = phone,
            Name = profileName,
            Source = "whatsapp",
            LeadGrade = settings.GradeFor(0),
            LastActivity = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        lead.RefreshSearchText();
        lead.Raise(new LeadCreated(tenantId, lead.Id, numberId, lead.Source, now), lead.Key);
        return lead;
    }

    /// <summary>A lead entered by hand (a customer met at the front desk), with its phone.</summary>
    public static CustomerLead EnteredByHand(string tenantId, string phone, LeadDetails details, LeadSettings settings, DateTimeOffset now)
    {
        var lead = new CustomerLead
        {
            Id = Ids.New("lead"),
            TenantId = tenantId,
            Phone = phone,
            Source = "manual",
            LeadGrade = settings.GradeFor(0),
            LastActivity = details.LastActivity ?? now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        lead.Edit(details, now);
        lead.Raise(new LeadCreated(tenantId, lead.Id, "", lead.Source, now), lead.Key);
        return lead;
    }

    /// <summary>
    /// The customer wrote on WhatsApp. A lead entered by hand with the customer's phone becomes the customer's lead on
    /// first contact; what the lead lacks, WhatsApp's profile fills in.
    /// </summary>
    public void CustomerWrote(string customerId, string? phone, string? profileName, DateTimeOffset now)
    {
        CustomerId ??= customerId;
        Name ??= profileName;
        Phone ??= phone;
        LastActivity = now;
        UpdatedAt = now;
        RefreshSearchText();
    }

    /// <summary>
    /// Scores one customer message of <paramref name="conversationId"/>: each signal counts once per conversation
    /// (<paramref name="signalsSeen"/> are those it counted already). Returns the changes made.
    /// </summary>
    public IReadOnlyList<LeadScoreEvent> ScoreMessage(string? text, string conversationId, IReadOnlyCollection<string> signalsSeen, LeadSettings settings,
        DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var words = TextMatch.Words(text);
        var changes = new List<LeadScoreEvent>();
        foreach (var rule in BuiltInRules.Concat(settings.ScoringRules))
        {
            if (signalsSeen.Contains(rule.Signal) || changes.Any(c => c.Signal == rule.Signal) || TextMatch.FirstMatch(words, rule.Phrases) is null)
            {
                continue;
            }

            changes.Add(ChangeScore(rule.Signal, rule.Description, rule.Points, TextMatch.Quote(text), conversationId, settings, now));
        }

        if (EmailAddress().Match(text) is { Success: true } email && !signalsSeen.Contains(SharedEmail))
        {
            Email ??= email.Value;
            RefreshSearchText();
            changes.Add(ChangeScore(SharedEmail, "shared an email address", EmailPoints, TextMatch.Quote(text), conversationId, settings, now));
        }

        return changes;
    }

    /// <summary>An employee changes the score by hand, saying why.</summary>
    public LeadScoreEvent ChangeScoreByHand(int points, string reason, LeadSettings settings, DateTimeOffset now) =>
        ChangeScore("manual", "changed by hand", points, reason, null, settings, now);

    /// <summary>Whether an employee may move the lead to <paramref name="status"/>: anywhere, except back to NEW (never contacted) once it left it.</summary>
    public bool MayMoveByHandTo(LeadStatus status) => status != LeadStatus.New || LeadStatus == LeadStatus.New;

    /// <summary>An employee moves the lead (a lost lead reopened, say); see <see cref="MayMoveByHandTo"/>.</summary>
    public void MoveByHand(LeadStatus status, DateTimeOffset now)
    {
        if (!MayMoveByHandTo(status))
        {
            throw new InvalidOperationException($"A {LeadStatus} lead cannot go back to {status}.");
        }

        ChangeStatus(status, now);
    }

    /// <summary>Something was sent to the customer: a new lead is contacted.</summary>
    public void Contacted(DateTimeOffset now)
    {
        if (LeadStatus == LeadStatus.New)
        {
            ChangeStatus(LeadStatus.Contacted, now);
        }
    }

    /// <summary>A conversion changed by <paramref name="delta"/>: the total spent follows, and a purchase converts the lead.</summary>
    public void RecordConversion(decimal delta, DateTimeOffset now)
    {
        TotalSpent = Math.Max(0, TotalSpent + delta);
        if (delta > 0)
        {
            LastPurchase = now;
            ChangeStatus(LeadStatus.Converted, now);
        }

        UpdatedAt = now;
    }

    /// <summary>Gives the lead to a member of the staff or to an external name; null leaves it with nobody.</summary>
    public void AssignTo(Employee? employee, DateTimeOffset now)
    {
        AssignedTo = employee?.Name;
        AssignedStaffId = employee?.StaffId;
        UpdatedAt = now;
    }

    /// <summary>An employee's edit: the fields given change, the others stay.</summary>
    public void Edit(LeadDetails details, DateTimeOffset now)
    {
        if (details.Phone is not null) Phone = details.Phone;
        if (details.Name is not null) Name = details.Name.Trim();
        if (details.Email is not null) Email = details.Email.Trim() is { Length: > 0 } email ? email : null;
        if (details.Company is not null) Company = details.Company.Trim();
        if (details.CustomerType is not null) CustomerType = details.CustomerType.Trim();
        if (details.BusinessCategory is not null) BusinessCategory = details.BusinessCategory.Trim();
        if (details.Tags is not null) Tags = details.Tags.Select(t => t.Trim()).Distinct().ToList();
        if (details.Preferences is not null) Preferences = details.Preferences;
        if (details.Source is not null) Source = details.Source.Trim() is { Length: > 0 } source ? source : null;
        if (details.AssignedTo is not null) AssignTo(details.AssignedTo.Trim() is { Length: > 0 } assignee ? new Employee(assignee) : null, now);
        if (details.NextFollowUp is not null) NextFollowUp = details.NextFollowUp;
        if (details.ClearNextFollowUp) NextFollowUp = null;
        if (details.InternalNotes is not null) InternalNotes = details.InternalNotes;
        // A purchase recorded by hand (made outside WhatsApp, say at the front desk).
        if (details.LastPurchase is not null) LastPurchase = details.LastPurchase;
        if (details.TotalSpent is { } spent) TotalSpent = spent;
        UpdatedAt = now;
        RefreshSearchText();
    }

    /// <summary>The score changes made since the last save, each a row of the lead's score history, handed over once.</summary>
    public IReadOnlyList<LeadScoreEvent> TakeScoreChanges()
    {
        var changes = _scoreChanges ?? [];
        _scoreChanges = null;
        return changes;
    }

    /// <summary>Changes the score by <paramref name="points"/>, records why, regrades; a good enough grade qualifies a lead still new or contacted.</summary>
    private LeadScoreEvent ChangeScore(string signal, string description, int points, string? evidence, string? conversationId,
        LeadSettings settings, DateTimeOffset now)
    {
        QualificationScore += points;
        LeadGrade = settings.GradeFor(QualificationScore);
        UpdatedAt = now;
        var change = new LeadScoreEvent
        {
            Id = Ids.New("score"),
            TenantId = TenantId,
            LeadId = Id,
            ConversationId = conversationId,
            Signal = signal,
            Description = description,
            Points = points,
            Evidence = evidence,
            ScoreAfter = QualificationScore,
            GradeAfter = LeadGrade,
            OccurredAt = now,
        };
        (_scoreChanges ??= []).Add(change);
        Raise(new LeadScored(TenantId, Id, QualificationScore, LeadGrade, change.Reason, now) { Delta = points, Signal = signal, ConversationId = conversationId }, Key);
        if (LeadStatus is LeadStatus.New or LeadStatus.Contacted && LeadGrade is "A" or "B")
        {
            ChangeStatus(LeadStatus.Qualified, now);
        }

        return change;
    }

    private void ChangeStatus(LeadStatus status, DateTimeOffset now)
    {
        if (LeadStatus == status)
        {
            return;
        }

        var from = LeadStatus;
        LeadStatus = status;
        UpdatedAt = now;
        Raise(new LeadStatusChanged(TenantId, Id, NameOf(from), NameOf(status), now), Key);
    }

    /// <summary>A status as the API and the events spell it (the seed's UPPERCASE names).</summary>
    public static string NameOf(LeadStatus status) => JsonNamingPolicy.SnakeCaseUpper.ConvertName(status.ToString());

    private void RefreshSearchText() =>
        SearchText = TextMatch.Fold(string.Join(' ', new[] { Name, Phone, Email }.Where(v => v is not null)));

    [GeneratedRegex(@"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")]
    private static partial Regex EmailAddress();
}

/// <summary>One change of a lead's score, with the signal and the customer's own words that caused it.</summary>
public sealed class LeadScoreEvent
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string LeadId { get; init; }
    public string? ConversationId { get; init; }

    /// <summary>A short name of what counted ("asked_to_book"), for once-per-conversation checks.</summary>
    public required string Signal { get; init; }

    public required string Description { get; init; }
    public int Points { get; init; }

    /// <summary>The customer's words that showed the signal (or the employee's note for a manual change).</summary>
    public string? Evidence { get; init; }

    public int ScoreAfter { get; init; }
    public required string GradeAfter { get; init; }
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>"+20: asked to book: 'quiero una cita'".</summary>
    public string Reason => $"{(Points >= 0 ? "+" : "")}{Points}: {Description}" + (Evidence is null ? "" : $": '{Evidence}'");
}
