using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class OutboundPartVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<uint>(
                name: "xmin",
                schema: "ingress",
                table: "outbound_parts",
                type: "xid",
                rowVersion: true,
                nullable: false,
                defaultValue: 0u);

            // Ingress's own timer moved to the model: timers still pending in the outbox keep working.
            migrationBuilder.Sql("""
                UPDATE ingress.outbox_messages SET message_type = 'SafeNotify.Crm.Ingress.Model.OutboundSendDue, Ingress'
                WHERE message_type = 'SafeNotify.Crm.Ingress.Services.OutboundSendDue, Ingress'
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "xmin",
                schema: "ingress",
                table: "outbound_parts");
        }
    }
}
