#!/bin/sh
# Runs systemd-analyze verify on the units in this directory.  Units name
# their binaries under /usr/local/bin, which verify requires to exist, so
# copies are checked with that directory replaced by BIN (default:
# build/bin of the repository; set BIN to a make BUILD=... tree's bin).
# Verify exits 0 on settings that it ignores, so any output fails too.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-$here/../../build/bin}
bin=$(cd "$bin" && pwd)
for b in ikeshift-agent ikeshift-controller; do
    if [ ! -x "$bin/$b" ]; then
        echo "verify: $bin/$b not found; run make all or set BIN" >&2
        exit 1
    fi
done
tmp=$(mktemp -d /tmp/ikeshift-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for u in "$here"/*.service; do
    sed "s#/usr/local/bin/#$bin/#g" "$u" > "$tmp/$(basename "$u")"
done
# A template is checked through one instance of it.
out=$(cd "$tmp" && systemd-analyze verify ./ikeshift-agent@gw1.service \
    ./ikeshift-controller.service 2>&1) || status=$?
if [ -n "$out" ] || [ "${status:-0}" != 0 ]; then
    printf '%s\n' "$out" >&2
    echo "verify: failed" >&2
    exit 1
fi
echo "verify: ikeshift-agent@.service ikeshift-controller.service ok"
