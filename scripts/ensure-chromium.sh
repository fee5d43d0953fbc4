#!/usr/bin/env bash
# Make sure Debian's Chromium and its driver are installed for the browser tests
# (tests/test_browser_*.py drive /usr/bin/chromium with Playwright's Python package; nothing
# downloads a browser of its own). Installs `chromium` and `chromium-driver` with apt-get when
# either is missing, after one `apt-get update`. Logs go to stderr.
set -euo pipefail
log() { echo "ensure-chromium: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
DRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

if [ -x "$CHROMIUM" ] && [ -x "$DRIVER" ]; then
  exit 0
fi
log "installing Debian's chromium and chromium-driver"
as_root apt-get update -qq >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
[ -x "$CHROMIUM" ] || { log "$CHROMIUM is still missing after the install"; exit 1; }
log "$("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
