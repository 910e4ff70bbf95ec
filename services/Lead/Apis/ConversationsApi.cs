using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Apis;

public sealed record ConversationSummary(
    string Id, string CustomerLeadId, string WhatsappNumberId, string SessionId, string CustomerId, string? CustomerPhone,
    ConversationStatus Status, string CurrentStep, ConversationPriority Priority, ConversationOwner Owner, string? CurrentAgentId,
    string? AgentReason, int MessageCount, int? FirstResponseTime, double? AvgResponseTime, DateTimeOffset LastMessageAt,
    bool RequiresAttention, string? AssignedToUser, IReadOnlyList<string> Tags, string? Category, string? Intent,
    int? SatisfactionRating, string? Outcome, decimal ConversionValue, DateTimeOffset OpenedAt, DateTimeOffset? ClosedAt)
{
    public static ConversationSummary From(Conversation c) => new(c.Id, c.CustomerLeadId, c.WhatsappNumberId, c.SessionId, c.CustomerId,
        c.CustomerPhone, c.Status, c.CurrentStep, c.Priority, c.Owner, c.CurrentAgentId, c.AgentReason, c.MessageCount, c.FirstResponseTime,
        c.AvgResponseTime, c.LastMessageAt, c.RequiresAttention, c.AssignedToUser, c.Tags, c.Category, c.Intent, c.SatisfactionRating,
        c.Outcome, c.ConversionValue, c.OpenedAt, c.ClosedAt);
}

public sealed record MessageResponse(
    string Id, MessageAuthor Author, string? AgentId, string? EmployeeId, string? Body, IReadOnlyList<WhatsAppMedia> Media,
    long? Sequence, string? DeliveryStatus, string? ErrorCode, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

public sealed record ConversationDetail(ConversationSummary Conversation, IReadOnlyList<MessageResponse> Messages);

/// <summary>A tenant's conversations (seed "CRMConversation") with their messages.</summary>
public static class ConversationsApi
{
    public static RouteGroupBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var conversations = app.MapGroup("/api/conversations").WithTags("Conversations").RequireTenant();
        conversations.MapGet("/", List).WithName("ListConversations").WithSummary("List the tenant's conversations, newest activity first");
        conversations.MapGet("/{id}", Get).WithName("GetConversation").WithSummary("A conversation with its messages in order");
        return conversations;
    }

    private static async Task<Results<Ok<PagedList<ConversationSummary>>, ValidationProblem>> List(
        HttpContext context, LeadDbContext db, string? status, bool? requiresAttention, string? numberId, string? agentId,
        int? page, int? pageSize, CancellationToken cancellationToken)
    {
        if (!ApiEnum.TryParse<ConversationStatus>(status, out var wantedStatus))
        {
            return new ValidationErrors().Add("status", ApiEnum.OneOf<ConversationStatus>()).ToProblem();
        }

        var tenantId = context.TenantId();
        var paging = PageQuery.From(page, pageSize);
        var query = db.Conversations.AsNoTracking().Where(c => c.TenantId == tenantId);
        if (wantedStatus is { } s) query = query.Where(c => c.Status == s);
        if (requiresAttention is { } attention) query = query.Where(c => c.RequiresAttention == attention);
        if (numberId is not null) query = query.Where(c => c.WhatsappNumberId == numberId);
        if (agentId is not null) query = query.Where(c => c.CurrentAgentId == agentId);

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(c => c.LastMessageAt).ThenBy(c => c.Id).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<ConversationSummary>(items.Select(ConversationSummary.From).ToList(), paging.Page, paging.PageSize, total));
    }

    private static async Task<Results<Ok<ConversationDetail>, ProblemHttpResult>> Get(string id, HttpContext context, LeadDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var conversation = await db.Conversations.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenantId, cancellationToken);
        if (conversation is null)
        {
            return Problems.NotFound("Conversation");
        }

        var messages = await db.Messages.AsNoTracking().Where(m => m.ConversationId == id && m.TenantId == tenantId)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Sequence)
            .Select(m => new MessageResponse(m.Id, m.Author, m.AgentId, m.EmployeeId, m.Body, m.Media, m.Sequence, m.DeliveryStatus, m.ErrorCode, m.CreatedAt, m.SentAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new ConversationDetail(ConversationSummary.From(conversation), messages));
    }
}
