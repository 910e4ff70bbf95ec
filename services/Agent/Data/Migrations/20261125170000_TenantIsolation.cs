using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Agent.Data.Migrations
{
    /// <summary>
    /// Row-level security on every table with a tenant_id (forced, keyed on app.tenant_id), and the
    /// service's cross-tenant role allowed into every table; the model does not change.
    /// </summary>
    [DbContext(typeof(AgentDbContext))]
    [Migration("20261125170000_TenantIsolation")]
    public partial class TenantIsolation : Migration
    {
        private const string Schema = AgentDbContext.Schema;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.GrantAllTenantsRole(Schema);
            migrationBuilder.EnableTenantIsolation(Schema, "agent_conversations");
            migrationBuilder.EnableTenantIsolation(Schema, "agent_prompts");
            migrationBuilder.EnableTenantIsolation(Schema, "ai_agents");
            migrationBuilder.EnableTenantIsolation(Schema, "question_samples");
            migrationBuilder.EnableTenantIsolation(Schema, "tenant_plans");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(Schema, "agent_conversations");
            migrationBuilder.DisableTenantIsolation(Schema, "agent_prompts");
            migrationBuilder.DisableTenantIsolation(Schema, "ai_agents");
            migrationBuilder.DisableTenantIsolation(Schema, "question_samples");
            migrationBuilder.DisableTenantIsolation(Schema, "tenant_plans");
        }
    }
}
