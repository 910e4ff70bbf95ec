using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.Routing.Data.Migrations
{
    /// <inheritdoc />
    public partial class UserMigration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "legacy_plan_type",
                schema: "routing",
                table: "tenants",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "migration_run_id",
                schema: "routing",
                table: "tenants",
                type: "character varying(40)",
                maxLength: 40,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_tenants_migration_run_id",
                schema: "routing",
                table: "tenants",
                column: "migration_run_id",
                filter: "migration_run_id IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tenants_migration_run_id",
                schema: "routing",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "legacy_plan_type",
                schema: "routing",
                table: "tenants");

            migrationBuilder.DropColumn(
                name: "migration_run_id",
                schema: "routing",
                table: "tenants");
        }
    }
}
