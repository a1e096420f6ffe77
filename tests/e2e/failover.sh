#!/bin/bash
# End-to-end failure tests of the cluster with the real daemons: three
# ikeshift-agent processes, two ikeshift-controller processes and one
# redis-server, all on loopback.  The agents listen on 127.0.0.11-13 with
# high UDP ports, the controllers' APIs and Redis on free TCP ports of
# 127.0.0.1.  The script starts every process itself, records its PID and
# stops it by that PID on exit, INT and TERM.
#
# Checks, one output line each:
#   1  cluster start: one leader, the plan lists gw1-gw3, every agent
#      applied it
#   2  SIGKILL of an agent: the gateway leaves the plan that the other
#      agents applied within 3.5 s (worst of 20 trials)
#   3  redis-server SIGKILLed for 30 s, restarted from its append-only
#      file: the agents keep serving, and a new plan is applied by every
#      agent within 2 s of Redis' return
#   4  CLIENT KILL TYPE pubsub: the agents apply the next plan within their
#      plan re-read interval
#   5  SIGKILL of the leading controller: the standby leads within 8 s and
#      writes a plan with a higher term
#   6  SIGSTOP of the leader past its lease, then SIGCONT: no plan of its
#      old term reaches Redis or an agent
#   6b a leader whose lease was taken in Redis: its writes are fenced
#   7  garbage in a report key and in the plan key: the daemons log the
#      rejections and keep running, and the last good plan stays applied
#   8  every daemon still runs at the end
# The last line is "e2e-failover: N passed, N failed"; the exit status is
# 0 only if every check passed.  The whole run is bounded by
# FAILOVER_TIME_LIMIT seconds (default 300).
#
# Environment: IKESHIFT_BIN (default build/bin) holds ikeshift-agent and
# ikeshift-controller, FLOOD_INIT (default build/bench/flood_init) is the
# IKE_SA_INIT load tool, E2E_LOG_DIR keeps the logs (default: a new
# directory under /tmp, printed at the end).

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BIN=${IKESHIFT_BIN:-$TOP/build/bin}
FLOOD=${FLOOD_INIT:-$TOP/build/bench/flood_init}
TIME_LIMIT=${FAILOVER_TIME_LIMIT:-300}

# A Redis outage of 30 s, far longer than every lease and report TTL of
# this cluster.
REDIS_OUTAGE_S=${FAILOVER_REDIS_OUTAGE_S:-30}
REMOVAL_LIMIT_MS=3500
REMOVAL_TRIALS=${FAILOVER_REMOVAL_TRIALS:-20}
RESUME_LIMIT_MS=2000
TAKEOVER_LIMIT_MS=8000
LEASE_TTL_MS=5000
PLAN_REREAD_MS=2000

GATEWAYS=(gw1 gw2 gw3)
CONTROLLERS=(ctl-a ctl-b)
declare -A GW_ADDR=([gw1]=127.0.0.11 [gw2]=127.0.0.12 [gw3]=127.0.0.13)
declare -A PIDS=()          # process name to PID, while it runs
declare -A API_PORT=()
declare -A USED_PORT=()
PASSED=0
FAILED=0

for tool in redis-server redis-cli jq curl ss ip; do
    if ! command -v "$tool" >/dev/null; then
        echo "e2e-failover: $tool not found; install it first" >&2
        exit 2
    fi
done
for prog in "$BIN/ikeshift-agent" "$BIN/ikeshift-controller" "$FLOOD"; do
    if [ ! -x "$prog" ]; then
        echo "e2e-failover: $prog not found; run make all and make" \
            "build/bench/flood_init, or set IKESHIFT_BIN and FLOOD_INIT" >&2
        exit 2
    fi
done

WORK=${E2E_LOG_DIR:-$(mktemp -d /tmp/ikeshift-failover.XXXXXX)}
mkdir -p "$WORK" || exit 2

# ---------------------------------------------------------------------------
# Processes

# Prints a TCP or UDP (PROTO t or u) port from 20000-59999 that nothing
# listens on and that this run has not handed out yet.
free_port()
{
    local proto=$1 port i

    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 40000))
        [ -n "${USED_PORT[$port]:-}" ] && continue
        [ -n "$(ss -Hna"$proto" "sport = :$port" 2>/dev/null)" ] && continue
        USED_PORT[$port]=1
        echo "$port"
        return 0
    done
    return 1
}

# Starts the command after NAME in the background with its output in
# WORK/NAME.log (appended) and records its PID under NAME.
spawn()
{
    local name=$1

    shift
    "$@" >>"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
}

# Sends signal SIG to the process NAME if it is still recorded.
signal_proc()
{
    local name=$1 sig=$2

    [ -n "${PIDS[$name]:-}" ] && kill "-$sig" "${PIDS[$name]}" 2>/dev/null
}

