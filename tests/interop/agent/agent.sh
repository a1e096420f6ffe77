# shellcheck shell=bash
# ikeshift-agent instances inside lab nodes (netns.sh must be sourced and
# lab_init called first).  Each instance NAME has a directory
# $LAB_DIR/ag/NAME with agent.json, agent.log (stdout and stderr of the
# agent), its control socket ctl.sock and the file node.
#
#   ag_require                          # lab_skip unless the binary exists
#   ag_setup gw1 gwa unicast=198.51.100.2 psk=... pool=203.0.113.128/25
#   ag_start gw1                        # waits for "started;" in the log
#   ag_wait_sa gw1 ESTABLISHED 198.51.100.1 5
#   ag_move gw1 --peer 198.51.100.1 --to 198.51.100.3
#
# The binary is $IKESHIFT_BIN/ikeshift-agent; IKESHIFT_BIN defaults to
# build/bin at the top of the git work tree.

AG_CLIENT_ID_DEFAULT=client@example.net
AG_IDENTITY_DEFAULT=gw.example.net

# Prints the path of the agent binary.
ag_bin()
{
    local bin=${IKESHIFT_BIN:-}

    if [ -z "$bin" ]; then
        bin=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse \
            --show-toplevel 2>/dev/null)/build/bin
    fi
    printf '%s/ikeshift-agent\n' "$bin"
}

# Skips the case (lab_skip) when the agent binary is missing.
ag_require()
{
    local bin

    bin=$(ag_bin)
    [ -x "$bin" ] ||
        lab_skip "ikeshift-agent not found at $bin; build it with make" \
            "and set IKESHIFT_BIN"
}

# Prints the directory of agent instance NAME.
ag_dir()
{
    printf '%s/ag/%s\n' "$LAB_DIR" "$1"
}

# Prints the node that agent instance NAME runs in.
ag_node()
{
    cat "$(ag_dir "$1")/node" 2>/dev/null ||
        lab_err "no agent instance '$1' (call ag_setup first)"
}

# Prints a comma-separated list as a JSON array of strings.
_ag_json_list()
{
    local list=$1 out='' item
    local -a items=()

    IFS=, read -ra items <<<"$list"
    for item in "${items[@]}"; do
        out=$out${out:+, }\"$item\"
    done
    printf '[%s]' "$out"
}

