using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Apis;

/// <summary>An agent's configuration; on create, <see cref="TemplateId"/> starts from a template and the other fields go on top.</summary>
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
    JsonElement ActiveHours,
    string? TemplateId = null);

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

public sealed record TemplateResponse(string Id, string Industry, JsonObject Agent);

public sealed record PromptVersionResponse(
    int Version, bool IsActive, PromptStatus Status, string? RejectionReason, string TriggerReason,
    string SystemPrompt, string ContextSummary, DateTimeOffset CreatedAt, int? TokensUsed, double? ResponseQuality);

/// <summary>A tenant's AI agents (seed "UserAIAgent"), their prompt versions, and the seed's example agents as templates.</summary>
public static class AgentsApi
{
    public static RouteGroupBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var agents = app.MapGroup("/api/agents").WithTags("Agents");
        // Every member reads the agents (a thread names the one that wrote); admins configure them.
        var tenant = agents.MapGroup("").RequireTenant(TenantRole.Admin);
        agents.MapGet("/", List).RequireTenant(TenantRole.Agent).WithName("ListAgents").WithSummary("List the tenant's agents");
        // The handlers read the body as JSON to tell a field left out from a null one; the document names its fields.
        tenant.MapPost("/", Create).WithName("CreateAgent").WithSummary("Create an agent (within the plan's limit), optionally from a template (templateId)")
            .Accepts<CreateAgentRequest>("application/json");
        agents.MapGet("/{id}", Get).RequireTenant(TenantRole.Agent).WithName("GetAgent").WithSummary("Read an agent");
        tenant.MapPut("/{id}", Replace).WithName("ReplaceAgent").WithSummary("Replace an agent's configuration")
            .Accepts<CreateAgentRequest>("application/json");
        tenant.MapPatch("/{id}", Patch).WithName("UpdateAgent").WithSummary("Change some of an agent's fields")
            .Accepts<CreateAgentRequest>("application/json");
        tenant.MapDelete("/{id}", Delete).WithName("DeleteAgent").WithSummary("Delete an agent and its prompt versions");
        // The tenant, or an operator on its behalf, reads the versions and rolls back to an earlier one.
        agents.MapGet("/{id}/prompts", ListPrompts).RequireTenantOrOperator(TenantRole.Admin)
            .WithName("ListPromptVersions").WithSummary("The agent's prompt versions, newest first");
        agents.MapPost("/{id}/prompts/{version:int}/activate", Activate).RequireTenantOrOperator(TenantRole.Admin)
            .WithName("ActivatePromptVersion").WithSummary("Make a prompt version the active one and pin it (roll back)");

        var templates = app.MapGroup("/api/agent-templates").WithTags("Agents").RequireTenant(TenantRole.Admin);
        templates.MapGet("/", ListTemplates).WithName("ListAgentTemplates").WithSummary("The seed's example agents, as starting points");
        templates.MapGet("/{templateId}", GetTemplate).WithName("GetAgentTemplate").WithSummary("One example agent");
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
        var tenantId = await TenantOfCallerAsync(context, db, id, cancellationToken);
        if (tenantId is null || !await db.Agents.AnyAsync(a => a.Id == id && a.TenantId == tenantId, cancellationToken))
        {
            return Problems.NotFound("Agent");
        }

