#!/bin/bash
# End-to-end test: the demo's two stories as assertions.  Runs
# deploy/lab/demo.sh once with the controller story (DEMO_CONTROLLER=1)
# and once with the static story (DEMO_CONTROLLER=0).  Every check of the
# demo is an assertion, and a story passes only if all of its checks pass.
# Prints one line per story and exits 0 if both passed, 1 if one failed
# and 77 (skip) without root.  The output of each story is kept in
# E2E_LOG_DIR (default: a new directory under /tmp, printed at the end).
#
# The controller story includes the clients' view (DEMO_CAPTURE=1,
# deploy/lab/clientview.sh): tshark captures on the clients, checked for
# make-before-break and for REDIRECTs that name gateways active in the
# plan of that moment.
#
# Environment: IKESHIFT_BIN and the DEMO_* switches as for the demo;
# E2E_STORIES="controller" or "static" runs one story only.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
DEMO=$TOP/deploy/lab/demo.sh

if [ "$(id -u)" != 0 ]; then
    echo "e2e: skip: needs root for network namespaces" >&2
    exit 77
fi

log_dir=${E2E_LOG_DIR:-$(mktemp -d /tmp/ikeshift-e2e.XXXXXX)}
mkdir -p "$log_dir" || exit 1
rc=0
for story in ${E2E_STORIES:-controller static}; do
    case $story in
    controller) flag=1 ;;
    static) flag=0 ;;
    *) echo "e2e: unknown story '$story'" >&2; exit 2 ;;
    esac
    t0=$(date +%s)
    DEMO_CAPTURE=${DEMO_CAPTURE:-1} DEMO_CONTROLLER=$flag "$DEMO" \
        >"$log_dir/$story.log" 2>&1
    status=$?
    result=ok
    [ "$status" = 0 ] || { result=FAIL; rc=1; }
    printf '%-5s %-11s %3ss  %s\n' "$result" "$story" \
        $(($(date +%s) - t0)) "$(grep '^demo: ' "$log_dir/$story.log" |
        tail -n 1)"
    if [ "$status" != 0 ]; then
        grep -E '^  FAIL ' "$log_dir/$story.log" | sed 's/^/      /'
    fi
done
echo "e2e: output in $log_dir"
exit "$rc"
