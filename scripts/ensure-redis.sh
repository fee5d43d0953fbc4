#!/usr/bin/env bash
# Make sure a Redis is reachable for the tests; print its URL on stdout.
# Order: $REDIS_URL if set; else 127.0.0.1:6379; else Debian's redis-server, installed and started.
set -euo pipefail
log() { echo "ensure-redis: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ping_url() { "${PYTHON:-python3}" - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PY
}

if [ -n "${REDIS_URL:-}" ]; then
  ping_url "$REDIS_URL" || { log "REDIS_URL is set but not reachable"; exit 1; }
  echo "$REDIS_URL"; exit 0
fi
url="redis://127.0.0.1:6379/0"
if ping_url "$url"; then echo "$url"; exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing Debian's redis-server"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
fi
log "starting redis-server on 127.0.0.1:6379"
mkdir -p /tmp/booking-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/booking-redis --logfile /tmp/booking-redis/redis.log >&2
for _ in $(seq 1 30); do ping_url "$url" && break; sleep 0.2; done
ping_url "$url" || { log "redis did not start"; exit 1; }
echo "$url"
