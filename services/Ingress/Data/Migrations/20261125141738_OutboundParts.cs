using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <inheritdoc />
    public partial class OutboundParts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Sends recorded by the previous model that were still in flight have no parts to resume: an operator decides.
            migrationBuilder.Sql("UPDATE ingress.outbound_messages SET state = 'DeliveryUnknown' WHERE state IN ('Sending', 'RetryPending')");

            migrationBuilder.DropIndex(
                name: "ix_outbound_messages_twilio_sid",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "attempts",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "sent_at",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "twilio_sid",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.RenameColumn(
                name: "twilio_status",
                schema: "ingress",
                table: "outbound_messages",
                newName: "reported_status");

            migrationBuilder.CreateTable(
                name: "outbound_parts",
                schema: "ingress",
                columns: table => new
                {
                    outbound_id = table.Column<string>(type: "text", nullable: false),
                    index = table.Column<int>(type: "integer", nullable: false),
                    body = table.Column<string>(type: "text", nullable: true),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    twilio_sid = table.Column<string>(type: "text", nullable: true),
                    twilio_status = table.Column<string>(type: "text", nullable: true),
                    error_code = table.Column<string>(type: "text", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    paced_slot_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempt_started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    sent_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_outbound_parts", x => new { x.outbound_id, x.index });
                    table.ForeignKey(
                        name: "fk_outbound_parts_outbound_messages_outbound_id",
                        column: x => x.outbound_id,
                        principalSchema: "ingress",
                        principalTable: "outbound_messages",
                        principalColumn: "outbound_id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "sender_pacing",
                schema: "ingress",
                columns: table => new
                {
                    number = table.Column<string>(type: "text", nullable: false),
                    next_slot_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sender_pacing", x => x.number);
                });

            migrationBuilder.CreateIndex(
                name: "ix_outbound_messages_state_updated_at",
                schema: "ingress",
                table: "outbound_messages",
                columns: new[] { "state", "updated_at" });

            migrationBuilder.CreateIndex(
                name: "ix_outbound_parts_twilio_sid",
                schema: "ingress",
                table: "outbound_parts",
                column: "twilio_sid",
                unique: true,
                filter: "twilio_sid IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "outbound_parts",
                schema: "ingress");

            migrationBuilder.DropTable(
                name: "sender_pacing",
                schema: "ingress");

            migrationBuilder.DropIndex(
                name: "ix_outbound_messages_state_updated_at",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.RenameColumn(
                name: "reported_status",
                schema: "ingress",
                table: "outbound_messages",
                newName: "twilio_status");

            migrationBuilder.AddColumn<int>(
                name: "attempts",
                schema: "ingress",
                table: "outbound_messages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "sent_at",
                schema: "ingress",
                table: "outbound_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "twilio_sid",
                schema: "ingress",
                table: "outbound_messages",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbound_messages_twilio_sid",
                schema: "ingress",
                table: "outbound_messages",
                column: "twilio_sid",
                unique: true,
                filter: "twilio_sid IS NOT NULL");
        }
    }
}
