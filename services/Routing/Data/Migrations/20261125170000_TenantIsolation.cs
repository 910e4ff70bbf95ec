using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Routing.Data.Migrations
{
    /// <summary>
    /// Row-level security on every table with a tenant_id (forced, keyed on app.tenant_id), and the
    /// service's cross-tenant role allowed into every table; the model does not change.
    /// </summary>
    [DbContext(typeof(RoutingDbContext))]
    [Migration("20261125170000_TenantIsolation")]
    public partial class TenantIsolation : Migration
    {
        private const string Schema = RoutingDbContext.Schema;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.GrantAllTenantsRole(Schema);
            migrationBuilder.EnableTenantIsolation(Schema, "api_keys");
            migrationBuilder.EnableTenantIsolation(Schema, "audit_entries");
            migrationBuilder.EnableTenantIsolation(Schema, "known_agents");
            migrationBuilder.EnableTenantIsolation(Schema, "unrouted_messages");
            migrationBuilder.EnableTenantIsolation(Schema, "whatsapp_numbers");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(Schema, "api_keys");
            migrationBuilder.DisableTenantIsolation(Schema, "audit_entries");
            migrationBuilder.DisableTenantIsolation(Schema, "known_agents");
            migrationBuilder.DisableTenantIsolation(Schema, "unrouted_messages");
            migrationBuilder.DisableTenantIsolation(Schema, "whatsapp_numbers");
        }
    }
}
