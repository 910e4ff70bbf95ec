namespace SafeNotify.Crm.WebApp.Services;

/// <summary>
/// The <see cref="StaffDirectory"/> for interactive components. An open console lives much longer than a request and
/// its components await in parallel (the layout and the page, a click during a load), so each call gets a directory
/// and database context of its own instead of sharing the circuit's.
/// </summary>
public sealed class InteractiveDirectory(IServiceScopeFactory scopes)
{
    public async Task<T> CallAsync<T>(Func<StaffDirectory, Task<T>> call)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<StaffDirectory>());
    }
}
