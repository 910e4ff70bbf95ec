using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Apis;

public sealed record CreateLeadRequest(
    string? Phone, string? Name, string? Email, string? Company, string? CustomerType, string? BusinessCategory,
    List<string>? Tags, JsonObject? Preferences, string? Source, string? AssignedTo, DateTimeOffset? LastActivity,
    DateTimeOffset? NextFollowUp, DateTimeOffset? LastPurchase, decimal? TotalSpent, string? InternalNotes);

public sealed record LeadResponse(
    string Id, string? CustomerId, string? Phone, string? Name, string? Email, string? Company, string? CustomerType,
    string? BusinessCategory, IReadOnlyList<string> Tags, int QualificationScore, LeadStatus LeadStatus, string LeadGrade,
    DateTimeOffset? LastPurchase, decimal TotalSpent, JsonObject? Preferences, string? Source, string? AssignedTo,
    DateTimeOffset LastActivity, DateTimeOffset? NextFollowUp, string? InternalNotes, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string? AssignedStaffId)
{
    public static LeadResponse From(CustomerLead l) => new(l.Id, l.CustomerId, l.Phone, l.Name, l.Email, l.Company, l.CustomerType,
        l.BusinessCategory, l.Tags, l.QualificationScore, l.LeadStatus, l.LeadGrade, l.LastPurchase, l.TotalSpent, l.Preferences,
        l.Source, l.AssignedTo, l.LastActivity, l.NextFollowUp, l.InternalNotes, l.CreatedAt, l.UpdatedAt, l.AssignedStaffId);
}

/// <summary>A tenant's customers (seed "CustomerLead").</summary>
public static class LeadsApi
{
    public static RouteGroupBuilder MapLeadsApi(this IEndpointRouteBuilder app)
    {
        var leads = app.MapGroup("/api/leads").WithTags("Leads").RequireTenant(TenantRole.Agent);
        leads.MapGet("/", List).WithName("ListLeads").WithSummary("List and search the tenant's leads");
        leads.MapPost("/", Create).WithName("CreateLead").WithSummary("Add a lead by hand (a WhatsApp message later joins it by phone)");
        leads.MapGet("/settings", GetSettings).RequireTenant(TenantRole.Admin).WithName("GetLeadSettings").WithSummary("The tenant's scoring, grading, idle and burst settings");
        leads.MapPut("/settings", PutSettings).RequireTenant(TenantRole.Admin).WithName("PutLeadSettings").WithSummary("Change the tenant's scoring, grading, idle and burst settings");
        leads.MapGet("/{id}", Get).WithName("GetLead").WithSummary("Read a lead");
        leads.MapPatch("/{id}", Update).WithName("UpdateLead").WithSummary("Change a lead's fields, status, assignee, follow-up or score (with a reason)");
        leads.MapGet("/{id}/score-history", ScoreHistory).WithName("GetLeadScoreHistory").WithSummary("Every change of the score, newest first, with its evidence");
        leads.MapGet("/{id}/export", Export).RequireTenant(TenantRole.Admin).WithName("ExportLead").WithSummary("The lead with its score history and every conversation with its messages, as JSON");
        leads.MapDelete("/{id}", Erase).RequireTenant(TenantRole.Admin).WithName("EraseLead").WithSummary("Erase the customer's personal data here and in every service that holds some");

        // ARCHITECTURE.md's name for the same settings (the gateway sends /api/tenant/settings here, the rest of
        // /api/tenant to Routing). A field left out keeps its value, so PATCH and PUT are one handler.
        var tenantSettings = app.MapGroup("/api/tenant/settings").WithTags("Leads").RequireTenant(TenantRole.Admin);
        tenantSettings.MapGet("/", GetSettings).WithName("GetTenantSettings").WithSummary("The tenant's scoring, grading, idle and burst settings");
        tenantSettings.MapPatch("/", PutSettings).WithName("PatchTenantSettings").WithSummary("Change some of the tenant's scoring, grading, idle and burst settings");
        return leads;
    }

