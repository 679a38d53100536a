#!/usr/bin/env bash
# Native CPython 3.14 and 3.15 for tests and benchmarks on a Debian 12 host.
#
# Debian 12 and pyenv here stop at 3.13; Debian unstable ships 3.14 and 3.15. This bootstraps a
# minimal unstable root into a cache folder (once: ~4 minutes, ~730 MB) and writes one wrapper per
# interpreter that runs it through the root's own dynamic loader — no chroot, so the interpreter
# sees every path of the host and sys.prefix comes out as ROOT/usr by itself.
#
#   scripts/setup-native-pythons.sh          # idempotent; prints the wrapper folder on stdout
#   PYXRAY_NATIVE_CACHE=/some/dir scripts/setup-native-pythons.sh
#
# Point pyxray at the wrappers with PYXRAY_PYTHON_PATHS="$(scripts/setup-native-pythons.sh)".
# Exit status 0 when every wrapper runs; 1 otherwise (the reason on stderr).
set -euo pipefail

CACHE="${PYXRAY_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pyxray/native}"
ROOT="$CACHE/sid"
BIN="$CACHE/bin"
VERSIONS=(3.14 3.15)
PACKAGES="python3.14,python3.15,python3.14-dev,python3.15-dev"

log() { echo "setup-native-pythons: $*" >&2; }
sudo_cmd() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

write_wrappers() {
  mkdir -p "$BIN"
  for v in "${VERSIONS[@]}"; do
    local tmp="$BIN/.python$v.tmp.$$"
    cat >"$tmp" <<WRAP
#!/bin/sh
# CPython $v from the Debian unstable root $ROOT, run by that root's own loader (no chroot).
exec "$ROOT/lib64/ld-linux-x86-64.so.2" --library-path "$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu" "$ROOT/usr/bin/python$v" "\$@"
WRAP
    chmod +x "$tmp"
    mv -f "$tmp" "$BIN/python$v"
  done
}

check() {
  for v in "${VERSIONS[@]}"; do
    local got
    got=$("$BIN/python$v" -I -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 1
    [ "$got" = "$v" ] || return 1
  done
}

if [ -f "$ROOT/.pyxray-complete" ] && write_wrappers && check; then
  echo "$BIN"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  sudo_cmd apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive sudo_cmd apt-get install -y -qq debootstrap >&2 || {
    log "cannot install debootstrap"; exit 1; }
fi

# The mirror apt is configured with (deb822 or one-line sources), else deb.debian.org.
MIRROR=$(grep -hoE '^URIs: *http[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//')
[ -n "$MIRROR" ] || MIRROR=$(grep -hoE '^deb +http[^ ]+/debian/? ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

log "bootstrapping Debian unstable with $PACKAGES into $ROOT from $MIRROR (a few minutes, once)"
rm -rf "$ROOT.partial"
mkdir -p "$CACHE"
if ! sudo_cmd debootstrap --variant=minbase --include="$PACKAGES" sid "$ROOT.partial" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
  log "debootstrap failed; the last lines of $CACHE/debootstrap.log:"
  tail -5 "$CACHE/debootstrap.log" >&2
  exit 1
fi
rm -rf "$ROOT"
mv "$ROOT.partial" "$ROOT"
touch "$ROOT/.pyxray-complete"
write_wrappers
if ! check; then
  log "the interpreters in $ROOT do not run"; exit 1
fi
echo "$BIN"
