using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Routing.Data.Migrations
{
    /// <inheritdoc />
    public partial class UnroutedByTenant : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_unrouted_messages_tenant_id_received_at",
                schema: "routing",
                table: "unrouted_messages",
                columns: new[] { "tenant_id", "received_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_unrouted_messages_tenant_id_received_at",
                schema: "routing",
                table: "unrouted_messages");
        }
    }
}
