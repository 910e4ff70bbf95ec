using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Routing.Data.Migrations
{
    /// <inheritdoc />
    public partial class AuditNamesStaff : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "actor_staff_id",
                schema: "routing",
                table: "audit_entries",
                type: "character varying(40)",
                maxLength: 40,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "actor_staff_name",
                schema: "routing",
                table: "audit_entries",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "actor_staff_id",
                schema: "routing",
                table: "audit_entries");

            migrationBuilder.DropColumn(
                name: "actor_staff_name",
                schema: "routing",
                table: "audit_entries");
        }
    }
}
