namespace SafeNotify.Crm.Lead.Model;

/// <summary>What moved a conversation between the bot and a person; events and the audit trail name it.</summary>
public static class HandoffTriggers
{
    public const string CustomerRequest = "customer_request";
    public const string AgentNeedsHuman = "agent_needs_human";
    public const string AgentFailed = "agent_failed";
    public const string EmployeeHandoff = "employee_handoff";
    public const string EmployeeReply = "employee_reply";
    public const string EmployeePause = "employee_pause";
    public const string EmployeeRelease = "employee_release";
    public const string HumanIdle = "human_idle";
}

/// <summary>The texts the system itself sends a customer, in both languages.</summary>
public static class SystemTexts
{
    /// <summary>Sent when the agent could not write a reply: never silence, never an error text.</summary>
    public const string Fallback =
        "Gracias por tu mensaje. Una persona de nuestro equipo te responderá en breve. / Thanks for your message; a person from our team will reply shortly.";

    /// <summary>Sent once when the customer asks for a person.</summary>
    public const string HandoffNotice =
        "Con gusto, te comunico con una persona de nuestro equipo. / Sure, a person from our team will take it from here.";
}
