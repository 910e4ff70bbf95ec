using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Apis;

public sealed record CreateAgentRequest(
    string? Name,
    string? Description,
    string? Role,
    bool? IsActive,
    bool? IsDefault,
    string? PersonalityPrompt,
    string? BusinessPrompt,
    string? ObjectivesPrompt,
    string? Model,
    double? Temperature,
    int? MaxTokensPerMessage,
    JsonObject? BusinessRules,
    List<string>? TriggerKeywords,
    JsonElement ActiveHours);

public sealed record AgentResponse(
    string Id, string Name, string? Description, string Role, bool IsActive, bool IsDefault,
    string PersonalityPrompt, string BusinessPrompt, string ObjectivesPrompt, string Model, double Temperature,
    int MaxTokensPerMessage, JsonObject BusinessRules, IReadOnlyList<string> TriggerKeywords, WeeklyHours? ActiveHours,
    int TotalConversations, double AvgResponseTime, double SatisfactionRating, long TotalTokensUsed, decimal EstimatedCost,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static AgentResponse From(AiAgent a) => new(a.Id, a.Name, a.Description, a.Role, a.IsActive, a.IsDefault,
        a.PersonalityPrompt, a.BusinessPrompt, a.ObjectivesPrompt, a.Model, a.Temperature, a.MaxTokensPerMessage, a.BusinessRules,
        a.TriggerKeywords, a.ActiveHours, a.TotalConversations, a.AvgResponseTime, a.SatisfactionRating, a.TotalTokensUsed,
        a.EstimatedCost, a.CreatedAt, a.UpdatedAt);
}

public sealed record PromptVersionResponse(
    int Version, bool IsActive, PromptStatus Status, string? RejectionReason, string TriggerReason,
    string SystemPrompt, string ContextSummary, DateTimeOffset CreatedAt);

