namespace SafeNotify.Crm.Lead.Model;

public enum ConversationStatus
{
    Active,
    WaitingHuman,
    Resolved,
    Closed,
}

public enum ConversationPriority
{
    Low,
    Normal,
    High,
    Urgent,
}

/// <summary>Who may answer: the bot, a human employee, or nobody for now.</summary>
public enum ConversationOwner
{
    Bot,
    Human,
    Paused,
}
