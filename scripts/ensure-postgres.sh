#!/usr/bin/env bash
# Make sure a PostgreSQL with pgTAP is reachable for the tests; print its URL on stdout.
#
# Order: $DATABASE_URL if set; else the server at 127.0.0.1:5432 (as user postgres); else a local
# Debian cluster, installed (postgresql, postgresql-<major>-pgtap) and started when missing.
# pgTAP is installed from Debian when the chosen local server lacks it. Logs go to stderr.
set -euo pipefail
log() { echo "ensure-postgres: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then as_root apt-get update -qq >&2; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

reachable() { psql "$1" -XAtqc 'select 1' >/dev/null 2>&1; }
major_of() { psql "$1" -XAtqc "select current_setting('server_version_num')::int / 10000"; }
has_pgtap() { [ "$(psql "$1" -XAtqc "select count(*) from pg_available_extensions where name = 'pgtap'")" = 1 ]; }

ensure_pgtap() {
  local url=$1
  has_pgtap "$url" && return 0
  local major; major=$(major_of "$url")
  log "pgTAP missing on PostgreSQL $major; installing postgresql-$major-pgtap"
  apt_install "postgresql-$major-pgtap"
  has_pgtap "$url" || { log "pgTAP still not available on $url (is the server on this machine?)"; exit 1; }
}

command -v psql >/dev/null 2>&1 || { log "installing the PostgreSQL client"; apt_install postgresql-client; }

if [ -n "${DATABASE_URL:-}" ]; then
  reachable "$DATABASE_URL" || { log "DATABASE_URL is set but not reachable"; exit 1; }
  ensure_pgtap "$DATABASE_URL"; echo "$DATABASE_URL"; exit 0
fi

tcp_url="postgresql://postgres@127.0.0.1:5432/postgres"
if reachable "$tcp_url"; then
  ensure_pgtap "$tcp_url"; echo "$tcp_url"; exit 0
fi

# Nothing reachable: use (installing if needed) the Debian cluster and talk to it over its socket as
# a superuser named after the current OS user, so no pg_hba.conf change is needed.
if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  log "no PostgreSQL here; installing Debian's postgresql"
  apt_install postgresql
fi
read -r major cluster _ < <(pg_lsclusters -h | head -n 1)
if ! pg_lsclusters -h | head -n 1 | grep -q online; then
  log "starting cluster $major/$cluster"
  as_root pg_ctlcluster --skip-systemctl-redirect "$major" "$cluster" start >&2
fi
me=$(id -un)
as_root su postgres -c "psql -XAtqc \"select 1 from pg_roles where rolname = '$me'\" | grep -q 1 || createuser --superuser '$me'" >&2
sock_url="postgresql:///postgres?host=/var/run/postgresql"
for _ in $(seq 1 30); do reachable "$sock_url" && break; sleep 1; done
reachable "$sock_url" || { log "cannot reach the local cluster at $sock_url"; exit 1; }
ensure_pgtap "$sock_url"
echo "$sock_url"
