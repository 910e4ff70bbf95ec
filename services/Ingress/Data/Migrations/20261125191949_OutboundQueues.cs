using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace SafeNotify.Crm.Ingress.Data.Migrations
{
    /// <summary>
    /// The (number, customer) queue of outbound messages: Lead's issue time, the command's publish time, Ingress's
    /// recording order and the moment a message became the one its queue sends. Existing rows get an identity
    /// value each and times before any new message's, so they keep their place ahead of what comes next.
    /// </summary>
    public partial class OutboundQueues : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "published_at",
                schema: "ingress",
                table: "outbound_messages",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "requested_at",
                schema: "ingress",
                table: "outbound_messages",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<long>(
                name: "sequence",
                schema: "ingress",
                table: "outbound_messages",
                type: "bigint",
                nullable: false)
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "started_at",
                schema: "ingress",
                table: "outbound_messages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbound_messages_from_to_requested_at_published_at_sequence",
                schema: "ingress",
                table: "outbound_messages",
                columns: new[] { "from", "to", "requested_at", "published_at", "sequence" },
                filter: "state = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbound_messages_from_to_requested_at_published_at_sequence",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "published_at",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "requested_at",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "sequence",
                schema: "ingress",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "started_at",
                schema: "ingress",
                table: "outbound_messages");
        }
    }
}
