using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SafeNotify.Crm.ServiceData;

public static class DbUpdateExceptionExtensions
{
    /// <summary>A unique index refused the row: the business key exists already (or a concurrent request won).</summary>
    public static bool IsUniqueViolation(this DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
