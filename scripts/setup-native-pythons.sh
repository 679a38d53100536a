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
# The -dev packages bring Python.h (the C accelerator) and pycore_magic_number.h (gen-magic); the
# test suites are part of the stdlib that the differential tests compare byte for byte.
PACKAGES="python3.14,python3.15,python3.14-dev,python3.15-dev,libpython3.14-testsuite,libpython3.15-testsuite"
# Bump when PACKAGES or the steps below change: a cache made by another recipe is rebuilt.
RECIPE=2

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

if [ "$(cat "$ROOT/.pyxray-complete" 2>/dev/null)" = "$RECIPE" ] && write_wrappers && check; then
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
# .pyc files at every optimization level, as an installed CPython has them (Debian compiles level 0
# of the main packages only), with the file names an installed root has (/usr/lib/…). Files that are
# invalid on purpose (test suite) fail; that is expected.
for v in "${VERSIONS[@]}"; do
  "$ROOT.partial/lib64/ld-linux-x86-64.so.2" --library-path "$ROOT.partial/lib/x86_64-linux-gnu:$ROOT.partial/usr/lib/x86_64-linux-gnu" \
    "$ROOT.partial/usr/bin/python$v" -m compileall -q -j 0 -o 0 -o 1 -o 2 -s "$ROOT.partial" -p / "$ROOT.partial/usr/lib/python$v" >/dev/null 2>&1 || true
done
echo "$RECIPE" >"$ROOT.partial/.pyxray-complete"
# Swap the new root in with renames, so a reader never sees a half-removed one.
[ -d "$ROOT" ] && mv "$ROOT" "$ROOT.old.$$"
mv "$ROOT.partial" "$ROOT"
rm -rf "$ROOT.old.$$"
write_wrappers
if ! check; then
  log "the interpreters in $ROOT do not run"; exit 1
fi
echo "$BIN"
