using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Metrics.Data.Migrations
{
    /// <summary>
    /// Row-level security on every table with a tenant_id (forced, keyed on app.tenant_id), and the
    /// service's cross-tenant role allowed into every table; the model does not change.
    /// </summary>
    [DbContext(typeof(MetricsDbContext))]
    [Migration("20261125170000_TenantIsolation")]
    public partial class TenantIsolation : Migration
    {
        private const string Schema = MetricsDbContext.Schema;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.GrantAllTenantsRole(Schema);
            migrationBuilder.EnableTenantIsolation(Schema, "conversation_facts");
            migrationBuilder.EnableTenantIsolation(Schema, "daily_rollups");
            migrationBuilder.EnableTenantIsolation(Schema, "lead_facts");
            migrationBuilder.EnableTenantIsolation(Schema, "metric_facts");
            migrationBuilder.EnableTenantIsolation(Schema, "tenant_agents");
            migrationBuilder.EnableTenantIsolation(Schema, "tenant_clocks");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(Schema, "conversation_facts");
            migrationBuilder.DisableTenantIsolation(Schema, "daily_rollups");
            migrationBuilder.DisableTenantIsolation(Schema, "lead_facts");
            migrationBuilder.DisableTenantIsolation(Schema, "metric_facts");
            migrationBuilder.DisableTenantIsolation(Schema, "tenant_agents");
            migrationBuilder.DisableTenantIsolation(Schema, "tenant_clocks");
        }
    }
}
