using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Apis;

public sealed record ConversationSummary(
    string Id, string CustomerLeadId, string WhatsappNumberId, string SessionId, string CustomerId, string? CustomerPhone,
    ConversationStatus Status, string CurrentStep, ConversationPriority Priority, ConversationOwner Owner, int OwnershipVersion,
    string? HandoffReason, bool HumanInvolved, DateTimeOffset? ReleaseDueAt, string? CurrentAgentId,
    string? AgentReason, int MessageCount, int? FirstResponseTime, double? AvgResponseTime, DateTimeOffset LastMessageAt,
    DateTimeOffset? LastCustomerMessageAt, bool RequiresAttention, string? AssignedToUser, IReadOnlyList<string> Tags, string? Category,
    string? Intent, int? SatisfactionRating, string? Outcome, decimal ConversionValue, string? InternalNotes, DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt, string? AssignedStaffId)
{
    public static ConversationSummary From(Conversation c) => new(c.Id, c.CustomerLeadId, c.WhatsappNumberId, c.SessionId, c.CustomerId,
        c.CustomerPhone, c.Status, c.CurrentStep, c.Priority, c.Owner, c.OwnershipVersion, c.HandoffReason, c.HumanInvolved,
        c.Owner == ConversationOwner.Human ? c.ReleaseDueAt : null, c.CurrentAgentId, c.AgentReason, c.MessageCount, c.FirstResponseTime,
        c.AvgResponseTime, c.LastMessageAt, c.LastCustomerMessageAt, c.RequiresAttention, c.AssignedToUser, c.Tags, c.Category, c.Intent,
        c.SatisfactionRating, c.Outcome, c.ConversionValue, c.InternalNotes, c.OpenedAt, c.ClosedAt, c.AssignedStaffId);
}

public sealed record MessageResponse(
    string Id, MessageAuthor Author, string? AgentId, string? EmployeeId, string? Body, string? ContentSid, IReadOnlyList<WhatsAppMedia> Media,
    long? Sequence, string? DeliveryStatus, string? ErrorCode, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, long? AnswersSequence = null)
{
    public static MessageResponse From(ConversationMessage m) => new(m.Id, m.Author, m.AgentId, m.EmployeeId, m.Body, m.ContentSid, m.Media,
        m.Sequence, m.DeliveryStatus, m.ErrorCode, m.CreatedAt, m.SentAt, m.AnswersSequence);
}

public sealed record ConversationDetail(ConversationSummary Conversation, IReadOnlyList<MessageResponse> Messages);

/// <summary>
/// An employee's reply. <see cref="AssignedToUser"/> names who writes when an API key calls; a staff member signed in to the
/// console writes as themselves and leaves it out.
/// </summary>
public sealed record EmployeeReplyRequest(string? Body, string? AssignedToUser, string? ContentSid, JsonElement? ContentVariables);

public sealed record EmployeeReplyAccepted(string MessageId, string Status);

/// <summary>
/// Take the conversation: for a member of the console's staff (<see cref="AssignedStaffId"/>), for an external name an API key
/// gives (<see cref="AssignedToUser"/>), or, when a staff member calls without naming anyone, for themselves. With
/// <see cref="Pause"/> only silence the bot.
/// </summary>
public sealed record HandoffRequest(string? AssignedToUser, string? Reason, bool? Pause, string? AssignedStaffId = null);

public sealed record UpdateConversationRequest(
    string? Status, string? Priority, List<string>? Tags, string? Category, string? Intent, string? CurrentStep, string? Outcome,
    int? SatisfactionRating, decimal? ConversionValue, string? InternalNotes);

