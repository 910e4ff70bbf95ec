using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class OutboxIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_due",
                schema: "ingress",
                table: "outbox_messages",
                column: "sequence",
                filter: "dispatched_at IS NULL AND failed_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_failed",
                schema: "ingress",
                table: "outbox_messages",
                column: "failed_at",
                filter: "failed_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_due",
                schema: "ingress",
                table: "outbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_failed",
                schema: "ingress",
                table: "outbox_messages");
        }
    }
}