# Writes the configuration of agent instance NAME that runs in node NODE
# from KEY=VALUE arguments.  Lists are comma-separated.
#   unicast, anycast            listen addresses (unicast is required)
#   identity                    IDr as an FQDN (default gw.example.net)
#   client_id, psk              one client entry (psk is required)
#   ike, esp                    ike_proposals, esp_proposals
#   pool, protected_subnets     CP pool and narrowed TSr
#   anycast_target, redirect_all_to, drain_target
#   rule=ID:TARGET              one policy.identity_rules entry (repeatable)
#   auth_mode, grace            redirect.auth_mode, redirect.grace
#   liveness, retransmit_base   timers.liveness_interval,
#                               timers.retransmit_base
#   log_level                   default debug
#   keys=on                     debug_keys_file: the agent appends its IKE
#                               keys to $(ag_dir NAME)/ike-keys.txt
# The control socket is always $(ag_dir NAME)/ctl.sock.  The result is
# checked with --check-config.
ag_setup()
{
    local name=$1 node=${2:-} dir kv key val bin policy timers redirect
    local -A o=()
    local -a rules=()

    if [ -z "$node" ]; then
        lab_err "usage: ag_setup NAME NODE KEY=VALUE..."
        return 1
    fi
    shift 2
    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    for kv in "$@"; do
        key=${kv%%=*}
        val=${kv#*=}
        case $key in
        rule) rules+=("$val") ;;
        unicast | anycast | identity | client_id | psk | ike | esp | pool | \
            protected_subnets | anycast_target | redirect_all_to | \
            drain_target | auth_mode | grace | liveness | retransmit_base | \
            log_level | keys)
            o[$key]=$val ;;
        *) lab_err "ag_setup: unknown key '$key'"; return 1 ;;
        esac
    done
    if [ -z "${o[unicast]:-}" ] || [ -z "${o[psk]:-}" ]; then
        lab_err "ag_setup: unicast=... and psk=... are required"
        return 1
    fi
    dir=$(ag_dir "$name")
    if [ -e "$dir" ]; then
        lab_err "agent instance '$name' already exists"
        return 1
    fi
    mkdir -p "$dir" || return 1
    echo "$node" >"$dir/node"

    policy=''
    for key in anycast_target redirect_all_to drain_target; do
        [ -n "${o[$key]:-}" ] &&
            policy=$policy${policy:+, }"\"$key\": \"${o[$key]}\""
    done
    if [ "${#rules[@]}" -gt 0 ]; then
        val=''
        for kv in "${rules[@]}"; do
            val=$val${val:+, }"{ \"id\": \"${kv%%:*}\", \"to\": \"${kv#*:}\" }"
        done
        policy=$policy${policy:+, }"\"identity_rules\": [ $val ]"
    fi
    timers=''
    [ -n "${o[liveness]:-}" ] &&
        timers="\"liveness_interval\": \"${o[liveness]}\""
    [ -n "${o[retransmit_base]:-}" ] &&
        timers=$timers${timers:+, }"\"retransmit_base\": \"${o[retransmit_base]}\""
    redirect=''
    [ -n "${o[auth_mode]:-}" ] &&
        redirect="\"auth_mode\": \"${o[auth_mode]}\""
    [ -n "${o[grace]:-}" ] &&
        redirect=$redirect${redirect:+, }"\"grace\": \"${o[grace]}\""

    {
        echo "{"
        echo "  \"listen\": {"
        printf '    "unicast": %s' "$(_ag_json_list "${o[unicast]}")"
        if [ -n "${o[anycast]:-}" ]; then
            printf ',\n    "anycast": %s' "$(_ag_json_list "${o[anycast]}")"
        fi
        printf '\n  },\n'
        printf '  "identity": { "type": "fqdn", "value": "%s" },\n' \
            "${o[identity]:-$AG_IDENTITY_DEFAULT}"
        [ -n "${o[ike]:-}" ] &&
            printf '  "ike_proposals": %s,\n' "$(_ag_json_list "${o[ike]}")"
        [ -n "${o[esp]:-}" ] &&
            printf '  "esp_proposals": %s,\n' "$(_ag_json_list "${o[esp]}")"
        printf '  "clients": [ { "id": "%s", "psk": "%s" } ],\n' \
            "${o[client_id]:-$AG_CLIENT_ID_DEFAULT}" "${o[psk]}"
        [ -n "${o[pool]:-}" ] && printf '  "pool": "%s",\n' "${o[pool]}"
        [ -n "${o[protected_subnets]:-}" ] &&
            printf '  "protected_subnets": %s,\n' \
                "$(_ag_json_list "${o[protected_subnets]}")"
        [ -n "$policy" ] && printf '  "policy": { %s },\n' "$policy"
        [ -n "$timers" ] && printf '  "timers": { %s },\n' "$timers"
        [ -n "$redirect" ] && printf '  "redirect": { %s },\n' "$redirect"
        [ "${o[keys]:-}" = on ] &&
            printf '  "debug_keys_file": "%s",\n' "$dir/ike-keys.txt"
        printf '  "control_socket": "%s",\n' "$dir/ctl.sock"
        printf '  "log_level": "%s"\n' "${o[log_level]:-debug}"
        echo "}"
    } >"$dir/agent.json"

    bin=$(ag_bin)
    if ! val=$("$bin" -c "$dir/agent.json" --check-config 2>&1); then
        lab_err "agent configuration of '$name' is invalid: $val"
        return 1
    fi
}

# Starts agent NAME in its node and waits up to TIMEOUT seconds (default 5)
# until it logs "started;".  Prints the log tail and fails if the agent
# exits first or times out.
ag_start()
{
    local name=$1 timeout=${2:-5} dir node pid i

    node=$(ag_node "$name") || return 1
    dir=$(ag_dir "$name")
    : >"$dir/agent.log"
    lab_spawn_in "$node" "$dir/agent.log" "$(ag_bin)" -c "$dir/agent.json" ||
        return 1
    pid=$LAB_SPAWNED_PID
    echo "$pid" >"$dir/pid"
    for ((i = 0; i < timeout * 20; i++)); do
        if ! _lab_pid_ours_alive "$pid" "$(_lab_pid_start "$pid")"; then
            lab_err "agent '$name' (PID $pid) exited during start-up:"
            tail -n 20 "$dir/agent.log" >&2
            return 1
        fi
        grep -q 'started;' "$dir/agent.log" && return 0
        sleep 0.05
    done
    lab_err "agent '$name' (PID $pid) did not log 'started;' within" \
        "${timeout}s; log $dir/agent.log"
    return 1
}

# Succeeds if agent NAME still runs.
ag_alive()
{
    local pid

    pid=$(cat "$(ag_dir "$1")/pid" 2>/dev/null) || return 1
    _lab_pid_ours_alive "$pid" "$(_lab_pid_start "$pid")"
}

# Stops agent NAME with SIGNAL (default INT: delete every SA and exit).
ag_stop()
{
    local dir

    dir=$(ag_dir "$1")
    [ -f "$dir/pid" ] || return 0
    lab_kill "$(cat "$dir/pid")" "${2:-INT}" 5
}

# Runs `ikeshift-agent ctl` against agent NAME's control socket and prints
# the JSON reply line.
ag_ctl()
{
    local name=$1

    shift
    "$(ag_bin)" ctl --socket "$(ag_dir "$name")/ctl.sock" "$@"
}