        var paging = PageQuery.From(page, pageSize);
        var query = db.Prompts.AsNoTracking().Where(p => p.AgentId == id && p.TenantId == tenantId);
        var total = await query.CountAsync(cancellationToken);
        var versions = await query
            .OrderByDescending(p => p.Version)
            .Skip(paging.Skip).Take(paging.PageSize)
            .Select(p => new PromptVersionResponse(p.Version, p.IsActive, p.Status, p.RejectionReason, p.TriggerReason, p.SystemPrompt, p.ContextSummary, p.CreatedAt,
                p.TokensUsed, p.ResponseQuality))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<PromptVersionResponse>(versions, paging.Page, paging.PageSize, total));
    }

    private static Ok<PagedList<TemplateResponse>> ListTemplates() =>
        TypedResults.Ok(new PagedList<TemplateResponse>(AgentTemplates.All.Select(ToResponse).ToList(), 1, PageQuery.DefaultPageSize, AgentTemplates.All.Count));

    private static Results<Ok<TemplateResponse>, ProblemHttpResult> GetTemplate(string templateId) =>
        AgentTemplates.Find(templateId) is { } template ? TypedResults.Ok(ToResponse(template)) : Problems.NotFound("Template");

    private static TemplateResponse ToResponse(AgentTemplates.Template template) => new(template.Id, template.Industry, (JsonObject)template.Fields.DeepClone());

    private static async Task<IResult> Create(JsonObject body, HttpContext context, AgentDbContext db, PromptVersions versions,
        IOptions<JsonOptions> json, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var fields = body;
        if (body.TryGetPropertyValue("templateId", out var templateNode))
        {
            var template = templateNode is JsonValue value && value.TryGetValue(out string? templateId) ? AgentTemplates.Find(templateId) : null;
            if (template is null)
            {
                return new ValidationErrors().Add("templateId", $"One of {string.Join(", ", AgentTemplates.All.Select(t => t.Id))}.").ToProblem();
            }

            fields = Overlay((JsonObject)template.Fields.DeepClone(), body);
            fields.Remove("templateId");
        }

        if (!TryRead(fields, json.Value, out var request, out var unreadable))
        {
            return unreadable;
        }

        var errors = Validate(request, out var activeHours);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var now = Now(time);
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
            Name = "",
            PersonalityPrompt = "",
            BusinessPrompt = "",
            ObjectivesPrompt = "",
            Revision = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        Apply(agent, request, activeHours, isActive: request.IsActive ?? true, isDefault: request.IsDefault ?? count == 0);
        if (TooLong(agent, "", versions.Options) is { } tooLong)
        {
            return tooLong;
        }

        if (agent.IsDefault)
        {
            await StepDownDefaultAsync(db, tenantId, exceptAgentId: agent.Id, now, cancellationToken);
        }

        db.Agents.Add(agent);
        await versions.AddAsync(agent, TriggerReasons.Initial, "", [], now, cancellationToken);
        db.Publish(agent.ToChangedEvent(now), orderingKey: agent.Id);
        db.Audit(context, tenantId, AuditActions.AgentCreated, "agent", agent.Id, AgentAudit.Label(agent.Name), now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/agents/{agent.Id}", AgentResponse.From(agent));
    }

    /// <summary>PUT: the body is the whole configuration (fields left out take their defaults; isActive and isDefault stay as they are).</summary>
    private static Task<IResult> Replace(string id, JsonObject body, HttpContext context, AgentDbContext db, PromptVersions versions,
        IOptions<JsonOptions> json, TimeProvider time, CancellationToken cancellationToken) =>
        UpdateAsync(id, _ => body, context, db, versions, json.Value, time, cancellationToken);

    /// <summary>PATCH: only the fields in the body change (null clears description and activeHours).</summary>
    private static Task<IResult> Patch(string id, JsonObject body, HttpContext context, AgentDbContext db, PromptVersions versions,
        IOptions<JsonOptions> json, TimeProvider time, CancellationToken cancellationToken) =>
        UpdateAsync(id, current => Overlay(Snapshot(current, json.Value), body), context, db, versions, json.Value, time, cancellationToken);

    private static async Task<IResult> UpdateAsync(string id, Func<AiAgent, JsonObject> fieldsOf, HttpContext context, AgentDbContext db,
        PromptVersions versions, JsonOptions json, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var now = Now(time);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The tenant's lock first (as creates take it): default agents change hands one writer at a time.
        await db.LockTenantAsync(tenantId, cancellationToken);
        var agent = await db.LockAgentAsync(id, tenantId, cancellationToken);
        if (agent is null)
        {
            return Problems.NotFound("Agent");
        }

        if (!TryRead(fieldsOf(agent), json, out var request, out var unreadable))
        {
            return unreadable;
        }

        var errors = Validate(request, out var activeHours);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var before = Snapshot(agent, json);
        var promptBefore = PromptComposer.Compose(agent);
        Apply(agent, request, activeHours, isActive: request.IsActive ?? agent.IsActive, isDefault: request.IsDefault ?? agent.IsDefault);
        if (JsonNode.DeepEquals(before, Snapshot(agent, json)))
        {
            return TypedResults.Ok(AgentResponse.From(agent)); // nothing changed: no new revision, no event
        }

        var summary = await versions.CurrentSummaryAsync(agent.Id, cancellationToken);
        if (TooLong(agent, summary, versions.Options) is { } tooLong)
        {
            return tooLong;
        }

        if (agent.IsDefault)
        {
            await StepDownDefaultAsync(db, tenantId, exceptAgentId: agent.Id, now, cancellationToken);
        }

        if (PromptComposer.Compose(agent) != promptBefore)
        {
            // The tenant edited what the prompt is made of: the edit goes live at once, and ends a pin.
            agent.PromptPinned = false;
            await versions.AddAsync(agent, TriggerReasons.AgentUpdated, summary, [], now, cancellationToken);
        }

        agent.Revision++;
        agent.UpdatedAt = now;
        db.Publish(agent.ToChangedEvent(now), orderingKey: agent.Id);
        var after = Snapshot(agent, json);
        var changed = after.Select(f => f.Key).Where(k => !JsonNode.DeepEquals(before[k], after[k]));
        db.Audit(context, tenantId, AuditActions.AgentUpdated, "agent", agent.Id, $"{AgentAudit.Label(agent.Name)}: {string.Join(", ", changed)}", now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(AgentResponse.From(agent));
    }

    private static async Task<IResult> Delete(string id, HttpContext context, AgentDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var now = Now(time);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockTenantAsync(tenantId, cancellationToken);
        var agent = await db.LockAgentAsync(id, tenantId, cancellationToken);
        if (agent is null)
        {
            return Problems.NotFound("Agent");
        }

        await db.Prompts.Where(p => p.AgentId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Conversations.Where(c => c.AgentId == id).ExecuteDeleteAsync(cancellationToken);
        await db.QuestionSamples.Where(s => s.AgentId == id).ExecuteDeleteAsync(cancellationToken);
        db.Agents.Remove(agent);
        agent.Revision++;
        agent.IsActive = false;
        agent.IsDefault = false;
        db.Publish(agent.ToChangedEvent(now, deleted: true), orderingKey: agent.Id);
        db.Audit(context, tenantId, AuditActions.AgentDeleted, "agent", agent.Id, AgentAudit.Label(agent.Name), now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Activate(string id, int version, HttpContext context, AgentDbContext db, PromptVersions versions, TimeProvider time,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tenantId = await TenantOfCallerAsync(context, db, id, cancellationToken);
        var agent = tenantId is null ? null : await db.LockAgentAsync(id, tenantId, cancellationToken);
        if (agent is null)
        {
            return Problems.NotFound("Agent");
        }

        var prompt = await db.Prompts.FirstOrDefaultAsync(p => p.AgentId == id && p.Version == version, cancellationToken);
        if (prompt is null)
        {
            return Problems.NotFound("Prompt version");
        }

        if (prompt.Status == PromptStatus.Rejected)
        {
            return Problems.Conflict("A rejected version cannot be activated.", prompt.RejectionReason, "prompt-version-rejected");
        }

        await versions.ActivateAsync(agent, prompt, cancellationToken);
        db.Audit(context, agent.TenantId, AuditActions.PromptActivated, "agent", agent.Id,
            $"{AgentAudit.Label(agent.Name)}: prompt version {prompt.Version} activated and pinned", Now(time));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(new PromptVersionResponse(prompt.Version, prompt.IsActive, prompt.Status, prompt.RejectionReason, prompt.TriggerReason,
            prompt.SystemPrompt, prompt.ContextSummary, prompt.CreatedAt, prompt.TokensUsed, prompt.ResponseQuality));
    }

    /// <summary>The tenant whose agent the caller may reach: its own, or for an operator the agent's tenant (another tenant's agent is 404).</summary>
    private static async Task<string?> TenantOfCallerAsync(HttpContext context, AgentDbContext db, string agentId, CancellationToken cancellationToken)
    {
        var caller = CallerIdentity.From(context)!;
        if (caller.TenantId is { } own)
        {
            return own;
        }

        if (!caller.IsOperator)
        {
            return null; // the route's filter admits only tenants and operators; nobody else reads across tenants
        }

        // An operator: the agent names its tenant (a read across tenants), and the rest of the request works for that tenant only.
        var tenantId = await db.AcrossTenantsAsync(() => db.Agents.Where(a => a.Id == agentId).Select(a => a.TenantId).FirstOrDefaultAsync(cancellationToken), cancellationToken);
        if (tenantId is not null)
        {
            await db.ForTenant(tenantId, cancellationToken);
        }

        return tenantId;
    }

    /// <summary>
    /// The tenant's other default agents step down, written at once (the unique index allows one default, and the caller's
    /// own pending change must not be saved ahead of it), and Routing hears of each.
    /// </summary>
    private static async Task StepDownDefaultAsync(AgentDbContext db, string tenantId, string exceptAgentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var previous = await db.Agents.AsNoTracking().Where(a => a.TenantId == tenantId && a.IsDefault && a.Id != exceptAgentId).ToListAsync(cancellationToken);
        foreach (var other in previous)
        {
            other.IsDefault = false;
            other.Revision++;
            other.UpdatedAt = now;
            await db.Agents.Where(a => a.Id == other.Id).ExecuteUpdateAsync(a => a
                .SetProperty(x => x.IsDefault, false)
                .SetProperty(x => x.Revision, other.Revision)
                .SetProperty(x => x.UpdatedAt, now), cancellationToken);
            db.Publish(other.ToChangedEvent(now), orderingKey: other.Id);
        }
    }

    private static void Apply(AiAgent agent, CreateAgentRequest request, WeeklyHours? activeHours, bool isActive, bool isDefault)
    {
        agent.Name = request.Name!.Trim();
        agent.Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim();
        agent.Role = string.IsNullOrWhiteSpace(request.Role) ? "assistant" : request.Role.Trim();
        agent.IsActive = isActive;
        agent.IsDefault = isDefault;
        agent.PersonalityPrompt = request.PersonalityPrompt!.Trim();
        agent.BusinessPrompt = request.BusinessPrompt!.Trim();
        agent.ObjectivesPrompt = request.ObjectivesPrompt!.Trim();
        agent.Model = string.IsNullOrWhiteSpace(request.Model) ? "gpt-3.5-turbo" : request.Model.Trim();
        agent.Temperature = request.Temperature ?? 0.7;
        agent.MaxTokensPerMessage = request.MaxTokensPerMessage ?? 500;
        agent.BusinessRules = request.BusinessRules ?? [];
        agent.TriggerKeywords = request.TriggerKeywords?.Select(k => k.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [];
        agent.ActiveHours = activeHours;
    }

    /// <summary>The composed prompt must leave room within the limit: a 400 naming the prompts when it does not.</summary>
    private static IResult? TooLong(AiAgent agent, string summary, PromptOptions options)
    {
        var length = PromptComposer.Compose(agent, summary).Length;
        return length <= options.MaxLength
            ? null
            : new ValidationErrors().Add("prompts", $"The prompts and business rules make a system prompt of {length} characters; the limit is {options.MaxLength}.").ToProblem();
    }

    /// <summary>The agent's configuration as the request body would carry it (PATCH applies a body on top of it).</summary>
    private static JsonObject Snapshot(AiAgent agent, JsonOptions json) => JsonSerializer.SerializeToNode(new
    {
        agent.Name, agent.Description, agent.Role, agent.IsActive, agent.IsDefault, agent.PersonalityPrompt, agent.BusinessPrompt,
        agent.ObjectivesPrompt, agent.Model, agent.Temperature, agent.MaxTokensPerMessage, agent.BusinessRules, agent.TriggerKeywords, agent.ActiveHours,
    }, json.SerializerOptions)!.AsObject();

    private static JsonObject Overlay(JsonObject target, JsonObject changes)
    {
        foreach (var (name, value) in changes)
        {
            // Property names are matched as the API's deserializer matches them (case-insensitively).
            var existing = target.Select(p => p.Key).FirstOrDefault(k => k.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (existing is not null)
            {
                target.Remove(existing);
            }

            target[name] = value?.DeepClone();
        }

        return target;
    }

    private static bool TryRead(JsonObject fields, JsonOptions json, out CreateAgentRequest request, out IResult problem)
    {
        try
        {
            request = fields.Deserialize<CreateAgentRequest>(json.SerializerOptions)!;
            problem = null!;
            return true;
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path[2..].Split('.', '[')[0] : "body";
            request = null!;
            problem = new ValidationErrors().Add(field, "This value has the wrong type.").ToProblem();
            return false;
        }
    }

    private static DateTimeOffset Now(TimeProvider time)
    {
        // Postgres keeps microseconds: answer the createdAt/updatedAt a later GET reads back, not a finer one.
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
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
