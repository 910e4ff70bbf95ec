using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <summary>
    /// Row-level security on every table with a tenant_id (forced, keyed on app.tenant_id), and the
    /// service's cross-tenant role allowed into every table; the model does not change.
    /// </summary>
    [DbContext(typeof(IngressDbContext))]
    [Migration("20261125170000_TenantIsolation")]
    public partial class TenantIsolation : Migration
    {
        private const string Schema = IngressDbContext.Schema;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.GrantAllTenantsRole(Schema);
            migrationBuilder.EnableTenantIsolation(Schema, "outbound_messages");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(Schema, "outbound_messages");
        }
    }
}