    private static readonly string[] Grades = ["A", "B", "C", "D"];

    private static async Task<Results<Ok<PagedList<LeadResponse>>, ValidationProblem>> List(
        HttpContext context, LeadDbContext db, TimeProvider time, string? search, string? status, string? grade, string? tag, string? assignedTo,
        bool? followUpDue, string? sort, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors()
            .Check(ApiEnum.TryParse<LeadStatus>(status, out var wantedStatus), "status", ApiEnum.OneOf<LeadStatus>())
            .Check(grade is null || Grades.Contains(grade.Trim().ToUpperInvariant()), "grade", "One of A, B, C, D.")
            .Check(LeadSort.TryParse(sort, out var order), "sort", LeadSort.Help);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var tenantId = context.TenantId();
        var paging = PageQuery.From(page, pageSize);
        var query = db.Leads.AsNoTracking().Where(l => l.TenantId == tenantId);
        if (wantedStatus is { } wanted) query = query.Where(l => l.LeadStatus == wanted);
        if (grade is not null)
        {
            var g = grade.Trim().ToUpperInvariant();
            query = query.Where(l => l.LeadGrade == g);
        }

        if (!string.IsNullOrWhiteSpace(tag))
        {
            var t = tag.Trim();
            query = query.Where(l => l.Tags.Contains(t));
        }

        if (assignedTo is not null) query = query.Where(l => l.AssignedTo == assignedTo);
        if (followUpDue is { } due)
        {
            var now = time.GetUtcNow();
            query = due ? query.Where(l => l.NextFollowUp <= now) : query.Where(l => l.NextFollowUp == null || l.NextFollowUp > now);
        }

        if (!string.IsNullOrWhiteSpace(search))
        {
            // On the folded copy of name, phone and email: case and accents ignored ("maria" finds "María").
            // The escape character must be named: without it Npgsql emits ESCAPE '' and "\%" would match a backslash.
            var folded = TextMatch.Fold(search.Trim());
            var pattern = $"%{folded.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_")}%";
            query = query.Where(l => EF.Functions.Like(l.SearchText, pattern, "\\"));
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await order.Apply(query).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<LeadResponse>(items.Select(LeadResponse.From).ToList(), paging.Page, paging.PageSize, total));
    }

    private static async Task<Results<Ok<LeadResponse>, ProblemHttpResult>> Get(string id, HttpContext context, LeadDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var lead = await db.Leads.AsNoTracking().FirstOrDefaultAsync(l => l.Id == id && l.TenantId == tenantId, cancellationToken);
        return lead is null ? Problems.NotFound("Lead") : TypedResults.Ok(LeadResponse.From(lead));
    }

    private static async Task<Results<Created<LeadResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateLeadRequest request, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var errors = new ValidationErrors()
            .Check(Validators.IsE164(request.Phone), "phone", "An E.164 phone number such as +573001234567.")
            .Check(request.Name is null || request.Name.Length <= 200, "name", "At most 200 characters.")
            .Check(request.Email is null || (request.Email.Length <= 254 && request.Email.Contains('@')), "email", "An email address.")
            .Check(request.Tags is null || (request.Tags.Count <= 50 && request.Tags.All(t => !string.IsNullOrWhiteSpace(t) && t.Length <= 50)), "tags", "At most 50 tags of 1-50 characters.")
            .Check(request.TotalSpent is null or (>= 0 and <= CustomerLead.MaxAmount), "totalSpent", FormattableString.Invariant($"From 0 to {CustomerLead.MaxAmount:N0}."))
            .Check(request.InternalNotes is null || request.InternalNotes.Length <= 10_000, "internalNotes", "At most 10,000 characters.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // One lead per phone in a tenant, also when the same lead is posted twice at once (a double click, a client's
        // retry): creates of one phone wait for each other. No unique index: WhatsApp leads join by customer id.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync($"lead-phone:{tenantId}:{request.Phone}", cancellationToken);
        if (await db.Leads.AnyAsync(l => l.TenantId == tenantId && l.Phone == request.Phone, cancellationToken))
        {
            return Problems.Conflict("A lead with this phone exists already.", kind: "lead-exists");
        }

        var now = time.GetUtcNow();
        var settings = await db.SettingsForAsync(tenantId, cancellationToken);
        var lead = CustomerLead.EnteredByHand(tenantId, request.Phone!, Details(request), settings, now);
        db.Leads.Add(lead);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/leads/{lead.Id}", LeadResponse.From(lead));
    }

    private static async Task<Results<Ok<LeadResponse>, ValidationProblem, ProblemHttpResult>> Update(
        string id, UpdateLeadRequest request, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors()
            .Check(request.Phone is null || Validators.IsE164(request.Phone), "phone", "An E.164 phone number such as +573001234567.")
            .Check(request.Name is null || request.Name.Length <= 200, "name", "At most 200 characters.")
            .Check(request.Email is null || request.Email.Length == 0 || (request.Email.Length <= 254 && request.Email.Contains('@')), "email", "An email address.")
            .Check(request.Tags is null || (request.Tags.Count <= 50 && request.Tags.All(t => !string.IsNullOrWhiteSpace(t) && t.Length <= 50)), "tags", "At most 50 tags of 1-50 characters.")
            .Check(ApiEnum.TryParse<LeadStatus>(request.LeadStatus, out var status), "leadStatus", ApiEnum.OneOf<LeadStatus>())
            .Check(request.ScoreChange is null or (>= -1000 and <= 1000) && request.ScoreChange != 0, "scoreChange", "A change from -1000 to 1000, not 0.")
            .Check(request.ScoreChange is null || !string.IsNullOrWhiteSpace(request.ScoreReason), "scoreReason", "Why the score changes (kept in the score history).")
            .Check(request.ScoreReason is null || request.ScoreReason.Length <= 300, "scoreReason", "At most 300 characters.")
            .Check(request.InternalNotes is null || request.InternalNotes.Length <= 10_000, "internalNotes", "At most 10,000 characters.")
            .Check(request.AssignedTo is null || request.AssignedTo.Length <= 100, "assignedTo", "At most 100 characters.")
            .Check(request.AssignedTo is null || request.AssignedStaffId is null, "assignedStaffId", "Either a member of the staff (assignedStaffId) or an external name (assignedTo), not both.")
            .Check(request.Source is null || request.Source.Length <= 100, "source", "At most 100 characters.")
            .Check(request.TotalSpent is null or (>= 0 and <= CustomerLead.MaxAmount), "totalSpent", FormattableString.Invariant($"From 0 to {CustomerLead.MaxAmount:N0}."));
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var tenantId = context.TenantId();
        return await db.RunAsync<Results<Ok<LeadResponse>, ValidationProblem, ProblemHttpResult>>(async ct =>
        {
            var lead = await db.Leads.FirstOrDefaultAsync(l => l.Id == id && l.TenantId == tenantId, ct);
            if (lead is null)
            {
                return Problems.NotFound("Lead");
            }

            // By hand a lead may move anywhere (a lost lead reopened is contacted again), but NEW means never contacted:
            // once it left NEW it cannot go back. Checked before anything changes: a refused call writes nothing.
            if (status is { } wanted && !lead.MayMoveByHandTo(wanted))
            {
                return new ValidationErrors().Add("leadStatus", $"The lead is {ApiEnum.Name(lead.LeadStatus)}; NEW means never contacted, so it cannot go back to NEW.").ToProblem();
            }

            if (request.Phone is not null && request.Phone != lead.Phone
                && await db.Leads.AnyAsync(l => l.TenantId == tenantId && l.Phone == request.Phone && l.Id != id, ct))
            {
                return Problems.Conflict("A lead with this phone exists already.", kind: "lead-exists");
            }

            Employee? member = null;
            if (request.AssignedStaffId is { Length: > 0 } staffId
                && (member = (await db.ActiveStaffMemberAsync(tenantId, staffId, ct))?.AsEmployee()) is null)
            {
                return new ValidationErrors().Add("assignedStaffId", "No active member of the business's staff has this id.").ToProblem();
            }

            var now = time.GetUtcNow();
            lead.Edit(Details(request), now);
            if (request.AssignedStaffId is not null)
            {
                lead.AssignTo(member, now);
            }
            if (request.ScoreChange is { } points)
            {
                var settings = await db.SettingsForAsync(tenantId, ct);
                lead.ChangeScoreByHand(points, request.ScoreReason!.Trim(), settings, now);
            }

            if (status is { } s) lead.MoveByHand(s, now);
            return TypedResults.Ok(LeadResponse.From(lead));
        }, cancellationToken);
    }

    private static LeadDetails Details(CreateLeadRequest r) => new(r.Phone, r.Name, r.Email, r.Company, r.CustomerType, r.BusinessCategory, r.Tags,
        r.Preferences, r.Source, r.AssignedTo, r.LastActivity, r.NextFollowUp, LastPurchase: r.LastPurchase, TotalSpent: r.TotalSpent, InternalNotes: r.InternalNotes);

    private static LeadDetails Details(UpdateLeadRequest r) => new(r.Phone, r.Name, r.Email, r.Company, r.CustomerType, r.BusinessCategory, r.Tags,
        r.Preferences, r.Source, r.AssignedTo, NextFollowUp: r.NextFollowUp, ClearNextFollowUp: r.ClearNextFollowUp == true, LastPurchase: r.LastPurchase,
        TotalSpent: r.TotalSpent, InternalNotes: r.InternalNotes);

    private static async Task<Results<Ok<PagedList<ScoreChangeResponse>>, ProblemHttpResult>> ScoreHistory(
        string id, HttpContext context, LeadDbContext db, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        if (!await db.Leads.AnyAsync(l => l.Id == id && l.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("Lead");
        }

        var paging = PageQuery.From(page, pageSize);
        var query = db.ScoreEvents.AsNoTracking().Where(e => e.LeadId == id && e.TenantId == tenantId);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.ScoreAfter).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<ScoreChangeResponse>(items.Select(ScoreChangeResponse.From).ToList(), paging.Page, paging.PageSize, total));
    }

    private static async Task<Results<Ok<LeadExport>, ProblemHttpResult>> Export(string id, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var lead = await db.Leads.AsNoTracking().FirstOrDefaultAsync(l => l.Id == id && l.TenantId == tenantId, cancellationToken);
        if (lead is null)
        {
            return Problems.NotFound("Lead");
        }

        var history = await db.ScoreEvents.AsNoTracking().Where(e => e.LeadId == id && e.TenantId == tenantId).OrderBy(e => e.OccurredAt).ToListAsync(cancellationToken);
        var conversations = await db.Conversations.AsNoTracking().Where(c => c.CustomerLeadId == id && c.TenantId == tenantId).OrderBy(c => c.OpenedAt).ToListAsync(cancellationToken);
        var exported = new List<ConversationDetail>();
        foreach (var conversation in conversations)
        {
            exported.Add(new ConversationDetail(ConversationSummary.From(conversation),
                await ConversationsApi.MessagesAsync(db, tenantId, conversation.Id, cancellationToken)));
        }

        // An export hands a customer's data out: the trail records it before the data leaves.
        var exportedAt = time.GetUtcNow();
        db.Audit(context, tenantId, AuditActions.LeadExported, "lead", id, $"{exported.Count} conversations, {history.Count} score changes", exportedAt);
        await db.SaveChangesAsync(cancellationToken);

        context.Response.Headers.ContentDisposition = $"attachment; filename=\"lead-{id}.json\"";
        return TypedResults.Ok(new LeadExport(exportedAt, LeadResponse.From(lead), history.Select(ScoreChangeResponse.From).ToList(), exported));
    }

    /// <summary>
    /// Erases the customer: the lead, its conversations, messages and score history go, and every service that holds
    /// some of the customer's data hears of it. A later message from the customer starts a fresh lead.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Erase(string id, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        return await db.RunAsync<Results<NoContent, ProblemHttpResult>>(async ct =>
        {
            var lead = await db.Leads.AsNoTracking().FirstOrDefaultAsync(l => l.Id == id && l.TenantId == tenantId, ct);
            if (lead is null)
            {
                return Problems.NotFound("Lead");
            }

            var conversations = db.Conversations.Where(c => c.CustomerLeadId == id && c.TenantId == tenantId);
            async Task<List<string>> KeysAsync() => (await conversations.Select(c => new { c.WhatsappNumberId, c.CustomerId }).Distinct().ToListAsync(ct))
                .Select(k => OrderingKeys.Conversation(tenantId, k.WhatsappNumberId, k.CustomerId)).Order(StringComparer.Ordinal).ToList();

            var keys = await KeysAsync();
            // The locks every customer message and reply of these conversations takes: one in flight commits before the
            // erasure reads on (and is erased with the rest), one after it finds no lead and starts a fresh one. Without
            // them a message committed between the deletes below stays, with the customer's words, in no conversation.
            // Always taken in the same order, so two erasures of one lead never deadlock.
            foreach (var key in keys)
            {
                await db.LockAsync(key, ct);
            }

            // The lead goes first: a first message at another number (a conversation not locked above) updates the lead,
            // so it waits for this erasure and then finds no lead; one that updated it already has committed when this
            // returns, and its conversation is among those erased below.
            if (await db.Leads.Where(l => l.Id == id && l.TenantId == tenantId).ExecuteDeleteAsync(ct) == 0)
            {
                return Problems.NotFound("Lead"); // erased by another call while this one waited for the locks
            }

            var numbers = await conversations.Select(c => c.NumberPhone).Distinct().ToListAsync(ct);
            var conversationIds = await conversations.Select(c => c.Id).ToListAsync(ct);
            var orderingKeys = await KeysAsync();
            // Copies in the outbox of what was already published (turns, replies, the customer's words in score reasons)
            // would otherwise stay until the outbox's retention ends; those not yet published still go out. Everything
            // about the lead is published under its conversations' keys or its own.
            await db.ForgetPublishedAsync([.. orderingKeys, OrderingKeys.Lead(tenantId, id)], ct);
            await db.Messages.Where(m => m.TenantId == tenantId && conversations.Select(c => c.Id).Contains(m.ConversationId)).ExecuteDeleteAsync(ct);
            await conversations.ExecuteDeleteAsync(ct);
            await db.ScoreEvents.Where(e => e.LeadId == id && e.TenantId == tenantId).ExecuteDeleteAsync(ct);
            if (lead.CustomerId is not null || lead.Phone is not null)
            {
                db.Publish(new CustomerDataErasureRequested(tenantId, lead.CustomerId ?? lead.Phone!, id, time.GetUtcNow())
                    { CustomerPhone = lead.Phone, NumberPhones = numbers, ConversationIds = conversationIds }, tenantId);
            }

            db.Audit(context, tenantId, AuditActions.LeadErased, "lead", id, $"customer data erased ({numbers.Count} numbers notified)", time.GetUtcNow());

            return TypedResults.NoContent();
        }, cancellationToken);
    }

    private static async Task<Ok<LeadSettingsResponse>> GetSettings(HttpContext context, LeadDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(LeadSettingsResponse.From(await db.SettingsForAsync(context.TenantId(), cancellationToken)));

    private static async Task<Results<Ok<LeadSettingsResponse>, ValidationProblem>> PutSettings(
        LeadSettingsRequest request, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        const int month = 30 * 24 * 3600;
        var errors = new ValidationErrors()
            .Check(request.ConversationIdleSeconds is null or (>= 1 and <= month), "conversationIdleSeconds", "From 1 second to 30 days.")
            .Check(request.HumanIdleReleaseSeconds is null or (>= 1 and <= month), "humanIdleReleaseSeconds", "From 1 second to 30 days.")
            .Check(request.BurstWindowSeconds is null or (>= 0 and <= 60), "burstWindowSeconds", "From 0 (none) to 60 seconds.")
            .Check(request.ScoringRules is null || (request.ScoringRules.Count <= 50 && request.ScoringRules.All(r => r is not null
                    && !string.IsNullOrWhiteSpace(r.Signal) && r.Signal.Length <= 60 && !string.IsNullOrWhiteSpace(r.Description) && r.Description.Length <= 200
                    && r.Phrases is { Count: > 0 and <= 50 } && r.Phrases.All(p => p is not null && TextMatch.Words(p).Trim().Length > 0 && p.Length <= 100)
                    && r.Points is >= -100 and <= 100 and not 0)),
                "scoringRules", "At most 50 rules, each with a signal, a description, 1-50 phrases and points from -100 to 100 (not 0).");
        var settings = await db.Settings.FirstOrDefaultAsync(s => s.TenantId == context.TenantId(), cancellationToken);
        var isNew = settings is null;
        settings ??= LeadSettings.Defaults(context.TenantId());
        var a = request.GradeAThreshold ?? settings.GradeAThreshold;
        var b = request.GradeBThreshold ?? settings.GradeBThreshold;
        var c = request.GradeCThreshold ?? settings.GradeCThreshold;
        errors.Check(a > b && b > c, "gradeThresholds", "gradeAThreshold > gradeBThreshold > gradeCThreshold.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        settings.ConversationIdleSeconds = request.ConversationIdleSeconds ?? settings.ConversationIdleSeconds;
        settings.HumanIdleReleaseSeconds = request.HumanIdleReleaseSeconds ?? settings.HumanIdleReleaseSeconds;
        settings.BurstWindowSeconds = request.BurstWindowSeconds ?? settings.BurstWindowSeconds;
        (settings.GradeAThreshold, settings.GradeBThreshold, settings.GradeCThreshold) = (a, b, c);
        if (request.ScoringRules is not null)
        {
            settings.ScoringRules = request.ScoringRules.Select(r => r with { Signal = r.Signal.Trim(), Description = r.Description.Trim() }).ToList();
        }

        settings.UpdatedAt = time.GetUtcNow();
        if (isNew)
        {
            db.Settings.Add(settings);
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            // The grades follow new thresholds at once (the scores stay as they are).
            await db.Leads.Where(l => l.TenantId == settings.TenantId).ExecuteUpdateAsync(set => set.SetProperty(l => l.LeadGrade,
                l => l.QualificationScore >= a ? "A" : l.QualificationScore >= b ? "B" : l.QualificationScore >= c ? "C" : "D"), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Two first saves at once: the other one won; this one is applied over it.
            db.ChangeTracker.Clear();
            return await PutSettings(request, context, db, time, cancellationToken);
        }

        return TypedResults.Ok(LeadSettingsResponse.From(settings));
    }
}

/// <summary>
/// A change to a lead; a field left out keeps its value. <see cref="AssignedStaffId"/> gives the lead to a member of the
/// console's staff (an empty one to nobody); <see cref="AssignedTo"/> to an external name.
/// </summary>
public sealed record UpdateLeadRequest(
    string? Phone, string? Name, string? Email, string? Company, string? CustomerType, string? BusinessCategory, List<string>? Tags,
    JsonObject? Preferences, string? LeadStatus, string? AssignedTo, DateTimeOffset? NextFollowUp, bool? ClearNextFollowUp,
    string? InternalNotes, int? ScoreChange, string? ScoreReason, string? Source, DateTimeOffset? LastPurchase, decimal? TotalSpent,
    string? AssignedStaffId = null);

public sealed record ScoreChangeResponse(string Id, string Signal, string Description, int Points, string? Evidence, string Reason,
    int ScoreAfter, string GradeAfter, string? ConversationId, DateTimeOffset OccurredAt)
{
    public static ScoreChangeResponse From(LeadScoreEvent e) =>
        new(e.Id, e.Signal, e.Description, e.Points, e.Evidence, e.Reason, e.ScoreAfter, e.GradeAfter, e.ConversationId, e.OccurredAt);
}

public sealed record LeadExport(DateTimeOffset ExportedAt, LeadResponse Lead, IReadOnlyList<ScoreChangeResponse> ScoreHistory,
    IReadOnlyList<ConversationDetail> Conversations);

public sealed record LeadSettingsRequest(
    int? ConversationIdleSeconds, int? HumanIdleReleaseSeconds, int? BurstWindowSeconds, int? GradeAThreshold, int? GradeBThreshold,
    int? GradeCThreshold, List<ScoringRule>? ScoringRules);

public sealed record LeadSettingsResponse(
    int ConversationIdleSeconds, int HumanIdleReleaseSeconds, int BurstWindowSeconds, int GradeAThreshold, int GradeBThreshold,
    int GradeCThreshold, IReadOnlyList<ScoringRule> ScoringRules, IReadOnlyList<ScoringRule> BuiltInScoringRules)
{
    public static LeadSettingsResponse From(LeadSettings s) => new(s.ConversationIdleSeconds, s.HumanIdleReleaseSeconds, s.BurstWindowSeconds,
        s.GradeAThreshold, s.GradeBThreshold, s.GradeCThreshold, s.ScoringRules, CustomerLead.BuiltInRules);
}

/// <summary>The <c>sort</c> of the lead list: a field, descending with a leading "-" (default "-lastActivity").</summary>
internal readonly record struct LeadSort(string Field, bool Descending)
{
    private static readonly string[] Fields = ["lastActivity", "createdAt", "name", "qualificationScore", "totalSpent", "nextFollowUp"];

    public const string Help = "One of lastActivity, createdAt, name, qualificationScore, totalSpent, nextFollowUp; a leading '-' sorts descending.";

    public static bool TryParse(string? text, out LeadSort sort)
    {
        sort = new LeadSort("lastActivity", true);
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var trimmed = text.Trim();
        var descending = trimmed.StartsWith('-');
        var field = Fields.FirstOrDefault(f => string.Equals(f, trimmed.TrimStart('-', '+'), StringComparison.OrdinalIgnoreCase));
        if (field is null)
        {
            return false;
        }

        sort = new LeadSort(field, descending);
        return true;
    }

    public IQueryable<CustomerLead> Apply(IQueryable<CustomerLead> query)
    {
        var ordered = (Field, Descending) switch
        {
            ("createdAt", false) => query.OrderBy(l => l.CreatedAt),
            ("createdAt", true) => query.OrderByDescending(l => l.CreatedAt),
            ("name", false) => query.OrderBy(l => l.Name),
            ("name", true) => query.OrderByDescending(l => l.Name),
            ("qualificationScore", false) => query.OrderBy(l => l.QualificationScore),
            ("qualificationScore", true) => query.OrderByDescending(l => l.QualificationScore),
            ("totalSpent", false) => query.OrderBy(l => l.TotalSpent),
            ("totalSpent", true) => query.OrderByDescending(l => l.TotalSpent),
            ("nextFollowUp", false) => query.OrderBy(l => l.NextFollowUp),
            ("nextFollowUp", true) => query.OrderByDescending(l => l.NextFollowUp),
            (_, false) => query.OrderBy(l => l.LastActivity),
            _ => query.OrderByDescending(l => l.LastActivity),
        };
        return ordered.ThenBy(l => l.Id);
    }
}
