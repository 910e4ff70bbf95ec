using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Ingress.Apis;

public sealed record OutboundMessageResponse(
    string OutboundId, string TenantId, string ConversationId, string From, string To, OutboundState State,
    string? ReportedStatus, string? ErrorCode, string? FailureReason, int Parts, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// For SafeNotify's operators: the messages that need a person, above all those whose send was interrupted and
/// that Twilio could not confirm (<c>DELIVERY_UNKNOWN</c>: never resent automatically). No message text: only what
/// an operator needs to act.
/// </summary>
public static class OutboundMessagesApi
{
    public static RouteGroupBuilder MapOutboundMessagesApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/outbound-messages").WithTags("Admin").RequireOperator().AcrossTenants<IngressDbContext>();
        admin.MapGet("/", List).WithName("ListOutboundMessages").WithSummary("Outbound messages by state, newest first");
        return admin;
    }

    private static async Task<Results<Ok<PagedList<OutboundMessageResponse>>, ValidationProblem>> List(
        IngressDbContext db, string? state, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        OutboundState? wanted = null;
        if (state is not null)
        {
            var match = Enum.GetValues<OutboundState>().Cast<OutboundState?>()
                .FirstOrDefault(s => string.Equals(s.ToString(), state.Replace("_", ""), StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                return new ValidationErrors().Add("state", "One of PENDING, SENT, DELIVERY_UNKNOWN, FAILED.").ToProblem();
            }

            wanted = match;
        }

        var paging = PageQuery.From(page, pageSize);
        var query = db.OutboundMessages.AsNoTracking();
        if (wanted is { } s)
        {
            query = query.Where(m => m.State == s);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(m => m.UpdatedAt).Skip(paging.Skip).Take(paging.PageSize)
            .Select(m => new OutboundMessageResponse(m.OutboundId, m.TenantId, m.ConversationId, m.From, m.To, m.State, m.ReportedStatus,
                m.ErrorCode, m.FailureReason, m.Parts.Count, m.CreatedAt, m.UpdatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<OutboundMessageResponse>(items, paging.Page, paging.PageSize, total));
    }
}
