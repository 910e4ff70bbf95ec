using System;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <summary>
    /// An inbound message keeps Twilio's WaId (filled from the raw payload for those stored before); an outbound message
    /// says whether its template or its text goes out (until now a command with a template always sent the template)
    /// and why the text did not; status callbacks that come before their send's SID is recorded are kept for it.
    /// </summary>
    public partial class WaIdTemplateFallbackEarlyCallbacks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "sends_template",
                schema: "ingress",
                table: "outbound_messages",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "template_reason",
                schema: "ingress",
                table: "outbound_messages",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "wa_id",
                schema: "ingress",
                table: "inbound_messages",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "early_status_callbacks",
                schema: "ingress",
                columns: table => new
                {
                    twilio_sid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    error_code = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_early_status_callbacks", x => new { x.twilio_sid, x.status });
                });

            migrationBuilder.CreateIndex(
                name: "ix_early_status_callbacks_received_at",
                schema: "ingress",
                table: "early_status_callbacks",
                column: "received_at");

            migrationBuilder.Sql("UPDATE ingress.inbound_messages SET wa_id = NULLIF(raw_payload ->> 'WaId', '') WHERE raw_payload ? 'WaId';");
            migrationBuilder.SqlAcrossTenants(IngressDbContext.Schema,
                "UPDATE ingress.outbound_messages SET sends_template = true WHERE content_sid IS NOT NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "early_status_callbacks",
                schema: "ingress");

            migrationBuilder.DropColumn(
                name: "sends_template",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "template_reason",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "wa_id",
                schema: "ingress",
                table: "inbound_messages");
        }
    }
}
