using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
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
    DateTimeOffset LastActivity, DateTimeOffset? NextFollowUp, string? InternalNotes, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static LeadResponse From(CustomerLead l) => new(l.Id, l.CustomerId, l.Phone, l.Name, l.Email, l.Company, l.CustomerType,
        l.BusinessCategory, l.Tags, l.QualificationScore, l.LeadStatus, l.LeadGrade, l.LastPurchase, l.TotalSpent, l.Preferences,
        l.Source, l.AssignedTo, l.LastActivity, l.NextFollowUp, l.InternalNotes, l.CreatedAt, l.UpdatedAt);
}

/// <summary>A tenant's customers (seed "CustomerLead").</summary>
public static class LeadsApi
{
    public static RouteGroupBuilder MapLeadsApi(this IEndpointRouteBuilder app)
    {
        var leads = app.MapGroup("/api/leads").WithTags("Leads").RequireTenant();
        leads.MapGet("/", List).WithName("ListLeads").WithSummary("List and search the tenant's leads");
        leads.MapPost("/", Create).WithName("CreateLead").WithSummary("Add a lead by hand (a WhatsApp message later joins it by phone)");
        leads.MapGet("/{id}", Get).WithName("GetLead").WithSummary("Read a lead");
        return leads;
    }

    private static async Task<Results<Ok<PagedList<LeadResponse>>, ValidationProblem>> List(
        HttpContext context, LeadDbContext db, string? search, string? status, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        if (!ApiEnum.TryParse<LeadStatus>(status, out var wantedStatus))
        {
            return new ValidationErrors().Add("status", ApiEnum.OneOf<LeadStatus>()).ToProblem();
        }

        var tenantId = context.TenantId();
        var paging = PageQuery.From(page, pageSize);
        var query = db.Leads.AsNoTracking().Where(l => l.TenantId == tenantId);
        if (wantedStatus is { } wanted)
        {
            query = query.Where(l => l.LeadStatus == wanted);
        }

        if (!string.IsNullOrWhiteSpace(search))
        {
            // The escape character must be named: without it Npgsql emits ESCAPE '' and "\%" would match a backslash.
            var pattern = $"%{search.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_")}%";
            query = query.Where(l => EF.Functions.ILike(l.Name ?? "", pattern, "\\") || EF.Functions.ILike(l.Phone ?? "", pattern, "\\")
                || EF.Functions.ILike(l.Email ?? "", pattern, "\\"));
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(l => l.LastActivity).ThenBy(l => l.Id).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
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
            .Check(request.TotalSpent is null or >= 0, "totalSpent", "Zero or more.")
            .Check(request.InternalNotes is null || request.InternalNotes.Length <= 10_000, "internalNotes", "At most 10,000 characters.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // One lead per phone in a tenant, also when the same lead is posted twice at once (a double click, a client's
        // retry): creates of one phone wait for each other. No unique index: WhatsApp leads join by customer id.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var lockKey = $"lead-phone:{tenantId}:{request.Phone}";
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({lockKey}, 0))", cancellationToken);
        if (await db.Leads.AnyAsync(l => l.TenantId == tenantId && l.Phone == request.Phone, cancellationToken))
        {
            return Problems.Conflict("A lead with this phone exists already.", kind: "lead-exists");
        }

        var now = time.GetUtcNow();
        var lead = new CustomerLead
        {
            Id = Ids.New("lead"),
            TenantId = tenantId,
            Phone = request.Phone,
            Name = request.Name?.Trim(),
            Email = request.Email?.Trim(),
            Company = request.Company?.Trim(),
            CustomerType = request.CustomerType?.Trim(),
            BusinessCategory = request.BusinessCategory?.Trim(),
            Tags = request.Tags?.Select(t => t.Trim()).Distinct().ToList() ?? [],
            Preferences = request.Preferences,
            Source = request.Source?.Trim() ?? "manual",
            AssignedTo = request.AssignedTo?.Trim(),
            LastActivity = request.LastActivity ?? now,
            NextFollowUp = request.NextFollowUp,
            LastPurchase = request.LastPurchase,
            TotalSpent = request.TotalSpent ?? 0,
            InternalNotes = request.InternalNotes,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Leads.Add(lead);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/leads/{lead.Id}", LeadResponse.From(lead));
    }
}