# Succeeds if the process NAME was started and has not exited.
alive()
{
    local pid=${PIDS[$1]:-}

    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# Sends SIGKILL to the process NAME, reaps it and removes its PID.
kill_proc()
{
    local name=$1 pid=${PIDS[$1]:-}

    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "PIDS[$name]"
}

# Stops the process NAME with SIGTERM, then SIGKILL after 3 s.
stop_proc()
{
    local name=$1 pid=${PIDS[$1]:-} i

    [ -n "$pid" ] || return 0
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
        sleep 0.1
    done
    kill_proc "$name"
}

cleanup()
{
    local name

    trap - EXIT INT TERM
    for name in "${!PIDS[@]}"; do
        [ "$name" = watchdog ] || stop_proc "$name"
    done
    stop_proc watchdog
}

# The check that was running counts as failed.
on_signal()
{
    cleanup
    FAILED=$((FAILED + 1))
    echo "e2e-failover: stopped by a signal; logs in $WORK"
    echo "e2e-failover: $PASSED passed, $FAILED failed"
    exit 1
}

trap cleanup EXIT
trap on_signal INT TERM

# The watchdog sends SIGTERM to this script once the time limit passed.
watchdog()
{
    local s

    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$TIME_LIMIT" &
    s=$!
    wait "$s"
    echo "e2e-failover: time limit of $TIME_LIMIT s reached, stopping"
    kill -TERM "$1"
}
watchdog $$ &
PIDS[watchdog]=$!

# ---------------------------------------------------------------------------
# Redis, agents and controllers

REDIS_PORT=$(free_port t) || exit 2
IKE_PORT=$(free_port u) || exit 2
NATT_PORT=$(free_port u) || exit 2
mkdir -p "$WORK/redis" || exit 2

rcli()
{
    timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

redis_start()
{
    local i

    spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --dir "$WORK/redis" --appendonly yes --appendfsync everysec \
        --save '' --daemonize no
    for ((i = 0; i < 50; i++)); do
        [ "$(rcli PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    echo "redis-server did not answer PING; log $WORK/redis.log" >&2
    return 1
}

agent_config()
{
    local gw=$1

    mkdir -p "$WORK/$gw"
    jq -n --arg addr "${GW_ADDR[$gw]}" --argjson ike "$IKE_PORT" \
        --argjson natt "$NATT_PORT" --arg gw "$gw" \
        --arg redis "127.0.0.1:$REDIS_PORT" \
        --arg sock "$WORK/$gw/control.sock" \
        --arg reread "${PLAN_REREAD_MS}ms" '{
        listen: { unicast: [$addr], ike_port: $ike, natt_port: $natt,
                  receive_buffer: 65536 },
        identity: { type: "fqdn", value: "vpn.example.net" },
        ike_proposals: ["aes128gcm16-prfsha256-x25519",
                        "aes256gcm16-prfsha256-x25519"],
        clients: [ { id: "*", psk: "failover-test-psk-0123456789" } ],
        cluster: { redis: $redis, gateway_id: $gw,
                   report_interval: "1s", plan_reread_interval: $reread,
                   move_poll_interval: "250ms" },
        control_socket: $sock,
        log_level: "info" }' >"$WORK/$gw/agent.json"
}

# Starts the agent of gateway GW and waits until it logged its start.
agent_start()
{
    local gw=$1 i

    spawn "$gw" "$BIN/ikeshift-agent" -c "$WORK/$gw/agent.json"
    for ((i = 0; i < 100; i++)); do
        alive "$gw" || break
        grep -q 'started;' "$WORK/$gw.log" 2>/dev/null &&
            [ -S "$WORK/$gw/control.sock" ] && return 0
        sleep 0.05
    done
    echo "agent $gw did not start; log $WORK/$gw.log:" >&2
    tail -n 5 "$WORK/$gw.log" >&2
    return 1
}

# Prints the lines of the log of process NAME after its first START lines.
log_since()
{
    tail -n +"$(($2 + 1))" "$WORK/$1.log"
}

log_lines()
{
    wc -l <"$WORK/$1.log"
}

controller_config()
{
    local id=$1

    API_PORT[$id]=$(free_port t) || return 1
    mkdir -p "$WORK/$id"
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' \
        >"$WORK/$id/rw.token")
    jq -n --arg id "$id" --arg redis "127.0.0.1:$REDIS_PORT" \
        --arg api "127.0.0.1:${API_PORT[$id]}" \
        --arg rw "$WORK/$id/rw.token" --arg ttl "${LEASE_TTL_MS}ms" '{
        controller_id: $id, log_level: "info", loop_interval: "250ms",
        redis: { address: $redis, connect_timeout: "1s",
                 command_timeout: "1s" },
        lease: { ttl: $ttl, renew_interval: "1s" },
        api: { listen: $api, read_write_token_file: $rw },
        planner: { plan_ttl: "30s" },
        registry: { expire_after: "2500ms" } }' >"$WORK/$id/controller.json"
}

api()
{
    curl -sS --max-time 2 "http://127.0.0.1:${API_PORT[$1]}$2" 2>/dev/null
}

api_post()
{
    curl -sS --max-time 2 -X POST -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $(cat "$WORK/$1/rw.token")" \
        -d "${3:-{\}}" "http://127.0.0.1:${API_PORT[$1]}$2" 2>/dev/null
}

# Prints true if GET /v1/cluster on controller ID returns leader true.
leading()
{
    api "$1" /v1/cluster | jq -r '.leader // false' 2>/dev/null
}

controller_start()
{
    local id=$1 i

    spawn "$id" "$BIN/ikeshift-controller" -c "$WORK/$id/controller.json"
    for ((i = 0; i < 50; i++)); do
        alive "$id" || break
        api "$id" /healthz >/dev/null && return 0
        sleep 0.1
    done
    echo "controller $id did not answer /healthz; log $WORK/$id.log:" >&2
    tail -n 5 "$WORK/$id.log" >&2
    return 1
}

# Prints the leading controller's id, or nothing.
leader_id()
{
    local id

    for id in "${CONTROLLERS[@]}"; do
        alive "$id" && [ "$(leading "$id")" = true ] && echo "$id"
    done
}

# ---------------------------------------------------------------------------
# Cluster state as seen in Redis

# Prints one line read with a single MGET, so that the plan and the
# reports are one consistent snapshot:
#   EPOCH TERM LEADER LISTED TARGETS GW=APPLIED...
# LISTED and TARGETS are comma lists of the gateway ids in the plan and in
# any target list ("-" when empty), APPLIED is plan_epoch of the gateway's
# report ("-" without a valid report).  EPOCH is "-" without a valid plan.
snapshot()
{
    local keys=(ikeshift:plan) gw

    for gw in "${GATEWAYS[@]}"; do
        keys+=("ikeshift:report:$gw")
    done
    rcli --raw MGET "${keys[@]}" 2>/dev/null | jq -R -s -r \
        --args '
        split("\n") as $v |
        ($v[0] | try fromjson catch null) as $p |
        (if ($p | type) == "object" and ($p.epoch | type) == "number" then
            [$p.epoch, $p.leader_term, $p.leader_id,
             ([$p.gateways[]?.gateway_id] | sort | join(",")),
             ([$p.gateways[]?.targets[]?.gateway_id] | unique | join(","))]
         else ["-", "-", "-", "", ""] end
         | map(tostring | if . == "" then "-" else . end)) +
        [range(0; $ARGS.positional | length) as $i |
            $ARGS.positional[$i] + "=" +
            (($v[$i + 1] | try fromjson catch null) as $r |
             if ($r | type) == "object" then ($r.plan_epoch | tostring)
             else "-" end)]
        | join(" ")' "${GATEWAYS[@]}"
}

# Succeeds if SNAPSHOT (a snapshot line) has a plan whose LISTED set is
# exactly the gateways in WANT (comma list) and every gateway in WANT
# applied an epoch at least that of the plan.
snap_converged()
{
    local snap=$1 want=$2 listed

    read -r _ _ _ listed _ _ <<<"$snap"
    [ "$listed" = "$want" ] && snap_applied "$snap" "$want"
}

# Succeeds if every gateway's report in SNAPSHOT shows an applied epoch
# above EPOCH.
all_applied_above()
{
    local snap=$1 epoch=$2 gw applied

    for gw in "${GATEWAYS[@]}"; do
        applied=$(tr ' ' '\n' <<<"$snap" | sed -n "s/^$gw=//p")
        [[ $applied =~ ^[0-9]+$ ]] && [ "$applied" -gt "$epoch" ] ||
            return 1
    done
}

# Succeeds if SNAPSHOT has a valid plan and each gateway in GWS (comma
# list) applied an epoch at least that of the plan.
snap_applied()
{
    local snap=$1 gws=$2 epoch gw applied

    read -r epoch _ <<<"$snap"
    [ "$epoch" != - ] || return 1
    for gw in ${gws//,/ }; do
        applied=$(tr ' ' '\n' <<<"$snap" | sed -n "s/^$gw=//p")
        [[ $applied =~ ^[0-9]+$ ]] && [ "$applied" -ge "$epoch" ] ||
            return 1
    done
}

# Waits up to TIMEOUT_MS until snap_converged WANT holds; prints the last
# snapshot either way.
wait_converged()
{
    local want=$1 timeout_ms=$2 t_end snap

    t_end=$(($(now_ms) + timeout_ms))
    while :; do
        snap=$(snapshot)
        if snap_converged "$snap" "$want"; then
            echo "$snap"
            return 0
        fi
        [ "$(now_ms)" -ge "$t_end" ] && break
        sleep 0.05
    done
    echo "$snap"
    return 1
}

now_ms()
{
    date +%s%3N
}

# Sleeps until the wall clock reaches T_MS (Unix milliseconds).
sleep_until()
{
    local n=$(($1 - $(now_ms)))

    [ "$n" -gt 0 ] && sleep "$((n / 1000)).$(printf '%03d' $((n % 1000)))"
    return 0
}

# Prints the comma list of gateways other than GW.
others()
{
    local gw out=()

    for gw in "${GATEWAYS[@]}"; do
        [ "$gw" = "$1" ] || out+=("$gw")
    done
    local IFS=,
    echo "${out[*]}"
}

all_gws()
{
    local IFS=,
    echo "${GATEWAYS[*]}"
}

# Succeeds if every recorded daemon is still running, and prints the
# name of each one that is not.
all_alive()
{
    local name rc=0

    for name in redis "${GATEWAYS[@]}" "${CONTROLLERS[@]}"; do
        if ! alive "$name"; then
            echo "    $name is not running (log $WORK/$name.log)"
            rc=1
        fi
    done
    return "$rc"
}

# Records one check's result: NUMBER, PASS (0 or not), and the line text.
result()
{
    local n=$1 status=$2

    shift 2
    if [ "$status" = 0 ]; then
        PASSED=$((PASSED + 1))
        echo "ok   $n $*"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL $n $*"
    fi
}

# ---------------------------------------------------------------------------
# Checks

check_start()
{
    local gw id snap leaders

    for id in "${CONTROLLERS[@]}"; do
        controller_config "$id" || return 1
    done
    redis_start || return 1
    for gw in "${GATEWAYS[@]}"; do
        agent_config "$gw"
        agent_start "$gw" || return 1
    done
    for id in "${CONTROLLERS[@]}"; do
        controller_start "$id" || return 1
    done
    snap=$(wait_converged "$(all_gws)" 20000)
    local rc=$?
    leaders=$(leader_id | paste -sd, -)
    CHECK_TEXT="leader=${leaders:-none} plan: $snap"
    [ "$rc" = 0 ] && [ -n "$leaders" ] && [[ $leaders != *,* ]]
}

# Succeeds if SNAPSHOT shows a plan without GW, neither as an entry nor
# as a target, that every other gateway applied.
snap_removed()
{
    local snap=$1 gw=$2 targets

    read -r _ _ _ _ targets _ <<<"$snap"
    [[ ,$targets, != *",$gw,"* ]] && snap_converged "$snap" "$(others "$gw")"
}

check_agent_removal()
{
    local trial gw t0 t_end dt worst=0 snap times=() removed

    for ((trial = 0; trial < REMOVAL_TRIALS; trial++)); do
        gw=${GATEWAYS[trial % ${#GATEWAYS[@]}]}
        if ! snap=$(wait_converged "$(all_gws)" 15000); then
            CHECK_TEXT="trial $((trial + 1)): cluster not converged: $snap"
            return 1
        fi
        t0=$(now_ms)
        kill_proc "$gw"
        t_end=$((t0 + 10000))
        removed=0
        while [ "$(now_ms)" -lt "$t_end" ]; do
            snap=$(snapshot)
            if snap_removed "$snap" "$gw"; then
                removed=1
                break
            fi
            sleep 0.05
        done
        dt=$(($(now_ms) - t0))
        if [ "$removed" = 0 ]; then
            CHECK_TEXT="trial $((trial + 1)): $gw still in the plan after"
            CHECK_TEXT+=" $dt ms: $snap"
            agent_start "$gw"
            return 1
        fi
        times+=("$gw:$dt")
        [ "$dt" -gt "$worst" ] && worst=$dt
        REMOVAL_WORST_MS=$worst
        agent_start "$gw" || {
            CHECK_TEXT="$gw did not restart"
            return 1
        }
    done
    CHECK_TEXT="worst ${worst} ms of $REMOVAL_TRIALS trials, limit"
    CHECK_TEXT+=" $REMOVAL_LIMIT_MS ms (${times[*]})"
    [ "$worst" -le "$REMOVAL_LIMIT_MS" ]
}

# Prints the JSON output of ctl counters of agent GW, bounded to 2 s.
agent_counters()
{
    timeout 2 "$BIN/ikeshift-agent" ctl --socket "$WORK/$1/control.sock" \
        counters 2>/dev/null
}

# Runs 20 IKE_SA_INITs from 20 client addresses against agent GW and
# succeeds if each got a normal response or a REDIRECT.  flood_init does
# not print REDIRECT targets, but the plan in force lists only live
# gateways as targets.
flood_one()
{
    local gw=$1 addr=${GW_ADDR[$1]} route out

    route=$(ip route get "$addr" 2>&1)
    if [[ $route != *" dev lo "* ]]; then
        FLOOD_TEXT="route to $addr is not on lo: $route"
        return 1
    fi
    out=$(timeout 20 "$FLOOD" --target "$addr" --port "$IKE_PORT" \
        --count 20 --rate 200 --sources 20 --bind 127.0.1.1 \
        --bind-span 20 --wait 2000 2>&1)
    echo "$out" >"$WORK/flood-$gw.json"
    FLOOD_TEXT=$(jq -c '.replies' <<<"$out" 2>/dev/null) ||
        FLOOD_TEXT="flood_init failed: $out"
    [ "$(jq '.replies.normal + .replies.redirect' <<<"$out" 2>/dev/null)" \
        = 20 ]
}

check_redis_outage()
{
    local snap e0 t0 gw ok=1 t_kill t_back t_end dt_new=- dt_full=- \
        epoch term n notes=() lines=() sockets=0

    if ! snap=$(wait_converged "$(all_gws)" 15000); then
        CHECK_TEXT="cluster not converged before: $snap"
        return 1
    fi
    read -r e0 t0 _ <<<"$snap"
    for gw in "${GATEWAYS[@]}"; do
        lines+=("$(log_lines "$gw")")
    done
    t_kill=$(now_ms)
    kill_proc redis
    sleep 2
    for gw in "${GATEWAYS[@]}"; do
        if agent_counters "$gw" | jq -e .ok >/dev/null 2>&1; then
            sockets=$((sockets + 1))
        else
            notes+=("$gw control socket did not answer")
            ok=0
        fi
    done
    if flood_one gw1; then
        notes+=("gw1 IKE_SA_INIT replies during the outage: $FLOOD_TEXT")
    else
        notes+=("gw1 IKE_SA_INIT during the outage failed: $FLOOD_TEXT")
        ok=0
    fi
    sleep_until "$((t_kill + REDIS_OUTAGE_S * 1000))"
    # An agent keeps its last plan until the plan expires, then accepts
    # every new client (fail open).  Either way no client is rejected, so
    # the expiry is reported, not failed; it happens when the outage
    # outlasts the plan lifetime (planner.plan_ttl, 30 s here).
    for ((n = 0; n < ${#GATEWAYS[@]}; n++)); do
        gw=${GATEWAYS[n]}
        if log_since "$gw" "${lines[n]}" |
            grep -q 'no valid plan, accepting every new client'; then
            notes+=("$gw failed open after its plan expired")
        fi
    done
    # The first probe's half-open SAs may make the agent ask for cookies
    # now, which a client returns; only a request left unanswered counts.
    flood_one gw1
    if [ "$(jq '.none + .other' <<<"$FLOOD_TEXT" \
        2>/dev/null)" = 0 ]; then
        notes+=("gw1 replies at the end of the outage: $FLOOD_TEXT")
    else
        notes+=("gw1 IKE_SA_INIT at the end of the outage failed: $FLOOD_TEXT")
        ok=0
    fi
    redis_start || {
        CHECK_TEXT="redis-server did not restart"
        return 1
    }
    t_back=$(now_ms)
    t_end=$((t_back + 15000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        snap=$(snapshot)
        read -r epoch term _ <<<"$snap"
        if [ "$dt_new" = - ] && all_applied_above "$snap" "$e0"; then
            dt_new=$(($(now_ms) - t_back))
        fi
        if snap_converged "$snap" "$(all_gws)" && [ "$epoch" -gt "$e0" ]; then
            dt_full=$(($(now_ms) - t_back))
            break
        fi
        sleep 0.05
    done
    REDIS_RESUME_MS=$dt_new
    CHECK_TEXT="outage ${REDIS_OUTAGE_S} s;"
    CHECK_TEXT+=" control sockets that answered during the outage:"
    CHECK_TEXT+=" $sockets/${#GATEWAYS[@]};"
    CHECK_TEXT+=" epoch before $e0 term $t0; every agent applied a newer"
    CHECK_TEXT+=" epoch $dt_new ms after Redis answered PING (limit"
    CHECK_TEXT+=" $RESUME_LIMIT_MS ms), the current plan with gw1-gw3"
    CHECK_TEXT+=" applied by all after $dt_full ms; now: $snap"
    for n in "${notes[@]}"; do
        CHECK_TEXT+="; $n"
    done
    [ "$ok" = 1 ] && [ "$dt_new" != - ] &&
        [ "$dt_new" -le "$RESUME_LIMIT_MS" ]
}

# Prints the value of metric NAME on controller ID's /metrics.
metric()
{
    api "$1" /metrics | awk -v n="$2" '$1 == n { print $2 }'
}

# Prints the id of the controller that is not ID.
other_controller()
{
    local id

    for id in "${CONTROLLERS[@]}"; do
        [ "$id" = "$1" ] || echo "$id"
    done
}

# Prints the number of pub/sub clients connected to Redis.
pubsub_clients()
{
    rcli CLIENT LIST TYPE pubsub 2>/dev/null | grep -c '^id='
}

# Waits up to TIMEOUT_MS until the plan names every gateway with
# accept_new true and every agent applied it.
wait_all_accepting()
{
    local t_end

    t_end=$(($(now_ms) + $1))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        if [ "$(rcli GET ikeshift:plan | jq '[.gateways[]? |
            select(.accept_new)] | length' 2>/dev/null)" = \
            "${#GATEWAYS[@]}" ] &&
            snap_converged "$(snapshot)" "$(all_gws)"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

check_pubsub_kill()
{
    local snap e0 leader killed t0 t_plan=- t_conv=- e1=- epoch t_end \
        after drain

    if ! wait_all_accepting 15000; then
        CHECK_TEXT="cluster not converged before: $(snapshot)"
        return 1
    fi
    snap=$(snapshot)
    read -r e0 _ leader _ <<<"$snap"
    killed=$(rcli CLIENT KILL TYPE pubsub)
    t0=$(now_ms)
    # The drain of gw3 makes the next plan at once (gw3 stops accepting),
    # while the agents' subscriber links are still reconnecting.
    drain=$(api_post "$leader" /v1/gateways/gw3/drain '{"deadline": "60s"}' |
        jq -r '.state // .drain.state // .error' 2>/dev/null)
    t_end=$((t0 + PLAN_REREAD_MS + 8000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        snap=$(snapshot)
        read -r epoch _ <<<"$snap"
        if [ "$e1" = - ] && [[ $epoch =~ ^[0-9]+$ ]] &&
            [ "$epoch" -gt "$e0" ]; then
            e1=$epoch
            t_plan=$(now_ms)
        fi
        if [ "$e1" != - ] && all_applied_above "$snap" "$((e1 - 1))"; then
            t_conv=$(now_ms)
            break
        fi
        sleep 0.05
    done
    after=$(pubsub_clients)
    api_post "$leader" /v1/gateways/gw3/resume >/dev/null
    CHECK_TEXT="killed $killed pub/sub clients, drain gw3: $drain; next"
    CHECK_TEXT+=" plan $e1 seen after $([ "$t_plan" = - ] && echo - ||
        echo $((t_plan - t0))) ms, applied by every agent"
    if [ "$t_conv" = - ]; then
        CHECK_TEXT+=" never: $snap"
        return 1
    fi
    CHECK_TEXT+=" $((t_conv - t_plan)) ms later (re-read interval"
    CHECK_TEXT+=" $PLAN_REREAD_MS ms); pub/sub clients after: $after"
    [ "$((t_conv - t_plan))" -le "$PLAN_REREAD_MS" ] &&
        [ "$after" = "${#GATEWAYS[@]}" ] || return 1
    wait_all_accepting 15000 || {
        CHECK_TEXT+="; gw3 did not resume: $(snapshot)"
        return 1
    }
}

check_leader_kill()
{
    local snap leader standby t0 term0 t_lead=- t_plan=- t_conv=- t_end \
        epoch term lid

    leader=$(leader_id)
    if [ -z "$leader" ] || ! snap=$(wait_converged "$(all_gws)" 15000); then
        CHECK_TEXT="no leader or no converged plan before: $(snapshot)"
        return 1
    fi
    standby=$(other_controller "$leader")
    read -r _ term0 _ <<<"$snap"
    t0=$(now_ms)
    kill_proc "$leader"
    t_end=$((t0 + TAKEOVER_LIMIT_MS + 4000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        if [ "$t_lead" = - ] && [ "$(leading "$standby")" = true ]; then
            t_lead=$(($(now_ms) - t0))
        fi
        snap=$(snapshot)
        read -r epoch term lid _ <<<"$snap"
        if [ "$t_plan" = - ] && [ "$lid" = "$standby" ] &&
            [[ $term =~ ^[0-9]+$ ]] && [ "$term" -gt "$term0" ]; then
            t_plan=$(($(now_ms) - t0))
        fi
        if [ "$t_plan" != - ] && [ "$t_conv" = - ] &&
            snap_applied "$snap" "$(all_gws)"; then
            t_conv=$(($(now_ms) - t0))
        fi
        [ "$t_lead" != - ] && [ "$t_conv" != - ] && break
        sleep 0.05
    done
    TAKEOVER_MS=$t_lead
    CHECK_TEXT="$leader (term $term0) killed; $standby leads after $t_lead"
    CHECK_TEXT+=" ms, its plan (term $term) seen after $t_plan ms, applied"
    CHECK_TEXT+=" by every agent after $t_conv ms (limit"
    CHECK_TEXT+=" $TAKEOVER_LIMIT_MS ms, lease TTL $LEASE_TTL_MS ms)"
    controller_start "$leader" || {
        CHECK_TEXT+="; $leader did not restart"
        return 1
    }
    [ "$t_lead" != - ] && [ "$t_lead" -le "$TAKEOVER_LIMIT_MS" ] &&
        [ "$t_plan" != - ] && [ "$t_plan" -le "$TAKEOVER_LIMIT_MS" ] &&
        [ "$t_conv" != - ]
}

check_leader_pause()
{
    local snap leader other term1 t0 t_end term lid t_taken=- fenced0 \
        fenced1 ctl_lines gw n lines=() old_seen=0 old_applied=0 \
        refused still first

    leader=$(leader_id)
    if [ -z "$leader" ] || ! snap=$(wait_converged "$(all_gws)" 15000); then
        CHECK_TEXT="no leader or no converged plan before: $(snapshot)"
        return 1
    fi
    other=$(other_controller "$leader")
    read -r _ term1 _ <<<"$snap"
    fenced0=$(metric "$leader" ikeshift_controller_writes_fenced_total)
    ctl_lines=$(log_lines "$leader")
    t0=$(now_ms)
    signal_proc "$leader" STOP
    # Wait past the lease until the other controller's plan is applied.
    t_end=$((t0 + LEASE_TTL_MS + 6000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        snap=$(snapshot)
        read -r _ term lid _ <<<"$snap"
        if [ "$lid" = "$other" ] && [[ $term =~ ^[0-9]+$ ]] &&
            [ "$term" -gt "$term1" ] && snap_applied "$snap" "$(all_gws)"
        then
            t_taken=$(($(now_ms) - t0))
            break
        fi
        sleep 0.1
    done
    sleep_until "$((t0 + LEASE_TTL_MS + 1000))"
    for gw in "${GATEWAYS[@]}"; do
        lines+=("$(log_lines "$gw")")
    done
    signal_proc "$leader" CONT
    # Watch Redis for 3 s: a plan of the old term must never appear.
    t_end=$(($(now_ms) + 3000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        read -r _ term lid _ <<<"$(snapshot)"
        [ "$term" = "$term1" ] && old_seen=1
        sleep 0.05
    done
    for ((n = 0; n < ${#GATEWAYS[@]}; n++)); do
        if log_since "${GATEWAYS[n]}" "${lines[n]}" |
            grep -q "plan applied; epoch=[0-9]* term=$term1 "; then
            old_applied=1
        fi
    done
    fenced1=$(metric "$leader" ikeshift_controller_writes_fenced_total)
    refused=$(log_since "$leader" "$ctl_lines" |
        grep -c 'write refused, lease not held')
    still=$(leading "$leader")
    CHECK_TEXT="$leader (term $term1) stopped $((LEASE_TTL_MS + 1000)) ms;"
    CHECK_TEXT+=" $other's plan (term $term) applied after $t_taken ms;"
    CHECK_TEXT+=" after SIGCONT: writes_fenced_total $fenced0 -> $fenced1,"
    CHECK_TEXT+=" $refused 'write refused' log lines, leading=$still,"
    CHECK_TEXT+=" old-term plan in Redis: $old_seen, applied by an agent:"
    CHECK_TEXT+=" $old_applied"
    FENCE_NOTE=$(log_since "$leader" "$ctl_lines" |
        grep -E 'lost leadership|write refused|plan written' | head -n 3 |
        sed -E 's/^[^ ]+T([0-9:.]+)Z [^ ]+ /\1 /' | paste -sd';' -)
    CHECK_TEXT+="; $leader log: ${FENCE_NOTE:-nothing}"
    # After SIGCONT the paused leader either tries a write, which the
    # fence must reject, or notices first that its lease ran out and
    # writes nothing.  Both are safe, and the output names which happened.
    first=$(log_since "$leader" "$ctl_lines" |
        grep -oE 'lost leadership|write refused|plan written' | head -n 1)
    case $first in
    "write refused") CHECK_TEXT+=" (its first write was refused)" ;;
    "lost leadership") CHECK_TEXT+=" (it stepped down before any write)" ;;
    *) CHECK_TEXT+=" (first event: ${first:-none})"; return 1 ;;
    esac
    [ "$t_taken" != - ] && [ "$old_seen" = 0 ] && [ "$old_applied" = 0 ] &&
        [ "$still" = false ]
}

# Tests a leader whose lease was taken in Redis before it noticed.  One
# script deletes the lease key and increments the term, as another
# controller's acquisition does.  The leader is then asked at once for a
# drain, so it writes an admin state and a plan.  The fence must reject
# both writes, the drain must not reach Redis or any agent, and the
# request must get 503, because the drain was not stored.
check_fenced_write()
{
    local snap leader other term e_bump fenced0 fenced1 ctl_lines code \
        bumped t_end leaked=0 refused lid epoch t

    leader=$(leader_id)
    if [ -z "$leader" ] || ! wait_all_accepting 15000; then
        CHECK_TEXT="no leader or no converged plan before: $(snapshot)"
        return 1
    fi
    other=$(other_controller "$leader")
    snap=$(snapshot)
    read -r e_bump term _ <<<"$snap"
    fenced0=$(metric "$leader" ikeshift_controller_writes_fenced_total)
    ctl_lines=$(log_lines "$leader")
    bumped=$(rcli EVAL "redis.call('DEL', KEYS[1])
        return redis.call('INCR', KEYS[2])" 2 ikeshift:leader \
        ikeshift:leader:term)
    code=$(curl -s -o "$WORK/fenced-drain.json" -w '%{http_code}' \
        --max-time 2 -X POST -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $(cat "$WORK/$leader/rw.token")" \
        -d '{"deadline": "60s"}' \
        "http://127.0.0.1:${API_PORT[$leader]}/v1/gateways/gw3/drain")
    t_end=$(($(now_ms) + 3000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        read -r epoch t lid _ <<<"$(snapshot)"
        if [ "$lid" = "$leader" ] && [ "$t" = "$term" ] &&
            [[ $epoch =~ ^[0-9]+$ ]] && [ "$epoch" -gt "$e_bump" ]; then
            leaked=1
        fi
        if [ "$(rcli HGET ikeshift:admin gw3)" = draining ]; then
            leaked=1
        fi
        sleep 0.05
    done
    fenced1=$(metric "$leader" ikeshift_controller_writes_fenced_total)
    refused=$(log_since "$leader" "$ctl_lines" |
        grep -oE 'write refused, lease not held; command=[a-z_]+' |
        sed 's/.*command=//' | sort | uniq | paste -sd, -)
    CHECK_TEXT="$leader (term $term) asked for a drain after the term was"
    CHECK_TEXT+=" bumped to $bumped: HTTP $code; writes_fenced_total"
    CHECK_TEXT+=" $fenced0 -> $fenced1, refused: ${refused:-none};"
    CHECK_TEXT+=" the drain reached Redis: $leaked"
    if ! wait_all_accepting 15000; then
        CHECK_TEXT+="; gw3 not active in the plan after the takeover:"
        CHECK_TEXT+=" $(snapshot)"
        return 1
    fi
    read -r _ t lid _ <<<"$(snapshot)"
    CHECK_TEXT+="; plan now by $lid term $t, gw3 active"
    [[ $fenced1 =~ ^[0-9]+$ ]] && [ "$fenced1" -gt "${fenced0:-0}" ] &&
        [ "$leaked" = 0 ] && [ -n "$refused" ] && [ "$lid" = "$other" ] &&
        [ "$code" = 503 ]
}

check_garbage()
{
    local snap e0 leader inv0 inv1 gw n lines=() ctl_lines rejected=0 \
        applied ok=1 t0 t_end t_fix=- notes=()

    leader=$(leader_id)
    if [ -z "$leader" ] || ! snap=$(wait_converged "$(all_gws)" 15000); then
        CHECK_TEXT="no leader or no converged plan before: $(snapshot)"
        return 1
    fi
    read -r e0 _ <<<"$snap"
    inv0=$(metric "$leader" ikeshift_controller_reports_invalid_total)
    ctl_lines=$(log_lines "$leader")
    for gw in "${GATEWAYS[@]}"; do
        lines+=("$(log_lines "$gw")")
    done
    rcli SET ikeshift:report:gw-garbage 'garbage {"version": 1' \
        PX 20000 >/dev/null
    rcli SET ikeshift:report:gw9 '{"version": 1, "gateway_id": "gw9"}' \
        PX 20000 >/dev/null
    rcli SET ikeshift:plan 'garbage, not a plan' >/dev/null
    rcli PUBLISH ikeshift:plan:epoch "$((e0 + 1000))" >/dev/null
    sleep 1
    rcli SET ikeshift:plan '{"version": 1, "epoch": "x"}' >/dev/null
    rcli PUBLISH ikeshift:plan:epoch "$((e0 + 1001))" >/dev/null
    sleep 1
    for ((n = 0; n < ${#GATEWAYS[@]}; n++)); do
        gw=${GATEWAYS[n]}
        if log_since "$gw" "${lines[n]}" |
            grep -q 'invalid plan dropped, keeping the current one'; then
            rejected=$((rejected + 1))
        fi
        # A valid plan that the leader wrote meanwhile may replace e0.
        applied=$(rcli GET "ikeshift:report:$gw" | jq .plan_epoch)
        if [ "$applied" != "$e0" ] && ! log_since "$leader" "$ctl_lines" |
            grep -q "plan written; epoch=$applied "; then
            notes+=("$gw applied epoch $applied, not $e0 or a later plan")
            ok=0
        fi
    done
    inv1=$(metric "$leader" ikeshift_controller_reports_invalid_total)
    CHECK_TEXT="agents that logged the garbage plan dropped:"
    CHECK_TEXT+=" $rejected/${#GATEWAYS[@]}; reports_invalid_total"
    CHECK_TEXT+=" $inv0 -> $inv1, $(log_since "$leader" "$ctl_lines" |
        grep -c 'invalid value skipped') logged"
    CHECK_TEXT+="; applied epoch before: $e0, after: $(snapshot |
        grep -oE 'gw[0-9]+=[^ ]+' | paste -sd' ' -)"
    [ "$rejected" = "${#GATEWAYS[@]}" ] || ok=0
    [[ $inv1 =~ ^[0-9]+$ ]] && [ "$inv1" -gt "${inv0:-0}" ] || ok=0
    # How long the garbage plan stays: the controller writes again on a
    # change or half way to the plan's expiry.
    t0=$(now_ms)
    t_end=$((t0 + 17000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        if snap_converged "$(snapshot)" "$(all_gws)"; then
            t_fix=$(($(now_ms) - t0))
            break
        fi
        sleep 0.2
    done
    CHECK_TEXT+="; a valid plan replaced the garbage after $t_fix ms"
    rcli DEL ikeshift:report:gw-garbage ikeshift:report:gw9 >/dev/null
    if ! all_alive >"$WORK/alive.txt"; then
        notes+=("$(paste -sd';' "$WORK/alive.txt")")
        ok=0
    fi
    for n in "${notes[@]}"; do
        CHECK_TEXT+="; $n"
    done
    [ "$ok" = 1 ]
}

main()
{
    local rc

    check_start
    rc=$?
    result 1 "$rc" "cluster starts, one leader, plan lists gw1-gw3," \
        "every agent applied it; $CHECK_TEXT"
    if [ "$rc" != 0 ]; then
        echo "e2e-failover: the cluster did not start; logs in $WORK"
        return
    fi
    check_agent_removal
    result 2 $? "SIGKILLed agent leaves the applied plan: $CHECK_TEXT"
    check_redis_outage
    result 3 $? "redis-server killed and restarted: $CHECK_TEXT"
    check_pubsub_kill
    result 4 $? "CLIENT KILL TYPE pubsub: $CHECK_TEXT"
    check_leader_kill
    result 5 $? "SIGKILL of the leader: $CHECK_TEXT"
    check_leader_pause
    result 6 $? "SIGSTOP of the leader past its lease: $CHECK_TEXT"
    check_fenced_write
    result 6b $? "write of a leader whose lease was taken: $CHECK_TEXT"
    check_garbage
    result 7 $? "garbage report and plan keys: $CHECK_TEXT"
    all_alive
    result 8 $? "every daemon still runs at the end"
}

REMOVAL_WORST_MS=-
REDIS_RESUME_MS=-
TAKEOVER_MS=-
main
echo "e2e-failover: measured: gateway removal worst ${REMOVAL_WORST_MS} ms," \
    "plan resume after Redis returned ${REDIS_RESUME_MS} ms, controller" \
    "takeover ${TAKEOVER_MS} ms"
echo "e2e-failover: logs in $WORK"
echo "e2e-failover: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
