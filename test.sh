#!/usr/bin/env bash
# Runs every test of SafeNotify CRM: unit, service and end-to-end tests. They talk to real PostgreSQL and
# RabbitMQ servers that the tests start privately (throw-away folders, random ports); the end-to-end tests
# boot the whole AppHost. Installs what a fresh machine lacks first. Extra arguments go to `dotnet test`
# (for example: ./test.sh --filter "FullyQualifiedName~Routing").
set -euo pipefail
cd "$(dirname "$0")"

./AppHost/infra/prerequisites.sh --browser
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build SafeNotify.Crm.sln -c Debug -v quiet -nologo
# One test assembly at a time: each starts its own servers, and the end-to-end one the whole system;
# on a 2-core machine running them side by side only makes each slower.
dotnet test SafeNotify.Crm.sln -c Debug --no-build -m:1 "$@"
