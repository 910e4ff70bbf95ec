#!/usr/bin/env bash
# Installs what a fresh machine lacks to run SafeNotify CRM without Docker: Debian's PostgreSQL server
# and RabbitMQ, and with --browser the Chromium the console's tests drive through Playwright (its own browser
# downloads are not needed). Does nothing when all are present. Used by ./run.sh, ./test.sh and CI.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
[ "${1:-}" != "--browser" ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v dotnet >/dev/null 2>&1 || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${missing[*]} (no apt-get on this machine)." >&2
  exit 1
fi

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "Installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# The packages' own system services are not needed: the AppHost and the tests start private instances.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
