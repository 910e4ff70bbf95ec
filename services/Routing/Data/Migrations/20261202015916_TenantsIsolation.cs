using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Routing.Data.Migrations
{
    /// <summary>
    /// The tenants themselves (plan, name, CRM switch, usage) are a tenant's data too: row-level security on
    /// routing.tenants, keyed on the row's own id. The gateway's key lookup, operators' routes, number → tenant lookups
    /// and the user migration already work across tenants; the model does not change.
    /// </summary>
    public partial class TenantsIsolation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnableTenantIsolation(RoutingDbContext.Schema, "tenants", column: "id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(RoutingDbContext.Schema, "tenants");
        }
    }
}
