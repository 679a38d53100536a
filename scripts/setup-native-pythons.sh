#!/usr/bin/env bash
# Native CPython 3.14 and 3.15 for tests and benchmarks on a Debian 12 host.
#
# Debian 12 and pyenv here stop at 3.13; Debian unstable ships 3.14 and 3.15. This bootstraps a
# minimal unstable root into a cache folder (once: ~4 minutes, ~1 GB) and makes each interpreter
# runnable from the host without chroot: a copy of the binary, ROOT/usr/bin/python3.X-host, whose
# ELF interpreter and RPATH (patchelf) name the root's own loader and libraries. It sees every path
# of the host, sys.prefix comes out as ROOT/usr by itself, and — unlike running the binary through
# `ld-linux.so` — sys.executable is a real executable, so subprocesses and multiprocessing work.
# CACHE/bin/python3.X are symlinks to those copies.
#
#   scripts/setup-native-pythons.sh          # idempotent; prints the wrapper folder on stdout
#   PYXRAY_NATIVE_CACHE=/some/dir scripts/setup-native-pythons.sh
#
# Point pyxray at the wrappers with PYXRAY_PYTHON_PATHS="$(scripts/setup-native-pythons.sh)".
# Exit status 0 when every wrapper runs; 1 otherwise (the reason on stderr).
set -euo pipefail

CACHE="${PYXRAY_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pyxray/native}"
# One run at a time: a second one (two test suites starting together) waits, then finds the root made.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
ROOT="$CACHE/sid"
BIN="$CACHE/bin"
VERSIONS=(3.14 3.15)
# The -dev packages bring Python.h (the C accelerator) and pycore_magic_number.h (gen-magic); the
# test suites are part of the stdlib that the differential tests compare byte for byte.
PACKAGES="python3.14,python3.15,python3.14-dev,python3.15-dev,libpython3.14-testsuite,libpython3.15-testsuite"
# Bump when PACKAGES or the steps below change: a cache made by another recipe is rebuilt.
RECIPE=3

log() { echo "setup-native-pythons: $*" >&2; }
sudo_cmd() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ROOT/usr/bin/python3.X-host: the interpreter, patched to load the root's loader and libraries.
patch_binaries() {
  local root=$1
  for v in "${VERSIONS[@]}"; do
    cp -f "$root/usr/bin/python$v" "$root/usr/bin/python$v-host.tmp"
    patchelf --set-interpreter "$root/lib64/ld-linux-x86-64.so.2" --force-rpath \
      --set-rpath "$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu" "$root/usr/bin/python$v-host.tmp"
    mv -f "$root/usr/bin/python$v-host.tmp" "$root/usr/bin/python$v-host"
  done
}

write_wrappers() {
  mkdir -p "$BIN"
  for v in "${VERSIONS[@]}"; do
    ln -sfn "$ROOT/usr/bin/python$v-host" "$BIN/.python$v.tmp.$$"
    mv -fT "$BIN/.python$v.tmp.$$" "$BIN/python$v"
  done
}

check() {
  for v in "${VERSIONS[@]}"; do
    local got
    got=$("$BIN/python$v" -I -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 1
    [ "$got" = "$v" ] || return 1
  done
}

# A complete root of this recipe: re-patching is cheap and keeps a moved cache folder working.
if [ "$(cat "$ROOT/.pyxray-complete" 2>/dev/null)" = "$RECIPE" ] && { check || { patch_binaries "$ROOT" && write_wrappers && check; }; }; then
  echo "$BIN"
  exit 0
fi

if ! command -v debootstrap >/dev/null || ! command -v patchelf >/dev/null; then
  log "installing debootstrap and patchelf"
  sudo_cmd apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive sudo_cmd apt-get install -y -qq debootstrap patchelf >&2 || {
    log "cannot install debootstrap and patchelf"; exit 1; }
fi

# The mirror apt is configured with (deb822 or one-line sources), else deb.debian.org.
MIRROR=$(grep -hoE '^URIs: *http[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//')
[ -n "$MIRROR" ] || MIRROR=$(grep -hoE '^deb +http[^ ]+/debian/? ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

log "bootstrapping Debian unstable with $PACKAGES into $ROOT from $MIRROR (a few minutes, once)"
# A failed debootstrap can leave the partial root's /proc mounted; rm cannot remove a mount's files.
umount "$ROOT.partial/proc" 2>/dev/null || true
rm -rf "$ROOT.partial"
if ! sudo_cmd debootstrap --variant=minbase --include="$PACKAGES" sid "$ROOT.partial" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
  log "debootstrap failed; the last lines of $CACHE/debootstrap.log:"
  tail -5 "$CACHE/debootstrap.log" >&2
  exit 1
fi
patch_binaries "$ROOT.partial"
# .pyc files at every optimization level, as an installed CPython has them (Debian compiles level 0
# only), with the file names an installed root has (/usr/lib/…). Files that are invalid on purpose
# (test suite) fail; that is expected.
for v in "${VERSIONS[@]}"; do
  "$ROOT.partial/usr/bin/python$v-host" -m compileall -q -j 0 -o 0 -o 1 -o 2 -s "$ROOT.partial" -p / \
    "$ROOT.partial/usr/lib/python$v" >/dev/null 2>&1 || true
done
echo "$RECIPE" >"$ROOT.partial/.pyxray-complete"
# Swap the new root in with renames, so a reader never sees a half-removed one. The patched
# binaries name the root by path: patch them again for its final place.
[ -d "$ROOT" ] && mv "$ROOT" "$ROOT.old.$$"
mv "$ROOT.partial" "$ROOT"
rm -rf "$ROOT.old.$$"
patch_binaries "$ROOT"
write_wrappers
if ! check; then
  log "the interpreters in $ROOT do not run"; exit 1
fi
echo "$BIN"
