namespace SafeNotify.Crm.TwilioStandIn;

/// <summary>
/// The stand-in as its own process (the AppHost runs it so). A named entry point, not top-level statements:
/// test projects reference it beside a service, whose <c>Program</c> must stay the only one in the global namespace.
/// </summary>
public static class StandInProgram
{
    public static void Main(string[] args) => TwilioStandInApp.Build(args).Run();
}
