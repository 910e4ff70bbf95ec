using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>
/// A SafeNotify user migrated into the CRM receives its default agent "Asistente" (seed "Plan de Migración":
/// 'Cada User recibe un agente "Asistente" por defecto'), with prompt version 1, announced to Routing. Its id
/// comes from the tenant's (<see cref="MigratedTenants.AssistantId"/>), so it is made once, and a tenant that
/// already has agents is left as it is.
/// </summary>
public sealed class MigratedTenantAssistantConsumer(AgentDbContext db, TimeProvider time) : TransactionalConsumer<TenantMigrated, AgentDbContext>(db)
{
    protected override async Task HandleAsync(TenantMigrated message, ConsumeContext<TenantMigrated> context, CancellationToken cancellationToken)
    {
        if (await Db.Agents.AnyAsync(a => a.TenantId == message.TenantId, cancellationToken))
        {
            return;
        }

        var now = time.GetUtcNow();
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
        var agent = new AiAgent
        {
            Id = MigratedTenants.AssistantId(message.TenantId),
            TenantId = message.TenantId,
            Name = MigratedTenants.AssistantName,
            Description = "Default agent created when the account moved to the CRM.",
            Role = "assistant",
            IsActive = true,
            IsDefault = true,
            PersonalityPrompt = "Eres el asistente virtual de " + message.Name + ": amable, claro y breve. " +
                "Respondes en el idioma del cliente (español o inglés).",
            BusinessPrompt = "Atiendes a los clientes de " + message.Name + " por WhatsApp.",
            ObjectivesPrompt = "Entender qué necesita el cliente, responder lo que sepas con certeza y, si no lo sabes, " +
                "tomar sus datos y ofrecer que una persona del equipo lo contacte.",
            Revision = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        Db.Agents.Add(agent);
        Db.Prompts.Add(new AgentPrompt
        {
            Id = Ids.New("prm"),
            AgentId = agent.Id,
            TenantId = agent.TenantId,
            Version = 1,
            SystemPrompt = PromptComposer.Compose(agent),
            TriggerReason = "initial",
            IsActive = true,
            Status = PromptStatus.Active,
            CreatedAt = now,
        });
        Db.Publish(agent.ToChangedEvent(now), orderingKey: agent.Id);
    }
}
