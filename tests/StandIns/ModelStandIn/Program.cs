namespace SafeNotify.Crm.ModelStandIn;

/// <summary>
/// The stand-in as its own process. A named entry point, not top-level statements: test projects reference it
/// beside a service, whose <c>Program</c> must stay the only one in the global namespace.
/// </summary>
public static class StandInProgram
{
    public static void Main(string[] args) => ModelStandInApp.Build(args).Run();
}
