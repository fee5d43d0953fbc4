#!/usr/bin/env bash
# Make sure Debian's nginx is installed for the load-balancer test (tests/test_load_balancer.py
# runs the nginx configuration of docs/OPERATIONS.md in front of two gateways, as a process of
# its own with its own configuration: the system's nginx service is neither needed nor touched).
# Installs `nginx` with apt-get when the binary is missing, after one `apt-get update`. Logs go to
# stderr.
set -euo pipefail
log() { echo "ensure-nginx: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

NGINX=${NGINX:-/usr/sbin/nginx}

if [ -x "$NGINX" ]; then
  exit 0
fi
log "installing Debian's nginx"
as_root apt-get update -qq >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
[ -x "$NGINX" ] || { log "$NGINX is still missing after the install"; exit 1; }
log "$("$NGINX" -v 2>&1) installed"
