using MassTransit;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Consumers;

/// <summary>Keeps the business's staff as the console announces them, so assignments name real members.</summary>
public sealed class StaffMemberChangedConsumer(LeadDbContext db) : TransactionalConsumer<StaffMemberChanged, LeadDbContext>(db)
{
    protected override async Task HandleAsync(StaffMemberChanged message, ConsumeContext<StaffMemberChanged> context, CancellationToken cancellationToken)
    {
        if (await Db.LockStaffMemberAsync(message.TenantId, message.StaffId, cancellationToken) is { } member)
        {
            member.Apply(message);
        }
        else
        {
            Db.StaffMembers.Add(StaffMember.From(message));
        }

        await Db.SaveChangesAsync(cancellationToken);
    }
}
