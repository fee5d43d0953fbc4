#!/usr/bin/env bash
# Make sure Debian's nginx and HAProxy are installed for the load-balancer test
# (tests/test_load_balancer.py runs the configurations of docs/OPERATIONS.md in front of three
# gateways, each balancer as a process of its own with its own files: the system's services are
# neither needed nor touched). Installs what is missing with apt-get, after one `apt-get update`.
# Logs go to stderr.
set -euo pipefail
log() { echo "ensure-load-balancers: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

NGINX=${NGINX:-/usr/sbin/nginx}
HAPROXY=${HAPROXY:-/usr/sbin/haproxy}

missing=()
[ -x "$NGINX" ] || missing+=(nginx)
[ -x "$HAPROXY" ] || missing+=(haproxy)
if [ ${#missing[@]} = 0 ]; then
  exit 0
fi
log "installing Debian's ${missing[*]}"
as_root apt-get update -qq >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
for binary in "$NGINX" "$HAPROXY"; do
  [ -x "$binary" ] || { log "$binary is still missing after the install"; exit 1; }
done
log "$("$NGINX" -v 2>&1) and $("$HAPROXY" -v | head -n 1) installed"