/// <summary>A tenant's conversations (seed "CRMConversation") with their messages, and the human handoff.</summary>
public static partial class ConversationsApi
{
    public static RouteGroupBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        var conversations = app.MapGroup("/api/conversations").WithTags("Conversations").RequireTenant(TenantRole.Agent);
        conversations.MapGet("/", List).WithName("ListConversations").WithSummary("List the tenant's conversations, newest activity first");
        conversations.MapGet("/{id}", Get).WithName("GetConversation").WithSummary("A conversation with its messages in order");
        conversations.MapPatch("/{id}", Update).WithName("UpdateConversation")
            .WithSummary("Change status (RESOLVED, CLOSED), priority, tags, category, intent, outcome, satisfaction rating or conversion value");
        conversations.MapPost("/{id}/messages", Reply).WithName("SendEmployeeReply")
            .WithSummary("An employee's reply, sent through WhatsApp; takes the conversation for that employee. Outside the 24-hour window only a template");
        conversations.MapPost("/{id}/handoff", HandOff).WithName("HandOffConversation").WithSummary("An employee takes the conversation from the bot (or, with pause, only silences the bot)");
        conversations.MapPost("/{id}/release", Release).WithName("ReleaseConversation").WithSummary("Give the conversation back to the bot");
        return conversations;
    }

    private static async Task<Results<Ok<PagedList<ConversationSummary>>, ValidationProblem>> List(
        HttpContext context, LeadDbContext db, string? status, bool? requiresAttention, string? numberId, string? agentId, string? assignedTo, string? assignedStaffId,
        string? leadId, int? page, int? pageSize, CancellationToken cancellationToken)
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
        if (assignedTo is not null) query = query.Where(c => c.AssignedToUser == assignedTo);
        if (assignedStaffId is not null) query = query.Where(c => c.AssignedStaffId == assignedStaffId);
        if (leadId is not null) query = query.Where(c => c.CustomerLeadId == leadId);

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

        return TypedResults.Ok(new ConversationDetail(ConversationSummary.From(conversation), await MessagesAsync(db, tenantId, id, cancellationToken)));
    }

    /// <summary>A conversation's messages in order: customer messages by Ingress's sequence, ours by time.</summary>
    internal static async Task<List<MessageResponse>> MessagesAsync(LeadDbContext db, string tenantId, string conversationId, CancellationToken cancellationToken) =>
        (await db.Messages.AsNoTracking().Where(m => m.ConversationId == conversationId && m.TenantId == tenantId)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Sequence).ToListAsync(cancellationToken))
        .Select(MessageResponse.From).ToList();

    private static async Task<Results<Accepted<EmployeeReplyAccepted>, ValidationProblem, ProblemHttpResult>> Reply(
        string id, EmployeeReplyRequest request, HttpContext context, LeadDbContext db, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var variables = request.ContentVariables is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } v ? v : (JsonElement?)null;
        var (employeeErrors, employee) = await EmployeeOfAsync(context, db, request.AssignedToUser, null, "The employee who writes (1-100 characters).", cancellationToken);
        var errors = employeeErrors
            .Check(request.ContentSid is null || ContentSid().IsMatch(request.ContentSid), "contentSid", "An approved template's Content SID (HX followed by 32 hexadecimal characters).")
            .Check(request.ContentSid is not null || !string.IsNullOrWhiteSpace(request.Body), "body", "The text to send (or a contentSid).")
            .Check(request.Body is null || request.Body.Length <= 4096, "body", "At most 4096 characters (WhatsApp's limit).")
            .Check(variables is null || (request.ContentSid is not null && variables.Value.ValueKind == JsonValueKind.Object
                && variables.Value.EnumerateObject().All(p => p.Value.ValueKind == JsonValueKind.String)), "contentVariables",
                "With a contentSid: an object of template variables to strings, such as {\"1\":\"martes\"}.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var tenantId = context.TenantId();
        return await db.RunAsync<Results<Accepted<EmployeeReplyAccepted>, ValidationProblem, ProblemHttpResult>>(async ct =>
        {
            var conversation = await db.LockConversationAsync(id, tenantId, ct);
            if (conversation is null)
            {
                return Problems.NotFound("Conversation");
            }

            if (!conversation.IsOpen)
            {
                return Problems.Conflict("The conversation is closed.",
                    "Replies go into the customer's open conversation; a closed one stays as it was.", "conversation-closed");
            }

            var reply = await conversation.ReplyAsHumanAsync(employee, request.Body?.Trim() is { Length: > 0 } body ? body : null,
                request.ContentSid, variables?.GetRawText(), db, time.GetUtcNow(), ct);
            if (reply is { ClosedWindow: { } window })
            {
                return OutsideWindow(window);
            }

            if (reply.TookOver)
            {
                // Replying takes the conversation as a handoff does; the trail keeps who, never what they wrote.
                db.Audit(context, tenantId, AuditActions.ConversationHandedOff, "conversation", conversation.Id, $"taken over by {employee.Name} (replied)", time.GetUtcNow());
            }

            return TypedResults.Accepted($"/api/conversations/{id}", new EmployeeReplyAccepted(reply.Sent!.Id, reply.Sent.DeliveryStatus!));
        }, cancellationToken);
    }

    /// <summary>
    /// Who takes or answers: a member of the staff named by <paramref name="assignedStaffId"/> (when the route allows naming
    /// one); else a staff member signed in to the console is themselves (an external name is refused); else an API key names
    /// the employee in <c>assignedToUser</c>, kept as an external name.
    /// </summary>
    private static async Task<(ValidationErrors Errors, Employee Employee)> EmployeeOfAsync(HttpContext context, LeadDbContext db, string? assignedToUser,
        string? assignedStaffId, string required, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (assignedStaffId is not null)
        {
            var member = assignedStaffId.Length is > 0 and <= 40 ? await db.ActiveStaffMemberAsync(context.TenantId(), assignedStaffId, cancellationToken) : null;
            errors.Check(member is not null, "assignedStaffId", "No active member of the business's staff has this id.")
                .Check(assignedToUser is null, "assignedToUser", "Either a member of the staff (assignedStaffId) or an external name (assignedToUser), not both.");
            return (errors, member?.AsEmployee() ?? new Employee(""));
        }

        if (CallerIdentity.From(context) is { StaffId: { } staffId, StaffName: var staffName })
        {
            return (errors.Check(assignedToUser is null, "assignedToUser",
                "A staff member signed in to the console acts as themselves, or names a colleague with assignedStaffId; leave it out."), new Employee(staffName ?? staffId, staffId));
        }

        return (errors.Check(!string.IsNullOrWhiteSpace(assignedToUser) && assignedToUser.Length <= 100, "assignedToUser", required),
            new Employee(assignedToUser?.Trim() ?? ""));
    }

    private static ProblemHttpResult OutsideWindow(CustomerServiceWindow window) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
            title: "Outside the 24-hour customer service window.",
            detail: window.LastCustomerMessageAt is { } last
                ? $"The customer last wrote at {last:O}, more than 24 hours ago; WhatsApp allows only an approved template (contentSid) until they write again."
                : "The customer has not written yet; WhatsApp allows only an approved template (contentSid) until they do.",
            type: Problems.TypeBase + "outside-customer-service-window",
            extensions: new Dictionary<string, object?>
            {
                ["lastCustomerMessageAt"] = window.LastCustomerMessageAt,
                ["windowClosedAt"] = window.ClosesAt,
            });

    private static async Task<Results<Ok<ConversationSummary>, ValidationProblem, ProblemHttpResult>> HandOff(
        string id, HandoffRequest request, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (employeeErrors, employee) = await EmployeeOfAsync(context, db, request.AssignedToUser, request.AssignedStaffId,
            "The employee who takes the conversation (1-100 characters).", cancellationToken);
        var errors = employeeErrors
            .Check(request.Reason is null || request.Reason.Length <= 500, "reason", "At most 500 characters.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var tenantId = context.TenantId();
        return await db.RunAsync<Results<Ok<ConversationSummary>, ValidationProblem, ProblemHttpResult>>(async ct =>
        {
            var conversation = await db.LockConversationAsync(id, tenantId, ct);
            if (conversation is null)
            {
                return Problems.NotFound("Conversation");
            }

            if (!conversation.IsOpen)
            {
                return Problems.Conflict("The conversation is closed.", "Only an open conversation can be taken over.", "conversation-closed");
            }

            if (request.Pause == true)
            {
                conversation.Pause(employee, request.Reason?.Trim(), time.GetUtcNow());
            }
            else
            {
                await conversation.TakeOverAsync(employee, request.Reason?.Trim(), db, time.GetUtcNow(), ct);
            }

            // The reason is the employee's free text and may quote the customer: the trail keeps only who took it.
            db.Audit(context, tenantId, AuditActions.ConversationHandedOff, "conversation", conversation.Id,
                $"{(request.Pause == true ? "bot paused for" : "taken over by")} {employee.Name}", time.GetUtcNow());

            return TypedResults.Ok(ConversationSummary.From(conversation));
        }, cancellationToken);
    }

    private static async Task<Results<Ok<ConversationSummary>, ProblemHttpResult>> Release(
        string id, HttpContext context, LeadDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        return await db.RunAsync<Results<Ok<ConversationSummary>, ProblemHttpResult>>(async ct =>
        {
            var conversation = await db.LockConversationAsync(id, tenantId, ct);
            if (conversation is null)
            {
                return Problems.NotFound("Conversation");
            }

            if (!conversation.IsOpen)
            {
                return Problems.Conflict("The conversation is closed.", "Only an open conversation can be given back to the bot.", "conversation-closed");
            }

            if (conversation.Owner != ConversationOwner.Bot)
            {
                await conversation.ReleaseAsync(HandoffTriggers.EmployeeRelease, "released by an employee", db, time.GetUtcNow(), ct);
                db.Audit(context, tenantId, AuditActions.ConversationReleased, "conversation", conversation.Id, "given back to the bot", time.GetUtcNow());
            }

            return TypedResults.Ok(ConversationSummary.From(conversation));
        }, cancellationToken);
    }

    private static async Task<Results<Ok<ConversationSummary>, ValidationProblem, ProblemHttpResult>> Update(
        string id, UpdateConversationRequest request, HttpContext context, LeadDbContext db,
        TimeProvider time, CancellationToken cancellationToken)
    {
        ApiEnum.TryParse<ConversationStatus>(request.Status, out var status);
        var errors = new ValidationErrors()
            .Check(request.Status is null || status is ConversationStatus.Resolved or ConversationStatus.Closed, "status", "RESOLVED or CLOSED (a new message opens a new conversation).")
            .Check(ApiEnum.TryParse<ConversationPriority>(request.Priority, out var priority), "priority", ApiEnum.OneOf<ConversationPriority>())
            .Check(request.Tags is null || (request.Tags.Count <= 30 && request.Tags.All(t => !string.IsNullOrWhiteSpace(t) && t.Length <= 50)), "tags", "At most 30 tags of 1-50 characters.")
            .Check(request.Category is null || request.Category.Length <= 100, "category", "At most 100 characters.")
            .Check(request.Intent is null || request.Intent.Length <= 100, "intent", "At most 100 characters.")
            .Check(request.CurrentStep is null || request.CurrentStep.Length <= 50, "currentStep", "At most 50 characters.")
            .Check(request.Outcome is null || request.Outcome.Length <= 100, "outcome", "At most 100 characters.")
            .Check(request.SatisfactionRating is null or (>= 1 and <= 5), "satisfactionRating", "From 1 to 5.")
            .Check(request.ConversionValue is null or (>= 0 and <= CustomerLead.MaxAmount), "conversionValue", FormattableString.Invariant($"From 0 to {CustomerLead.MaxAmount:N0}."))
            .Check(request.InternalNotes is null || request.InternalNotes.Length <= 10_000, "internalNotes", "At most 10,000 characters.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var tenantId = context.TenantId();
        return await db.RunAsync<Results<Ok<ConversationSummary>, ValidationProblem, ProblemHttpResult>>(async ct =>
        {
            var conversation = await db.LockConversationAsync(id, tenantId, ct);
            if (conversation is null)
            {
                return Problems.NotFound("Conversation");
            }

            if (status is { } change && change != conversation.Status && !conversation.IsOpen)
            {
                // Checked before anything changes: a refused call writes nothing.
                return Problems.Conflict("The conversation is closed.", "A closed or resolved conversation does not reopen; the customer's next message opens a new one.", "conversation-closed");
            }

            var now = time.GetUtcNow();
            conversation.Edit(priority, request.Tags, request.Category, request.Intent, request.CurrentStep, request.InternalNotes);
            await conversation.RecordOutcomeAsync(request.Outcome, request.SatisfactionRating, request.ConversionValue, db, now, ct);
            if (status is { } wanted && wanted != conversation.Status)
            {
                conversation.Close(wanted, wanted == ConversationStatus.Resolved ? "resolved" : "closed by an employee", now);
            }

            return TypedResults.Ok(ConversationSummary.From(conversation));
        }, cancellationToken);
    }

    [GeneratedRegex("^HX[0-9a-fA-F]{32}$")]
    private static partial Regex ContentSid();
}