# Lists the IKE SAs of agent NAME, one line each:
#   ispi=HEX rspi=HEX local=ADDR peer=ADDR id=ID state=STATE
#   redirected=true|false vip=ADDR|-
ag_list_sas()
{
    local out

    out=$(ag_ctl "$1" list) ||
        lab_err "ctl list failed for agent '$1': $out" || return
    jq -r '.sas[] | "ispi=\(.ispi) rspi=\(.rspi) local=\(.local)"
        + " peer=\(.peer) id=\(.id) state=\(.state)"
        + " redirected=\(.redirected) vip=\(if (.vip // "") == "" then "-"
        else .vip end)"' <<<"$out"
}

# Prints counter COUNTER of agent NAME (0 if absent).
ag_counter()
{
    local out

    out=$(ag_ctl "$1" counters) ||
        lab_err "ctl counters failed for agent '$1': $out" || return
    jq -r --arg k "$2" '.counters[$k] // 0' <<<"$out"
}

# Waits up to TIMEOUT seconds (default 10) until agent NAME has an IKE SA
# in state STATE (compared without case) with peer PEER ("" for any; the
# port is ignored) and prints its ag_list_sas line.  Fails with the SAs it saw last.
ag_wait_sa()
{
    local name=$1 state=$2 peer=${3:-} timeout=${4:-10} sas line i

    for ((i = 0; i < timeout * 10; i++)); do
        sas=$(ag_list_sas "$name")
        line=$(printf '%s\n' "$sas" | awk -v s="$state" -v p="$peer" '
            function host(f,   v) {
                v = f; sub(/^peer=/, "", v)
                if (v ~ /^\[/) { sub(/^\[/, "", v); sub(/\].*$/, "", v) }
                else if (v ~ /^[0-9.]+:[0-9]+$/) sub(/:[0-9]+$/, "", v)
                return v
            }
            toupper($6) == "STATE=" toupper(s) && (p == "" || host($4) == p) {
                print; exit
            }')
        if [ -n "$line" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        sleep 0.1
    done
    lab_err "no $state IKE SA on agent '$name'${peer:+ with $peer} after" \
        "${timeout}s; SAs: ${sas:-none}"
    return 1
}

# Prints the number of IKE SAs of agent NAME.
ag_sa_count()
{
    ag_list_sas "$1" | grep -c '^ispi='
}

# Runs `ctl move` on agent NAME with the selector and target arguments
# given (--peer IP, --id ID, --spi HEX, --to TARGET).  The route from the
# agent's node to --peer and from the node that has --peer to every
# address of --to (looked up in the hosts files of its charons when it is
# a name) is checked first.
ag_move()
{
    local name=$1 node peer='' to='' owner addrs addr out
    local -a args=()

    shift
    node=$(ag_node "$name") || return 1
    args=("$@")
    while [ $# -gt 0 ]; do
        case $1 in
        --peer) peer=$2; shift ;;
        --to) to=$2; shift ;;
        esac
        shift
    done
    [ -n "$to" ] || lab_err "usage: ag_move NAME [--peer IP] --to TARGET" ||
        return
    if [ -n "$peer" ]; then
        lab_route_check "$node" "$peer" || return 1
        owner=$(lab_addr_owner "$peer") ||
            lab_err "no node of this run has address $peer" || return
        if _lab_ip4_valid "$to" || _lab_ip6_expand "$to" >/dev/null; then
            addrs=$to
        else
            addrs=$(_sw_hosts_lookup "$owner" "$to") ||
                lab_err "redirect target '$to' is in no hosts file of node" \
                    "$owner" || return
        fi
        for addr in $addrs; do
            lab_route_check "$owner" "$addr" || return 1
        done
    fi
    out=$(ag_ctl "$name" move "${args[@]}") ||
        lab_err "ctl move on agent '$name' failed: $out" || return
    printf '%s\n' "$out"
}

# Searches agent NAME's log for the extended regular expression PATTERN.
ag_log_grep()
{
    grep -E -- "$2" "$(ag_dir "$1")/agent.log"
}

# Waits up to TIMEOUT seconds (default 10) for PATTERN in agent NAME's log.
ag_log_wait()
{
    local name=$1 pattern=$2 timeout=${3:-10} i

    for ((i = 0; i < timeout * 10; i++)); do
        ag_log_grep "$name" "$pattern" >/dev/null && return 0
        sleep 0.1
    done
    lab_err "'$pattern' not in the log of agent '$name' after ${timeout}s" \
        "($(ag_dir "$name")/agent.log)"
    return 1
}

# Fails if agent NAME is no longer running, with the tail of its log.
ag_check_alive()
{
    ag_alive "$1" ||
        lab_err "agent '$1' is not running; log tail: $(tail -n 3 \
            "$(ag_dir "$1")/agent.log" | tr '\n' ' ')"
}
