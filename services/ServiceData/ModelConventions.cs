using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace SafeNotify.Crm.ServiceData;

public static class ModelConventions
{
    /// <summary>
    /// Conventions every service's model shares. Times are stored as <c>timestamptz</c>, which Npgsql writes
    /// only from UTC values: any offset a client sent (2024-01-15T00:00:00-05:00) is normalised to the same
    /// instant in UTC instead of failing the save.
    /// </summary>
    public static ModelConfigurationBuilder AddCrmConventions(this ModelConfigurationBuilder configuration)
    {
        configuration.Properties<DateTimeOffset>().HaveConversion<UtcConverter>();
        configuration.Properties<DateTimeOffset?>().HaveConversion<UtcConverter>();
        return configuration;
    }

    private sealed class UtcConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
        value => value.ToUniversalTime(),
        value => value);
}
