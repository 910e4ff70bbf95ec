using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Services;

public static class TriggerReasons
{
    public const string Initial = "initial";
    public const string AgentUpdated = "agent_updated";
    public const string ConversationUpdate = "conversation_update";
}

/// <summary>
/// Makes and activates an agent's prompt versions. Every call runs inside the caller's transaction, with the
/// agent's row locked (or just created), so version numbers and the one active version never race.
/// </summary>
public sealed class PromptVersions(AgentDbContext db, IOptions<PromptOptions> options)
{
    public PromptOptions Options => options.Value;

    /// <summary>
    /// Adds the next version composed from the agent's configuration and <paramref name="contextSummary"/>, checked
    /// before it may go live. It goes live unless the check fails (kept <see cref="PromptStatus.Rejected"/> with the
    /// reason) or it is an evolved version of a pinned agent (kept <see cref="PromptStatus.Inactive"/>).
    /// </summary>
    public async Task<AgentPrompt> AddAsync(AiAgent agent, string triggerReason, string contextSummary, IEnumerable<string?> knownNames,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var systemPrompt = PromptComposer.Compose(agent, contextSummary);
        var problem = PromptCheck.Problem(agent, systemPrompt, contextSummary, Options.MaxLength, knownNames);
        var version = (await db.Prompts.Where(p => p.AgentId == agent.Id).MaxAsync(p => (int?)p.Version, cancellationToken) ?? 0) + 1;
        var goesLive = problem is null && !(agent.PromptPinned && triggerReason == TriggerReasons.ConversationUpdate);
        if (goesLive)
        {
            await DeactivateCurrentAsync(agent.Id, cancellationToken);
        }

        var prompt = new AgentPrompt
        {
            Id = Ids.New("prm"),
            AgentId = agent.Id,
            TenantId = agent.TenantId,
            Version = version,
            SystemPrompt = systemPrompt,
            ContextSummary = contextSummary,
            TriggerReason = triggerReason,
            IsActive = goesLive,
            Status = problem is not null ? PromptStatus.Rejected : goesLive ? PromptStatus.Active : PromptStatus.Inactive,
            RejectionReason = problem,
            CreatedAt = now,
        };
        db.Prompts.Add(prompt);
        return prompt;
    }

    /// <summary>The context summary the agent's prompt carries now (an edit keeps what was learned).</summary>
    public async Task<string> CurrentSummaryAsync(string agentId, CancellationToken cancellationToken) =>
        await db.Prompts.Where(p => p.AgentId == agentId && p.Status != PromptStatus.Rejected)
            .OrderByDescending(p => p.Version).Select(p => p.ContextSummary).FirstOrDefaultAsync(cancellationToken) ?? "";

    /// <summary>Makes <paramref name="prompt"/> the agent's active version by hand and pins it.</summary>
    public async Task ActivateAsync(AiAgent agent, AgentPrompt prompt, CancellationToken cancellationToken)
    {
        if (!prompt.IsActive)
        {
            await DeactivateCurrentAsync(agent.Id, cancellationToken);
            prompt.IsActive = true;
            prompt.Status = PromptStatus.Active;
        }

        agent.PromptPinned = true;
    }

    private Task<int> DeactivateCurrentAsync(string agentId, CancellationToken cancellationToken) =>
        // Before the new active row is written: the unique index allows one active version per agent.
        db.Prompts.Where(p => p.AgentId == agentId && p.IsActive)
            .ExecuteUpdateAsync(p => p.SetProperty(x => x.IsActive, false).SetProperty(x => x.Status, PromptStatus.Inactive), cancellationToken);
}
