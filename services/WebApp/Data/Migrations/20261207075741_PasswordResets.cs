using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SafeNotify.Crm.WebApp.Data.Migrations
{
    /// <inheritdoc />
    public partial class PasswordResets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "password_reset_expires_at",
                schema: "webapp",
                table: "staff_accounts",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "password_reset_hash",
                schema: "webapp",
                table: "staff_accounts",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_staff_accounts_password_reset_hash",
                schema: "webapp",
                table: "staff_accounts",
                column: "password_reset_hash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_staff_accounts_password_reset_hash",
                schema: "webapp",
                table: "staff_accounts");

            migrationBuilder.DropColumn(
                name: "password_reset_expires_at",
                schema: "webapp",
                table: "staff_accounts");

            migrationBuilder.DropColumn(
                name: "password_reset_hash",
                schema: "webapp",
                table: "staff_accounts");
        }
    }
}