/// <summary>A tenant's AI agents (seed "UserAIAgent") and their prompt versions.</summary>
public static class AgentsApi
{
    public static RouteGroupBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var agents = app.MapGroup("/api/agents").WithTags("Agents").RequireTenant();
        agents.MapGet("/", List).WithName("ListAgents").WithSummary("List the tenant's agents");
        agents.MapPost("/", Create).WithName("CreateAgent").WithSummary("Create an agent (within the plan's limit)");
        agents.MapGet("/{id}", Get).WithName("GetAgent").WithSummary("Read an agent");
        agents.MapGet("/{id}/prompts", ListPrompts).WithName("ListPromptVersions").WithSummary("The agent's prompt versions, newest first");
        return agents;
    }

    private static async Task<Ok<PagedList<AgentResponse>>> List(HttpContext context, AgentDbContext db, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var paging = PageQuery.From(page, pageSize);
        var query = db.Agents.AsNoTracking().Where(a => a.TenantId == tenantId);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<AgentResponse>(items.Select(AgentResponse.From).ToList(), paging.Page, paging.PageSize, total));
    }

    private static async Task<Results<Ok<AgentResponse>, ProblemHttpResult>> Get(string id, HttpContext context, AgentDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id && a.TenantId == tenantId, cancellationToken);
        return agent is null ? Problems.NotFound("Agent") : TypedResults.Ok(AgentResponse.From(agent));
    }

    // Every list of the API has the same shape ({items, page, pageSize, total}); versions accumulate as prompts evolve.
    private static async Task<Results<Ok<PagedList<PromptVersionResponse>>, ProblemHttpResult>> ListPrompts(
        string id, HttpContext context, AgentDbContext db, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        if (!await db.Agents.AnyAsync(a => a.Id == id && a.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("Agent");
        }

        var paging = PageQuery.From(page, pageSize);
        var query = db.Prompts.AsNoTracking().Where(p => p.AgentId == id && p.TenantId == tenantId);
        var total = await query.CountAsync(cancellationToken);
        var versions = await query
            .OrderByDescending(p => p.Version)
            .Skip(paging.Skip).Take(paging.PageSize)
            .Select(p => new PromptVersionResponse(p.Version, p.IsActive, p.Status, p.RejectionReason, p.TriggerReason, p.SystemPrompt, p.ContextSummary, p.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<PromptVersionResponse>(versions, paging.Page, paging.PageSize, total));
    }

    private static async Task<IResult> Create(CreateAgentRequest request, HttpContext context, AgentDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var errors = Validate(request, out var activeHours);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // Postgres keeps microseconds: answer the createdAt/updatedAt a later GET reads back, not a finer one.
        var now = time.GetUtcNow();
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tenant = await db.LockTenantAsync(tenantId, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotYetKnown(context, "This tenant", "The tenant was created a moment ago; retry shortly.");
        }

        var count = await db.Agents.CountAsync(a => a.TenantId == tenantId, cancellationToken);
        if (tenant.MaxAgents is { } max && count >= max)
        {
            return Problems.PlanLimitExceeded("agents", max, count, tenant.Plan);
        }

        var agent = new AiAgent
        {
            Id = Ids.New("agt"),
            TenantId = tenantId,
            Name = request.Name!.Trim(),
            Description = request.Description?.Trim(),
            Role = string.IsNullOrWhiteSpace(request.Role) ? "assistant" : request.Role.Trim(),
            IsActive = request.IsActive ?? true,
            IsDefault = request.IsDefault ?? count == 0,
            PersonalityPrompt = request.PersonalityPrompt!.Trim(),
            BusinessPrompt = request.BusinessPrompt!.Trim(),
            ObjectivesPrompt = request.ObjectivesPrompt!.Trim(),
            Model = string.IsNullOrWhiteSpace(request.Model) ? "gpt-3.5-turbo" : request.Model.Trim(),
            Temperature = request.Temperature ?? 0.7,
            MaxTokensPerMessage = request.MaxTokensPerMessage ?? 500,
            BusinessRules = request.BusinessRules ?? [],
            TriggerKeywords = request.TriggerKeywords?.Select(k => k.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [],
            ActiveHours = activeHours,
            Revision = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };

        if (agent.IsDefault)
        {
            // One default per tenant: the previous default steps down, and Routing hears of it.
            var previous = await db.Agents.Where(a => a.TenantId == tenantId && a.IsDefault).ToListAsync(cancellationToken);
            foreach (var other in previous)
            {
                other.IsDefault = false;
                other.Revision++;
                other.UpdatedAt = now;
                db.Publish(other.ToChangedEvent(now), orderingKey: other.Id);
            }

            await db.SaveChangesAsync(cancellationToken);
        }

        db.Agents.Add(agent);
        db.Prompts.Add(new AgentPrompt
        {
            Id = Ids.New("prm"),
            AgentId = agent.Id,
            TenantId = tenantId,
            Version = 1,
            SystemPrompt = PromptComposer.Compose(agent),
            TriggerReason = "initial",
            IsActive = true,
            Status = PromptStatus.Active,
            CreatedAt = now,
        });
        db.Publish(agent.ToChangedEvent(now), orderingKey: agent.Id);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/agents/{agent.Id}", AgentResponse.From(agent));
    }

    private static ValidationErrors Validate(CreateAgentRequest request, out WeeklyHours? activeHours)
    {
        var errors = new ValidationErrors()
            .Check(!string.IsNullOrWhiteSpace(request.Name) && request.Name.Trim().Length <= 100, "name", "Required, at most 100 characters.")
            .Check(request.Description is null || request.Description.Length <= 500, "description", "At most 500 characters.")
            .Check(request.Role is null || request.Role.Length <= 100, "role", "At most 100 characters.")
            .Check(!string.IsNullOrWhiteSpace(request.PersonalityPrompt) && request.PersonalityPrompt.Length <= 4000, "personalityPrompt", "Required, at most 4000 characters.")
            .Check(!string.IsNullOrWhiteSpace(request.BusinessPrompt) && request.BusinessPrompt.Length <= 8000, "businessPrompt", "Required, at most 8000 characters.")
            .Check(!string.IsNullOrWhiteSpace(request.ObjectivesPrompt) && request.ObjectivesPrompt.Length <= 4000, "objectivesPrompt", "Required, at most 4000 characters.")
            .Check(request.Model is null || request.Model.Length <= 100, "model", "At most 100 characters.")
            .Check(request.Temperature is null or >= 0 and <= 2, "temperature", "Between 0 and 2.")
            .Check(request.MaxTokensPerMessage is null or >= 16 and <= 4096, "maxTokensPerMessage", "Between 16 and 4096.")
            .Check(request.TriggerKeywords is null || (request.TriggerKeywords.Count <= 50
                && request.TriggerKeywords.All(k => !string.IsNullOrWhiteSpace(k) && k.Length <= 100)), "triggerKeywords", "At most 50 keywords, each 1-100 characters.")
            .Check(request.BusinessRules is null || request.BusinessRules.ToJsonString().Length <= 16_000, "businessRules", "At most 16 KB of JSON.");

        activeHours = null;
        if (request.ActiveHours.ValueKind != JsonValueKind.Undefined && !WeeklyHours.TryParse(request.ActiveHours, out activeHours, out var error))
        {
            errors.Add("activeHours", error!);
        }

        return errors;
    }
}
