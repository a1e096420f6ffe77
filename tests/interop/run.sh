#!/bin/bash
# Runs the interop cases in tests/interop/cases/ (or the case files given
# as arguments), each in its own bash process under `timeout`, and prints
# one line per case and the closing line
#   interop: N passed, N failed[, N skipped]
# Exits 1 if a case failed or none ran, 130 if interrupted.
#
# A case is a bash script that sources lib/*.sh.  It may set
# CASE_TIMEOUT=SECONDS on a line of its own (default 60).  Exit status 0
# is a pass, 77 a skip, anything else a failure; lab_fail and lab_skip
# write the reason to $LAB_RESULT_FILE.
#
# Environment: INTEROP_OUT=DIR keeps the logs under DIR (default: a new
# /tmp/ikeshift-interop.XXXXXX); INTEROP_KEEP=1 keeps logs of passing
# cases too.

set -u

# A shell without job control starts background jobs with SIGINT ignored,
# and bash cannot trap a signal that was ignored when it started.  So the
# runner re-executes itself once with SIGINT reset to the default.
if [ -z "${INTEROP_SIGINT_RESET:-}" ]; then
    export INTEROP_SIGINT_RESET=1
    exec env --default-signal=INT "$BASH" "$0" "$@"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEFAULT_TIMEOUT=60
# Time a case gets after SIGTERM to clean up before timeout sends SIGKILL.
KILL_GRACE=15

usage()
{
    echo "usage: $0 [CASE.sh ...]" >&2
    echo "  runs tests/interop/cases/*.sh (as root) unless cases are given" >&2
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
esac

if [ "$(id -u)" != 0 ]; then
    echo "interop: must run as root (the cases create network namespaces)" >&2
    echo "interop: 0 passed, 0 failed"
    exit 1
fi
if ! command -v timeout >/dev/null; then
    echo "interop: 'timeout' not found; install coreutils" >&2
    exit 1
fi

if [ $# -gt 0 ]; then
    cases=("$@")
else
    cases=("$HERE"/cases/*.sh)
    if [ ! -e "${cases[0]}" ]; then
        cases=()
    fi
fi

OUT=${INTEROP_OUT:-}
if [ -z "$OUT" ]; then
    OUT=$(mktemp -d /tmp/ikeshift-interop.XXXXXX) || exit 1
fi
mkdir -p "$OUT" || exit 1

passed=0
failed=0
skipped=0
current_pid=
interrupted=0

# Forwards SIGINT/SIGTERM to the running case: timeout passes SIGTERM on
# to the case and to its process group, and the case's trap cleans up.
on_signal()
{
    interrupted=1
    if [ -n "$current_pid" ]; then
        kill -s TERM "$current_pid" 2>/dev/null
    fi
}
trap on_signal INT TERM

# Prints the CASE_TIMEOUT=N value of case file $1, or the default.
case_timeout()
{
    local t

    t=$(sed -n 's/^CASE_TIMEOUT=\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$1" | head -n 1)
    printf '%s\n' "${t:-$DEFAULT_TIMEOUT}"
}

summary()
{
    if [ "$skipped" -gt 0 ]; then
        echo "interop: $passed passed, $failed failed, $skipped skipped"
    else
        echo "interop: $passed passed, $failed failed"
    fi
}

for file in "${cases[@]}"; do
    [ "$interrupted" = 0 ] || break
    name=$(basename "$file" .sh)
    if [ ! -f "$file" ]; then
        echo "FAIL $name: case file not found"
        failed=$((failed + 1))
        continue
    fi
    limit=$(case_timeout "$file")
    dir=$OUT/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    result=$dir/result
    : >"$result"
    start=$(date +%s.%N)

    LAB_DIR=$dir/lab LAB_RESULT_FILE=$result \
        timeout --kill-after="$KILL_GRACE" "$limit" \
        bash "$file" >"$dir/output.log" 2>&1 </dev/null &
    current_pid=$!
    # wait returns early when a trapped signal arrives; wait again for
    # the case to finish its cleanup.
    while :; do
        wait "$current_pid"
        rc=$?
        kill -0 "$current_pid" 2>/dev/null || break
    done
    current_pid=
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    reason=$(head -n 1 "$result")

    if [ "$interrupted" = 1 ]; then
        echo "FAIL $name: interrupted (${secs}s); logs: $dir"
        failed=$((failed + 1))
        break
    fi
    case $rc in
    0)
        echo "ok   $name (${secs}s)"
        passed=$((passed + 1))
        [ -n "${INTEROP_KEEP:-}" ] || rm -rf "$dir"
        ;;
    77)
        echo "skip $name: ${reason:-no reason given}"
        skipped=$((skipped + 1))
        [ -n "${INTEROP_KEEP:-}" ] || rm -rf "$dir"
        ;;
    124 | 137)
        echo "FAIL $name: timed out after ${limit}s; logs: $dir"
        failed=$((failed + 1))
        ;;
    *)
        if [ -z "$reason" ]; then
            reason="exit status $rc: $(grep -v '^[[:space:]]*$' \
                "$dir/output.log" | tail -n 1)"
        fi
        echo "FAIL $name: $reason (${secs}s); logs: $dir"
        failed=$((failed + 1))
        ;;
    esac
done

rmdir "$OUT" 2>/dev/null
if [ "$interrupted" = 1 ]; then
    echo "interop: interrupted" >&2
    summary
    exit 130
fi
if [ "${#cases[@]}" = 0 ]; then
    echo "interop: no cases found in $HERE/cases" >&2
    summary
    exit 1
fi
summary
[ "$failed" = 0 ]
