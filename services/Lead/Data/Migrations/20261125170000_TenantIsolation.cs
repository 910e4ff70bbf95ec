using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <summary>
    /// Row-level security on every table with a tenant_id (forced, keyed on app.tenant_id), and the
    /// service's cross-tenant role allowed into every table; the model does not change.
    /// </summary>
    [DbContext(typeof(LeadDbContext))]
    [Migration("20261125170000_TenantIsolation")]
    public partial class TenantIsolation : Migration
    {
        private const string Schema = LeadDbContext.Schema;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.GrantAllTenantsRole(Schema);
            migrationBuilder.EnableTenantIsolation(Schema, "crm_conversations");
            migrationBuilder.EnableTenantIsolation(Schema, "conversation_messages");
            migrationBuilder.EnableTenantIsolation(Schema, "customer_leads");
            migrationBuilder.EnableTenantIsolation(Schema, "lead_score_events");
            migrationBuilder.EnableTenantIsolation(Schema, "lead_settings");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(Schema, "crm_conversations");
            migrationBuilder.DisableTenantIsolation(Schema, "conversation_messages");
            migrationBuilder.DisableTenantIsolation(Schema, "customer_leads");
            migrationBuilder.DisableTenantIsolation(Schema, "lead_score_events");
            migrationBuilder.DisableTenantIsolation(Schema, "lead_settings");
        }
    }
}
