using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class QueueSequence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbound_messages_from_to_requested_at_published_at_sequence",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.AddColumn<long>(
                name: "queue_sequence",
                schema: "ingress",
                table: "outbound_messages",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateIndex(
                name: "ix_outbound_messages_from_to_queue_sequence",
                schema: "ingress",
                table: "outbound_messages",
                columns: new[] { "from", "to", "queue_sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_outbound_messages_from_to_queue_sequence_requested_at_seque",
                schema: "ingress",
                table: "outbound_messages",
                columns: new[] { "from", "to", "queue_sequence", "requested_at", "sequence" },
                filter: "state = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbound_messages_from_to_queue_sequence",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropIndex(
                name: "ix_outbound_messages_from_to_queue_sequence_requested_at_seque",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "queue_sequence",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.CreateIndex(
                name: "ix_outbound_messages_from_to_requested_at_published_at_sequence",
                schema: "ingress",
                table: "outbound_messages",
                columns: new[] { "from", "to", "requested_at", "published_at", "sequence" },
                filter: "state = 'Pending'");
        }
    }
}
