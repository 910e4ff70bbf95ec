using System;
using Microsoft.EntityFrameworkCore.Migrations;
using SafeNotify.Crm.ServiceData;

#nullable disable

namespace SafeNotify.Crm.Lead.Data.Migrations
{
    /// <inheritdoc />
    public partial class StaffMembers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "assigned_staff_id",
                schema: "lead",
                table: "customer_leads",
                type: "character varying(40)",
                maxLength: 40,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "staff_members",
                schema: "lead",
                columns: table => new
                {
                    tenant_id = table.Column<string>(type: "text", nullable: false),
                    staff_id = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    display_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    role = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    active = table.Column<bool>(type: "boolean", nullable: false),
                    changed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_staff_members", x => new { x.tenant_id, x.staff_id });
                });

            migrationBuilder.EnableTenantIsolation("lead", "staff_members");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "staff_members",
                schema: "lead");

            migrationBuilder.DropColumn(
                name: "assigned_staff_id",
                schema: "lead",
                table: "customer_leads");
        }
    }
}
