using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <summary>
    /// An outbound part holds the text sent (a reply's body), so it carries its message's tenant and is under row-level
    /// security like the message. Parts recorded before get their message's tenant.
    /// </summary>
    public partial class OutboundPartsTenant : Migration
    {
        private const string Schema = IngressDbContext.Schema;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "tenant_id",
                schema: Schema,
                table: "outbound_parts",
                type: "text",
                nullable: true);
            migrationBuilder.SqlAcrossTenants(Schema,
                """
                UPDATE ingress.outbound_parts p SET tenant_id = m.tenant_id
                FROM ingress.outbound_messages m WHERE m.outbound_id = p.outbound_id;
                """);
            migrationBuilder.Sql("ALTER TABLE ingress.outbound_parts ALTER COLUMN tenant_id SET NOT NULL;");
            migrationBuilder.EnableTenantIsolation(Schema, "outbound_parts");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DisableTenantIsolation(Schema, "outbound_parts");
            migrationBuilder.DropColumn(
                name: "tenant_id",
                schema: Schema,
                table: "outbound_parts");
        }
    }
}
