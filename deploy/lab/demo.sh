#!/bin/bash
# `make demo`: a farm of three ikeshift-agent gateways behind one anycast
# address, with real strongSwan 5.9.8 clients, on this machine.  Every node
# is a network namespace built with the interop harness
# (tests/interop/lib), which also removes every namespace and process on
# exit, on Ctrl-C and on failure.
#
# By default the agents run in cluster mode under ikeshift-controller,
# with Redis in a control namespace, and the steps use ikeshiftctl and the
# JSON API (the controller story, in cluster.sh).  DEMO_CONTROLLER=0 runs
# the static story instead: static agent policies and `ikeshift-agent ctl`.
#
# The steps run in the order of DEMO_STEPS.  Each prints what it does in
# plain words, then one ok/FAIL line per check with the evidence below it
# (swanctl on the clients, `ikeshift-agent ctl` on the gateways, agent
# logs).  A failed check ends the run after the summary table, with exit
# status 1.  Exit status 0 means every check passed.
#
# Environment:
#   IKESHIFT_BIN=DIR  directory with ikeshift-agent, ikeshift-controller
#                     and ikeshiftctl (default build/bin)
#   DEMO_CONTROLLER=0 the static story instead of the controller story
#   DEMO_FAILOVER=0   no standby controller and no failover step
#   DEMO_NAT=0        put client 3 directly on the bridge instead of
#                     behind the NAT router
#   DEMO_DNAT=0       put gateway 3 directly on the bridge instead of
#                     behind a router with destination NAT
#   DEMO_ROGUE=0      no fourth gateway with a wrong identity (the
#                     controller story's negative case)
#   DEMO_REDIS_ACL=lab  one lab-only Redis user "ikeshift" instead of the
#                     users of deploy/redis/users.acl (ikeshift-controller,
#                     ikeshift-agent)
#   DEMO_CAPTURE=0    no tshark captures on the clients and no checks on
#                     the decrypted captures at the end of the controller
#                     story (deploy/lab/clientview.sh)
#   DEMO_KEEP=1       keep the logs of a passing run (a failed run always
#                     keeps them); their directory is printed at the start

# The check and step functions are called through "check" and "step_$name".
# shellcheck disable=SC2317
# shellcheck source-path=SCRIPTDIR

set -u

# A shell without job control starts background jobs with SIGINT
# ignored, and bash cannot trap a signal that was ignored at its start.
# Re-executing once with SIGINT at its default makes Ctrl-C and
# `kill -INT` reach the cleanup trap in every case.
if [ -z "${DEMO_SIGINT_RESET:-}" ]; then
    export DEMO_SIGINT_RESET=1
    exec env --default-signal=INT "$BASH" "$0" "$@"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
INTEROP=$TOP/tests/interop

case ${1:-} in
-h | --help)
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
    exit 0 ;;
"") ;;
*)
    echo "demo: unknown argument '$1'; usage: $0 [--help]" >&2
    exit 1 ;;
esac

if [ "$(id -u)" != 0 ]; then
    echo "demo: must run as root, because it creates network namespaces," \
        "veth pairs and bind mounts; run 'sudo make demo'" >&2
    exit 1
fi

# shellcheck source=../../tests/interop/lib/netns.sh
. "$INTEROP/lib/netns.sh"
# shellcheck source=../../tests/interop/lib/charon.sh
. "$INTEROP/lib/charon.sh"
# shellcheck source=../../tests/interop/lib/capture.sh
. "$INTEROP/lib/capture.sh"
# shellcheck source=../../tests/interop/agent/agent.sh
. "$INTEROP/agent/agent.sh"
# shellcheck source=../../tests/interop/agent/common.sh
. "$INTEROP/agent/common.sh"

IKESHIFT_BIN=${IKESHIFT_BIN:-$TOP/build/bin}
if [ ! -x "$(ag_bin)" ]; then
    echo "demo: $(ag_bin) not found; build it with 'make' or set" \
        "IKESHIFT_BIN to the directory that contains ikeshift-agent" >&2
    exit 1
fi
lab_require_cmds jq:jq nft:nftables swanctl:strongswan-swanctl \
    "$SW_CHARON:strongswan-charon" || exit 1
if [ "${DEMO_CONTROLLER:-1}" = 1 ]; then
    lab_require_cmds redis-server:redis-server redis-cli:redis-tools \
        curl:curl || exit 1
    for bin in ikeshift-controller ikeshiftctl; do
        if [ ! -x "$IKESHIFT_BIN/$bin" ]; then
            echo "demo: $IKESHIFT_BIN/$bin not found; build it with 'make'" \
                "or run the static story with DEMO_CONTROLLER=0" >&2
            exit 1
        fi
    done
fi
[ "${DEMO_KEEP:-0}" = 1 ] && export LAB_KEEP=1
# The demo's own stdout and stderr, for the cleanup: a signal can arrive
# while a check runs with its output redirected to a file.
exec 8>&1 9>&2

# ---------------------------------------------------------------------------
# The farm

TEMPLATE=$HERE/gateway.json
ANYCAST=203.0.113.100
# Every gateway narrows TSr to this inner network.  It leaves out the
# anycast address and the pools, because the clients route the inner
# network into their tunnels.
INNER=203.0.113.0/26
IKE_PROPOSAL=aes256gcm16-prfsha256-x25519
ESP_PROPOSAL=aes256gcm16

GATEWAYS=(gw1 gw2 gw3)
declare -A GW_ADDR=([gw1]=198.51.100.11 [gw2]=198.51.100.12
    [gw3]=198.51.100.13)
# Disjoint pools, so a virtual IP shows which gateway handed it out.
declare -A GW_POOL=([gw1]=203.0.113.128/27 [gw2]=203.0.113.160/27
    [gw3]=203.0.113.192/27)
declare -A GW_DRAIN=([gw1]=198.51.100.12 [gw2]=198.51.100.13
    [gw3]=198.51.100.11)
# The address each agent listens on.  Gateway 3 sits behind a site
# router with destination NAT: clients and the plan know it only by its
# public address GW_ADDR[gw3], which its agent reports as
# cluster.public_address.
DEMO_DNAT=${DEMO_DNAT:-1}
declare -A GW_LISTEN=([gw1]=198.51.100.11 [gw2]=198.51.100.12
    [gw3]=198.51.100.13)
DNAT_GW=gw3
DNAT_ROUTER=gw3nat
DNAT_INSIDE_GW=203.0.113.226/28
DNAT_INSIDE_ROUTER=203.0.113.225/28
[ "$DEMO_DNAT" = 1 ] && GW_LISTEN[$DNAT_GW]=${DNAT_INSIDE_GW%/*}
# Per gateway: another identity than the template's, and 1 for an agent
# without a cluster section in the controller story.
declare -A GW_IDENTITY=() GW_STANDALONE=()

# The controller story's negative case: gateway 4 presents another
# identity than the cluster's, as after a configuration change that
# reached one host only.  It is not in GATEWAYS, so no count or balance
# check includes it.  Client 1 dials it directly with connection
# ROGUE_CONN.
DEMO_ROGUE=${DEMO_ROGUE:-1}
ROGUE=gw4
ROGUE_CONN=ivan
GW_ADDR[$ROGUE]=198.51.100.14
GW_LISTEN[$ROGUE]=198.51.100.14
GW_POOL[$ROGUE]=203.0.113.64/28
GW_DRAIN[$ROGUE]=198.51.100.11
GW_IDENTITY[$ROGUE]=vpn.other.example

CLIENTS=(cli1 cli2 cli3)
# The source address of each client's packets on the bridge.  For client
# 3 it is the outside address of its NAT router.
declare -A CLI_ADDR=([cli1]=198.51.100.21 [cli2]=198.51.100.22
    [cli3]=198.51.100.23)
# The gateway that each client's route to the anycast address leads to,
# as the nearest BGP announcement would.
declare -A CLI_ANYCAST_GW=([cli1]=gw1 [cli2]=gw2 [cli3]=gw3)
# One connection per identity; the identities and PSKs are in TEMPLATE.
declare -A CLI_CONNS=([cli1]="alice bob carol" [cli2]="dave erin"
    [cli3]="frank grace heidi")
# Node whose route decides where a client's traffic goes: the NAT router
# for client 3.
declare -A CLI_ROUTER=([cli1]=cli1 [cli2]=cli2 [cli3]=cli3)
NAT_ROUTER=rtr3
NAT_INSIDE_CLIENT=203.0.113.242/28
NAT_INSIDE_ROUTER=203.0.113.241/28
DEMO_NAT=${DEMO_NAT:-1}
DEMO_CONTROLLER=${DEMO_CONTROLLER:-1}

# The control node of the controller story: Redis and ikeshift-controller,
# whose API listens on the node's loopback address only.
CTL_NODE=ctl
CTL_ADDR=198.51.100.5
REDIS_PORT=6379
# shipped: the users of deploy/redis/users.acl with passwords made for the
# run; lab: one lab-only user "ikeshift" for the controller and the agents.
DEMO_REDIS_ACL=${DEMO_REDIS_ACL:-shipped}
if [ "$DEMO_REDIS_ACL" = shipped ]; then
    REDIS_USER=ikeshift-controller
    REDIS_AGENT_USER=ikeshift-agent
else
    REDIS_USER=ikeshift
    REDIS_AGENT_USER=ikeshift
fi
API_URL=http://127.0.0.1:8680
# The API of the standby controller ctl-b, in the same node.
STANDBY_URL=http://127.0.0.1:8681
# Whether the controller story runs a standby and ends with a failover.
DEMO_FAILOVER=${DEMO_FAILOVER:-1}
# Slow start of a gateway that returns to active, short enough for the
# ramp to show within the step.
SLOW_START=20s
# Sessions per gateway may differ by at most this much after arrival.
BALANCE_TOLERANCE=1

# The steps in order, each a function step_<name> with a title in
# STEP_TITLE.  The controller story's steps are in cluster.sh.
DEMO_STEPS=(topology anycast maintenance restart drain)
if [ "$DEMO_CONTROLLER" = 1 ]; then
    DEMO_STEPS=(topology plan_arrival)
    [ "$DEMO_ROGUE" = 1 ] && DEMO_STEPS+=(ctl_identity)
    DEMO_STEPS+=(ctl_drain ctl_resume ctl_sigterm ctl_api)
    [ "$DEMO_FAILOVER" = 1 ] && DEMO_STEPS+=(ctl_failover)
    [ "${DEMO_CAPTURE:-1}" = 1 ] && DEMO_STEPS+=(client_view)
fi
declare -A STEP_TITLE=(
    [topology]="topology: 3 gateways, 3 clients, one anycast address"
    [anycast]="clients dial the anycast address and are redirected"
    [maintenance]="maintenance: every session leaves gateway 1"
    [restart]="gateway 1 restarts and takes new clients"
    [drain]="gateway 3 drains itself on SIGTERM"
    [plan_arrival]="clients arrive by the controller's plan, balanced"
    [ctl_identity]="a gateway with the wrong identity gets no clients"
    [ctl_drain]="ikeshiftctl drain gw1 --wait empties gateway 1"
    [ctl_resume]="gw1 restarts, ikeshiftctl resume gw1, slow start"
    [ctl_sigterm]="gateway 3 drains itself on SIGTERM in cluster mode"
    [ctl_api]="the JSON API read with curl"
    [ctl_failover]="the standby controller takes over the lease"
    [client_view]="the clients' captures: make-before-break, live targets"
)

# ---------------------------------------------------------------------------
# Output

CHECKS_PASSED=0
CHECKS_FAILED=0

# Prints a paragraph of plain text, indented.
say()
{
    printf '%s\n' "$*" | fold -s -w 74 | sed 's/^/  /'
}

# Runs check function CMD ARGS in this shell with its output in a file,
# then prints "ok" or "FAIL", the description WHAT and the output as
# evidence.  Returns the status of CMD.
check()
{
    local what=$1 rc out=$LAB_DIR/demo/check.out

    shift
    "$@" >"$out" 2>&1
    rc=$?
    if [ "$rc" = 0 ]; then
        printf '  ok    %s\n' "$what"
        CHECKS_PASSED=$((CHECKS_PASSED + 1))
    else
        printf '  FAIL  %s\n' "$what"
        CHECKS_FAILED=$((CHECKS_FAILED + 1))
    fi
    sed 's/^/          /' "$out"
    return "$rc"
}

# Prints the IKE SAs of client NAME (connection CONN only, if given) in a
# short form: connection, state, addresses, virtual IP, CHILD SAs.
client_sas()
{
    sw_list_sas "$1" "${2:-}" | awk '{
        for (i = 1; i <= NF; i++) {
            k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v
        }
        printf "%s: %-6s %s %s -> %s vip %s child %s\n", cli, f["name"],
            f["state"], f["local"], f["remote"], f["vip"], f["children"]
    }' cli="$1"
}

# Prints the IKE SAs of the agent of gateway GW in a short form.
agent_sas()
{
    ag_list_sas "$1" | awk '{
        for (i = 1; i <= NF; i++) {
            k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v
        }
        printf "%s ctl list: %s %s peer %s vip %s\n", gw, f["id"], f["state"],
            f["peer"], f["vip"]
    }' gw="$1"
}

# Prints the PSK of identity ID from the gateway template.
template_psk()
{
    jq -r --arg id "$1" '.clients[] | select(.id == $id) | .psk' "$TEMPLATE"
}

# Prints the remote address of client NAME's IKE SA of connection CONN
# (empty if it has none).
conn_remote()
{
    sw_list_sas "$1" "$2" | sw_sa_field remote | head -n 1
}

# Prints the gateway that has unicast address ADDR.
gw_of_addr()
{
    local gw

    for gw in "${GATEWAYS[@]}"; do
        [ "${GW_ADDR[$gw]}" = "$1" ] && { echo "$gw"; return 0; }
    done
    return 1
}

# ---------------------------------------------------------------------------
# Building blocks

# Writes the agent configuration of gateway GW from the template: its
# unicast address, its pool, its own unicast address as anycast target
# and its drain target.  The control socket sits in the instance
# directory, where ag_ctl looks for it.
gateway_config()
{
    local gw=$1 dir out

    dir=$(ag_dir "$gw")
    mkdir -p "$dir" || return 1
    echo "$gw" >"$dir/node"
    jq --arg listen "${GW_LISTEN[$gw]:-${GW_ADDR[$gw]}}" \
        --arg public "${GW_ADDR[$gw]}" --arg anycast "$ANYCAST" \
        --arg pool "${GW_POOL[$gw]}" --arg drain "${GW_DRAIN[$gw]}" \
        --arg inner "$INNER" --arg ike "$IKE_PROPOSAL" \
        --arg esp "$ESP_PROPOSAL" --arg sock "$dir/ctl.sock" \
        --arg identity "${GW_IDENTITY[$gw]:-}" '
        .listen.unicast = [$listen] | .listen.anycast = [$anycast]
        | .pool = $pool | .protected_subnets = [$inner]
        | .ike_proposals = [$ike] | .esp_proposals = [$esp]
        | .policy.anycast_target = $public | .policy.drain_target = $drain
        | .control_socket = $sock
        | if $identity != "" then .identity.value = $identity else . end' \
        "$TEMPLATE" >"$dir/agent.json" || return 1
    if [ "$DEMO_CONTROLLER" = 1 ] && [ "${GW_STANDALONE[$gw]:-0}" = 0 ]; then
        jq --arg redis "$CTL_ADDR:$REDIS_PORT" --arg user "$REDIS_AGENT_USER" \
            --arg pw "$LAB_DIR/ctl/redis-agent.password" --arg id "$gw" \
            --arg listen "${GW_LISTEN[$gw]:-${GW_ADDR[$gw]}}" \
            --arg public "${GW_ADDR[$gw]}" '
            .cluster = { redis: $redis, user: $user, password_file: $pw,
                gateway_id: $id, report_interval: "500ms",
                plan_reread_interval: "1s", move_poll_interval: "100ms" }
            | if $listen != $public then .cluster.public_address = $public
              else . end
            | del(.policy.drain_target)' \
            "$dir/agent.json" >"$dir/agent.json.new" &&
            mv "$dir/agent.json.new" "$dir/agent.json" || return 1
    fi
    if ! out=$("$(ag_bin)" -c "$dir/agent.json" --check-config 2>&1); then
        lab_err "configuration of $gw is invalid: $out"
        return 1
    fi
}

# Starts the agent of gateway GW: in cluster mode with cluster_agent_start
# (cluster.sh), else with the harness's ag_start.
gateway_start()
{
    if [ "$DEMO_CONTROLLER" = 1 ]; then
        cluster_agent_start "$1"
    else
        ag_start "$1"
    fi
}

# Writes client NAME: strongSwan with kernel-libipsec and one connection
# per identity in CLI_CONNS, each dialling the anycast address with a
# virtual IP request and CHILD SA "net" for the inner network.
client_config()
{
    local cli=$1 conn id

    # NOTE: charon 5.9.8 sometimes drops the IKE_SA_INIT response that
    # follows a REDIRECT, and logs "ignoring request with ID 0, already
    # processing".  On one host the response can arrive while the thread
    # that handled the REDIRECT still has the IKE SA checked out.  charon
    # then retransmits the request, by default after 4 s, so the demo's
    # clients use 1 s.
    sw_setup "$cli" "$cli" --libipsec --ike-log "$CLIENT_IKE_LOG" \
        --conf 'retransmit_timeout = 1.0' ||
        return 1
    for conn in ${CLI_CONNS[$cli]}; do
        id=$conn@example.net
        sw_conn "$cli" "$conn" remote_addrs="$ANYCAST" local_id="$id" \
            remote_id="$(jq -r .identity.value "$TEMPLATE")" \
            secret="$(template_psk "$id")" vips=0.0.0.0 child=net \
            remote_ts="$INNER" proposals="$IKE_PROPOSAL" \
            esp="$ESP_PROPOSAL" || return 1
    done
}

# Sends SIGNAL to the agent of gateway GW and waits up to TIMEOUT seconds
# for it to exit.  Stores its exit status in AGENT_STATUS (255 on timeout,
# and the agent then gets SIGKILL).  `wait` returns the status of children
# of this shell only, so this must not run in a subshell, and gateway_start
# must have been called in this shell too.
AGENT_STATUS=
agent_signal()
{
    local gw=$1 sig=$2 timeout=$3 pid i

    AGENT_STATUS=

    pid=$(cat "$(ag_dir "$gw")/pid") || return 1
    ag_alive "$gw" || lab_err "agent $gw (PID $pid) is not running" ||
        return
    kill -s "$sig" "$pid" || return 1
    for ((i = 0; i < timeout * 10; i++)); do
        ag_alive "$gw" || break
        sleep 0.1
    done
    if ag_alive "$gw"; then
        lab_err "agent $gw (PID $pid) still runs ${timeout}s after SIG$sig;" \
            "sending SIGKILL"
        kill -s KILL "$pid"
        wait "$pid" 2>/dev/null
        AGENT_STATUS=255
        return 0
    fi
    wait "$pid"
    AGENT_STATUS=$?
}

# Prints how many IKE SAs the agent of gateway GW lists.
agent_count()
{
    local out

    out=$(ag_list_sas "$1") || return 1
    grep -c '^ispi=' <<<"$out"
    return 0
}

# Waits up to TIMEOUT seconds until the agent of gateway GW lists no SA.
agent_wait_empty()
{
    local gw=$1 timeout=$2 i

    for ((i = 0; i < timeout * 10; i++)); do
        [ "$(agent_count "$gw")" = 0 ] && return 0
        sleep 0.1
    done
    lab_err "agent $gw still lists SAs after ${timeout}s"
    agent_sas "$gw"
    return 1
}

# ---------------------------------------------------------------------------
# Checks.  Each prints its evidence and returns 0 on success.

check_gateway_addresses()
{
    local gw rc=0 out

    for gw in "${GATEWAYS[@]}"; do
        out=$(lab_exec "$gw" ip -4 -br addr show | awk '{$2 = ""; print}' |
            tr -s ' ' | paste -sd' ')
        echo "$gw: $out"
        grep -q " ${GW_LISTEN[$gw]}/" <<<"$out" || rc=1
        grep -q "lo .*$ANYCAST/32" <<<"$out" || rc=1
    done
    return "$rc"
}

check_agents_empty()
{
    local gw rc=0 n

    for gw in "${GATEWAYS[@]}"; do
        n=$(agent_count "$gw") || rc=1
        echo "$gw: ikeshift-agent PID $(cat "$(ag_dir "$gw")/pid"), ctl list: $n SAs"
        [ "$n" = 0 ] || rc=1
    done
    return "$rc"
}

check_anycast_routes()
{
    local cli rc=0 node via out

    for cli in "${CLIENTS[@]}"; do
        node=${CLI_ROUTER[$cli]}
        via=${GW_ADDR[${CLI_ANYCAST_GW[$cli]}]}
        out=$(lab_exec "$node" ip route get "$ANYCAST" | head -n 1)
        echo "$node: ${out% uid 0 }"
        [[ $out == *" via $via "* ]] || rc=1
        if [ "$node" != "$cli" ]; then
            out=$(lab_exec "$cli" ip route get "$ANYCAST" | head -n 1)
            echo "$cli: ${out% uid 0 }"
        fi
        lab_route_check "$cli" "$ANYCAST" || rc=1
    done
    return "$rc"
}

check_clients_loaded()
{
    local cli rc=0 n want

    for cli in "${CLIENTS[@]}"; do
        n=$(sw_swanctl "$cli" --list-conns | grep -c '^[a-z]*: IKEv2')
        want=$(wc -w <<<"${CLI_CONNS[$cli]}")
        echo "$cli: charon PID $(cat "$(sw_dir "$cli")/pid"), $n connections" \
            "loaded (${CLI_CONNS[$cli]})"
        [ "$n" = "$want" ] || rc=1
    done
    return "$rc"
}

check_nat_router()
{
    lab_exec "$NAT_ROUTER" nft list table inet labnat | grep masquerade |
        sed "s/^[[:space:]]*/$NAT_ROUTER nft: /"
    lab_exec cli3 ip -4 -br addr show dev eth0 | sed 's/^/cli3: /'
    [ "${PIPESTATUS[0]}" = 0 ]
}

check_dnat_router()
{
    lab_exec "$DNAT_ROUTER" nft list chain inet labnat prerouting |
        grep dnat | sed "s/^[[:space:]]*/$DNAT_ROUTER nft: /"
    [ "${PIPESTATUS[1]}" = 0 ] || return 1
    lab_exec "$DNAT_GW" ip -4 -br addr show dev eth0 | sed "s/^/$DNAT_GW: /"
    echo "$DNAT_GW agent: listen.unicast" \
        "$(jq -c .listen.unicast "$(ag_dir "$DNAT_GW")/agent.json")," \
        "cluster.public_address" \
        "$(jq -c '.cluster.public_address // "-"' \
            "$(ag_dir "$DNAT_GW")/agent.json")"
}

# Succeeds if connection CONN of client CLI is established with gateway
# GW, with CHILD SA "net" installed and a virtual IP from GW's pool.
# Waits up to 10 s and prints the SA.
check_conn_on()
{
    local cli=$1 conn=$2 gw=$3 sa children vip i

    sa=$(sw_wait_sa "$cli" "$conn" ESTABLISHED "${GW_ADDR[$gw]}" 10) ||
        return 1
    for ((i = 0; i < 50; i++)); do
        children=$(sw_sa_field children <<<"$sa")
        [[ ,$children == *,net:INSTALLED:* ]] && break
        sleep 0.1
        sa=$(sw_list_sas "$cli" "$conn" | grep "remote=${GW_ADDR[$gw]} ")
    done
    client_sas "$cli" "$conn" | grep -- "-> ${GW_ADDR[$gw]} "
    [[ ,$children == *,net:INSTALLED:* ]] ||
        lab_err "CHILD SA net of $cli/$conn is not installed" || return
    vip=$(sw_sa_field vip <<<"$sa")
    AC_POOL=${GW_POOL[$gw]} ac_vip_in_pool "$vip" ||
        lab_err "virtual IP $vip is not from $gw's pool ${GW_POOL[$gw]}" ||
        return
}

# Succeeds if every connection of client CLI is established with GW.
check_client_on()
{
    local cli=$1 gw=$2 conn rc=0

    for conn in ${CLI_CONNS[$cli]}; do
        check_conn_on "$cli" "$conn" "$gw" || rc=1
    done
    return "$rc"
}

# Succeeds if the agent of GW lists exactly the identities of the
# connections in WANT (a space-separated list), each established.
check_agent_lists()
{
    local gw=$1 want=$2 got conn rc=0

    agent_sas "$gw"
    got=$(ag_list_sas "$gw" | sw_sa_field id | sed 's/@example.net$//' |
        sort | paste -sd' ')
    want=$(tr ' ' '\n' <<<"$want" | sed '/^$/d' | sort | paste -sd' ')
    [ "$got" = "$want" ] ||
        lab_err "$gw lists '${got:-nothing}', expected '${want:-nothing}'" ||
        rc=1
    if ag_list_sas "$gw" | grep -v -q -i ' state=established '; then
        lab_err "$gw lists SAs that are not established"
        rc=1
    fi
    return "$rc"
}

# Prints the sessions per gateway as a table and succeeds.
print_sessions()
{
    local gw n ids

    printf '%-5s %-15s %-8s %s\n' gateway unicast sessions identities
    for gw in "${GATEWAYS[@]}"; do
        if ! ag_alive "$gw"; then
            printf '%-5s %-15s %-8s %s\n' "$gw" "${GW_ADDR[$gw]}" - stopped
            continue
        fi
        n=$(agent_count "$gw")
        ids=$(ag_list_sas "$gw" | sw_sa_field id | sed 's/@example.net$//' |
            sort | paste -sd' ')
        printf '%-5s %-15s %-8s %s\n' "$gw" "${GW_ADDR[$gw]}" "$n" "${ids:--}"
    done
}

# Succeeds if the client log of CLI shows that the IKE SA of CONN with
# unique id NEW_ID was established with TO before the one with id OLD_ID
# was deleted, and prints the two lines.
check_make_before_break()
{
    local cli=$1 conn=$2 old_id=$3 new_id=$4 to=$5 log est del

    log=$(sw_dir "$cli")/charon.log
    est=$(grep -n -E "IKE_SA $conn\[$new_id\] established between .*\.\.\.$to\[" \
        "$log" | head -n 1)
    del=$(grep -n -E "deleting IKE_SA $conn\[$old_id\] between" "$log" |
        head -n 1)
    printf '%s log line %s\n' \
        "$cli" "${est:-(none): no \"IKE_SA ${conn}[$new_id] established\"}" \
        "$cli" "${del:-(none): no \"deleting IKE_SA ${conn}[$old_id]\"}" |
        sed -E 's/^([^ ]+ log line [0-9]+):/\1: /; s/ [0-9]+\[IKE\] / /'
    [ -n "$est" ] && [ -n "$del" ] && [ "${est%%:*}" -lt "${del%%:*}" ]
}

# Records the unique ids of client CLI's IKE SAs with gateway GW in
# OLD_IDS[cli/conn].
declare -A OLD_IDS=()
record_ids()
{
    local cli=$1 gw=$2 line conn id

    while read -r line; do
        [ -n "$line" ] || continue
        conn=$(sw_sa_field name <<<"$line")
        id=$(sw_sa_field id <<<"$line")
        OLD_IDS[$cli/$conn]=$id
    done < <(sw_list_sas "$cli" | grep "remote=${GW_ADDR[$gw]} ")
}

# Succeeds if each connection in OLD_IDS of client CLI now has a new IKE
# SA with gateway TO_GW (CHILD SA, virtual IP from TO_GW's pool), no SA
# with FROM_GW, and a log that shows make-before-break.
check_moved()
{
    local cli=$1 from_gw=$2 to_gw=$3 key conn new_id rc=0 i

    for key in "${!OLD_IDS[@]}"; do
        [[ $key == "$cli"/* ]] || continue
        conn=${key#*/}
        check_conn_on "$cli" "$conn" "$to_gw" || { rc=1; continue; }
        for ((i = 0; i < 50; i++)); do
            [ "$(conn_remote "$cli" "$conn" | grep -c "${GW_ADDR[$from_gw]}")" = 0 ] &&
                break
            sleep 0.1
        done
        if sw_list_sas "$cli" "$conn" | grep -q "remote=${GW_ADDR[$from_gw]} "; then
            lab_err "$cli/$conn still has an SA with $from_gw"
            rc=1
        fi
        new_id=$(sw_list_sas "$cli" "$conn" |
            grep "remote=${GW_ADDR[$to_gw]} " | sw_sa_field id | head -n 1)
        check_make_before_break "$cli" "$conn" "${OLD_IDS[$key]}" \
            "$new_id" "${GW_ADDR[$to_gw]}" || rc=1
    done
    return "$rc"
}

# ---------------------------------------------------------------------------
# Steps

step_topology()
{
    local gw cli

    say "Three gateway namespaces get a unicast address each and the" \
        "shared anycast address $ANYCAST on lo; an ikeshift-agent runs in" \
        "each. Three client namespaces run strongSwan with 2-3" \
        "connections each, one identity per connection, and route" \
        "$ANYCAST to a different gateway, as BGP would send each to its" \
        "nearest one."
    [ "$DEMO_NAT" = 1 ] &&
        say "Client 3 sits behind a router that masquerades it (NAT)."
    [ "$DEMO_DNAT" = 1 ] &&
        say "Gateway 3 sits behind a router with destination NAT: it" \
            "listens on ${GW_LISTEN[$DNAT_GW]}, and clients reach it only" \
            "at its public address ${GW_ADDR[$DNAT_GW]}, which its agent" \
            "reports so that the plan can name it."
    lab_init || return 1
    mkdir -p "$LAB_DIR/demo" || return 1
    # Stop the agents with SIGINT before the harness cleanup, because on
    # its SIGTERM an agent with a drain target would start a drain instead
    # of exiting.
    trap 'demo_cleanup' EXIT
    trap 'demo_cleanup 130; trap - INT; kill -s INT $$' INT
    trap 'demo_cleanup 143; exit 143' TERM

    if [ "$DEMO_CONTROLLER" = 1 ]; then
        control_start || return 1
    fi
    for gw in "${GATEWAYS[@]}"; do
        if [ "$gw" = "$DNAT_GW" ] && [ "$DEMO_DNAT" = 1 ]; then
            lab_node_add "$DNAT_ROUTER" "${GW_ADDR[$gw]}/24" || return 1
            lab_nat_add "$gw" "$DNAT_ROUTER" "$DNAT_INSIDE_GW" \
                "$DNAT_INSIDE_ROUTER" || return 1
            lab_dnat_add "$DNAT_ROUTER" "${GW_ADDR[$gw]}" \
                "${GW_LISTEN[$gw]}" || return 1
            # The anycast address is routed, not translated.
            lab_route_set "$DNAT_ROUTER" "$ANYCAST/32" "${GW_LISTEN[$gw]}" ||
                return 1
        else
            lab_node_add "$gw" "${GW_ADDR[$gw]}/24" || return 1
        fi
        lab_addr_add "$gw" "$ANYCAST/32" lo || return 1
        gateway_config "$gw" || return 1
        gateway_start "$gw" || return 1
    done
    lab_node_add cli1 "${CLI_ADDR[cli1]}/24" || return 1
    lab_node_add cli2 "${CLI_ADDR[cli2]}/24" || return 1
    if [ "$DEMO_NAT" = 1 ]; then
        lab_node_add "$NAT_ROUTER" "${CLI_ADDR[cli3]}/24" || return 1
        lab_nat_add cli3 "$NAT_ROUTER" "$NAT_INSIDE_CLIENT" \
            "$NAT_INSIDE_ROUTER" || return 1
        CLI_ROUTER[cli3]=$NAT_ROUTER
    else
        lab_node_add cli3 "${CLI_ADDR[cli3]}/24" || return 1
    fi
    for cli in "${CLIENTS[@]}"; do
        lab_route_set "${CLI_ROUTER[$cli]}" "$ANYCAST/32" \
            "${GW_ADDR[${CLI_ANYCAST_GW[$cli]}]}" || return 1
        client_config "$cli" || return 1
        sw_start "$cli" || return 1
        sw_load "$cli" || return 1
    done
    if [ "$DEMO_CAPTURE" = 1 ] && [ "$DEMO_CONTROLLER" = 1 ]; then
        view_start || return 1
    fi

    local rc=0
    check "each gateway has its unicast address and $ANYCAST on lo" \
        check_gateway_addresses || rc=1
    check "an ikeshift-agent runs on each gateway and lists no SA" \
        check_agents_empty || rc=1
    check "each client routes $ANYCAST to its own gateway" \
        check_anycast_routes || rc=1
    check "each client's charon loaded its connections" \
        check_clients_loaded || rc=1
    if [ "$DEMO_NAT" = 1 ]; then
        check "client 3 sits behind $NAT_ROUTER, which masquerades it" \
            check_nat_router || rc=1
    fi
    if [ "$DEMO_DNAT" = 1 ]; then
        check "$DNAT_GW sits behind $DNAT_ROUTER, which forwards IKE for ${GW_ADDR[$DNAT_GW]} to ${GW_LISTEN[$DNAT_GW]}" \
            check_dnat_router || rc=1
    fi
    if [ "$DEMO_CONTROLLER" = 1 ]; then
        check "Redis asks for AUTH and lets the $REDIS_USER user in" \
            check_redis_acl || rc=1
        check "the controller leads and lists the 3 gateways as live" \
            check_cluster_live || rc=1
    fi
    return "$rc"
}

# Initiates every connection of every client.
initiate_all()
{
    local cli conn rc=0

    for cli in "${CLIENTS[@]}"; do
        for conn in ${CLI_CONNS[$cli]}; do
            sw_initiate "$cli" "$conn" 10 net || rc=1
        done
    done
    return "$rc"
}

check_init_redirects()
{
    local gw rc=0 n want cli

    for gw in "${GATEWAYS[@]}"; do
        want=0
        for cli in "${CLIENTS[@]}"; do
            [ "${CLI_ANYCAST_GW[$cli]}" = "$gw" ] &&
                want=$((want + $(wc -w <<<"${CLI_CONNS[$cli]}")))
        done
        n=$(ag_log_grep "$gw" "redirecting peer; stage=ike_sa_init .*gw=${GW_ADDR[$gw]}\$" |
            wc -l)
        echo "$gw: ctl counters redirects_sent_init=$(ag_counter "$gw" \
            redirects_sent_init); $n log lines with a REDIRECT to" \
            "${GW_ADDR[$gw]}"
        [ "$n" = "$want" ] || rc=1
        [ "$(ag_counter "$gw" redirects_sent_init)" = "$want" ] || rc=1
    done
    ag_log_grep gw1 "redirecting peer; stage=ike_sa_init" | head -n 1 |
        sed 's/^/gw1 log: /'
    return "$rc"
}

check_nat_detected()
{
    local line

    sw_log_grep cli3 "local host is behind NAT" | head -n 1 |
        sed -E 's/^[0-9:]+ [0-9]+\[IKE\] /cli3 log: /'
    line=$(ag_list_sas gw3 | head -n 1)
    echo "gw3 ctl list: peer $(sw_sa_field peer <<<"$line")" \
        "(the router's address), client inside ${NAT_INSIDE_CLIENT%/*}"
    sw_log_grep cli3 "local host is behind NAT" >/dev/null &&
        [[ $(sw_sa_field peer <<<"$line") == "${CLI_ADDR[cli3]}:"* ]]
}

step_anycast()
{
    local cli gw rc=0 want

    say "Every connection dials $ANYCAST. The gateway its route leads to" \
        "answers IKE_SA_INIT with a REDIRECT to its own unicast address" \
        "(RFC 5685), and the client sets up its IKE SA, virtual IP and" \
        "CHILD SA there."
    initiate_all || rc=1
    for cli in "${CLIENTS[@]}"; do
        gw=${CLI_ANYCAST_GW[$cli]}
        check "$cli's connections are established on $gw (${GW_ADDR[$gw]})" \
            check_client_on "$cli" "$gw" || rc=1
    done
    check "each gateway redirected the anycast arrivals to its unicast address" \
        check_init_redirects || rc=1
    for gw in "${GATEWAYS[@]}"; do
        want=''
        for cli in "${CLIENTS[@]}"; do
            [ "${CLI_ANYCAST_GW[$cli]}" = "$gw" ] &&
                want="$want ${CLI_CONNS[$cli]}"
        done
        check "$gw's agent lists the sessions of its clients" \
            check_agent_lists "$gw" "$want" || rc=1
    done
    if [ "$DEMO_NAT" = 1 ]; then
        check "client 3 detected the NAT and gw3 sees the router's address" \
            check_nat_detected || rc=1
    fi
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

# Moves every IKE SA off gateway FROM to gateway TO with `ctl move`, one
# call per peer address, and prints the replies.
move_all()
{
    local from=$1 to=$2 peer out rc=0

    for peer in $(ag_list_sas "$from" | sw_sa_field peer | sed 's/:[0-9]*$//' |
        sort -u); do
        out=$(ag_move "$from" --peer "$peer" --to "${GW_ADDR[$to]}") ||
            { rc=1; continue; }
        echo "$from: ikeshift-agent ctl move --peer $peer" \
            "--to ${GW_ADDR[$to]}: $out"
    done
    return "$rc"
}

# Succeeds if gateway FROM lists no SA and the init_redirected_from_accepted
# counter of gateway TO grew from BEFORE by MOVED.  Prints both counters.
check_gateway_empty()
{
    local from=$1 to=$2 moved=$3 before=$4 after

    agent_wait_empty "$from" 10 || return 1
    echo "$from ctl list: $(agent_count "$from") SAs"
    echo "$from ctl counters: redirects_sent_midsession=$(ag_counter \
        "$from" redirects_sent_midsession)"
    after=$(ag_counter "$to" init_redirected_from_accepted) || return 1
    echo "$to ctl counters: init_redirected_from_accepted=$after" \
        "($before before the move)"
    [ $((after - before)) = "$moved" ]
}

step_maintenance()
{
    local cli rc=0 before
    local -a moved=()

    say "Before maintenance, every session leaves gateway 1: 'ikeshift-agent" \
        "ctl move' sends each of its clients an INFORMATIONAL REDIRECT to" \
        "gateway 2. Each client builds its new IKE SA on gateway 2 and only" \
        "then deletes the old one."
    OLD_IDS=()
    for cli in "${CLIENTS[@]}"; do
        record_ids "$cli" gw1
        [[ " ${!OLD_IDS[*]}" == *" $cli/"* ]] && moved+=("$cli")
    done
    before=$(ag_counter gw2 init_redirected_from_accepted) || return 1
    check "ctl move sends every session of gw1 to gw2" move_all gw1 gw2 ||
        rc=1
    for cli in "${moved[@]}"; do
        check "$cli's sessions moved to gw2, new IKE SA before old deleted" \
            check_moved "$cli" gw1 gw2 || rc=1
    done
    check "gw1 holds no SA, gw2 accepted the moved clients" \
        check_gateway_empty gw1 gw2 "${#OLD_IDS[@]}" "$before" || rc=1
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

check_agent_stopped()
{
    agent_signal gw1 INT 5 || return 1
    echo "gw1: agent exited with status $AGENT_STATUS after SIGINT"
    ag_log_grep gw1 "deleting every IKE SA|stopped" | sed 's/^/gw1 log: /'
    [ "$AGENT_STATUS" = 0 ]
}

check_agent_restarted()
{
    cp "$(ag_dir gw1)/agent.log" "$(ag_dir gw1)/agent-before-restart.log"
    gateway_start gw1 || return 1
    echo "gw1: ikeshift-agent PID $(cat "$(ag_dir gw1)/pid"), ctl list:" \
        "$(agent_count gw1) SAs"
    [ "$(agent_count gw1)" = 0 ]
}

check_reconnect()
{
    local from

    from=$(gw_of_addr "$(conn_remote cli1 alice)") ||
        lab_err "cli1/alice has no SA" || return
    sw_terminate cli1 alice 5 || return 1
    echo "cli1: swanctl --terminate --ike alice (was on $from)"
    sw_initiate cli1 alice 10 net || return 1
    echo "cli1: swanctl --initiate --ike alice (to $ANYCAST)"
    check_conn_on cli1 alice gw1 || return 1
    ag_log_grep gw1 "redirecting peer; stage=ike_sa_init peer=${CLI_ADDR[cli1]}" |
        sed 's/^/gw1 log: /'
    agent_sas gw1
    ag_list_sas gw1 | grep -q -i "id=alice@example.net state=established" ||
        return 1
    if ag_list_sas "$from" | grep -q "id=alice@example.net "; then
        lab_err "$from still lists alice"
        return 1
    fi
}

step_restart()
{
    local rc=0

    say "Gateway 1's agent is stopped, as for a software update, and" \
        "started again. Client 1 then reconnects alice: its route to" \
        "$ANYCAST still leads to gateway 1, which takes the client again."
    check "gw1's agent stops and exits 0" check_agent_stopped || return 1
    check "gw1's agent starts again with no SA" check_agent_restarted ||
        return 1
    check "cli1 reconnects alice through $ANYCAST and lands on gw1" \
        check_reconnect || rc=1
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

# Sends SIGTERM to gateway 3's agent and prints its exit status and drain
# log lines.  Succeeds on exit status 0.
check_drain_exit()
{
    agent_signal gw3 TERM 40 || return 1
    echo "gw3: agent exited with status $AGENT_STATUS after SIGTERM"
    ag_log_grep gw3 "draining|stage=informational|drain complete|deadline" |
        sed -E 's/^[0-9-]+T([0-9:.]+)Z [^ ]+ [a-z]+ [a-z]+: /\1 /' |
        sed 's/^/gw3 log: /'
    [ "$AGENT_STATUS" = 0 ] && ag_log_grep gw3 "drain complete" >/dev/null
}

# Succeeds if the drain REDIRECTs in gateway 3's log are at least
# 400 ms apart: drain.batch is 1 and drain.interval 500ms in the
# template.
check_drain_paced()
{
    ag_log_grep gw3 "stage=informational" |
        awk '{
            t = $1; sub(/^.*T/, "", t); sub(/Z$/, "", t)
            split(t, p, ":"); ms = (p[1] * 3600 + p[2] * 60 + p[3]) * 1000
            if (n++ > 0) {
                printf "gap %d ms\n", ms - last
                if (ms - last < 400) bad = 1
            }
            last = ms
        } END { exit (bad || n < 2) }'
}

step_drain()
{
    local rc=0 cli

    say "Gateway 3's agent gets SIGTERM, as systemd sends on stop. It takes" \
        "no new clients, sends its clients paced INFORMATIONAL REDIRECTs" \
        "to its drain target (gw1, ${GW_DRAIN[gw3]}) and exits 0 once no SA" \
        "is left."
    OLD_IDS=()
    for cli in "${CLIENTS[@]}"; do
        record_ids "$cli" gw3
    done
    check "gw3's agent drains and exits 0" check_drain_exit || rc=1
    check "the drain REDIRECTs are paced (1 per 500 ms)" check_drain_paced ||
        rc=1
    for cli in "${CLIENTS[@]}"; do
        [[ " ${!OLD_IDS[*]}" == *" $cli/"* ]] || continue
        check "$cli's sessions moved to gw1, new IKE SA before old deleted" \
            check_moved "$cli" gw3 "$(gw_of_addr "${GW_DRAIN[gw3]}")" || rc=1
    done
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

# ---------------------------------------------------------------------------
# The controller story (DEMO_CONTROLLER=1)

. "$HERE/cluster.sh"
. "$HERE/clientview.sh"

# ---------------------------------------------------------------------------
# Cleanup and main

# Stops the agents with SIGINT (each deletes its SAs and exits), then runs
# the harness cleanup, which removes every process and namespace of this
# run, and the log directory after a pass.  After an interruption (status
# 130 or 143) the log directory is removed too, unless DEMO_KEEP=1; after
# a failure it is kept.
DEMO_CLEANED=0
demo_cleanup()
{
    local status=${1:-$?} gw pid f

    [ "$DEMO_CLEANED" = 0 ] || return "$status"
    DEMO_CLEANED=1
    # A second Ctrl-C must not cut the cleanup short and leave namespaces
    # and processes behind.
    trap '' INT TERM
    exec 1>&8 2>&9
    if [ "$status" = 130 ] || [ "$status" = 143 ]; then
        echo "demo: interrupted; stopping every process and removing every" \
            "namespace of run $LAB_PREFIX" >&2
    fi
    for f in plan-sampler.pid gw3-watcher.pid; do
        if [ -f "${LAB_DIR:-/nonexistent}/demo/$f" ]; then
            kill "$(cat "$LAB_DIR/demo/$f")" 2>/dev/null
        fi
    done
    for gw in "${GATEWAYS[@]}" "$ROGUE"; do
        if ag_alive "$gw" 2>/dev/null; then
            pid=$(cat "$(ag_dir "$gw")/pid")
            lab_kill "$pid" INT 3
        fi
    done
    if { [ "$status" = 130 ] || [ "$status" = 143 ]; } &&
        [ -z "${LAB_KEEP:-}" ]; then
        lab_cleanup 0
        echo "demo: interrupted; every namespace and process of run" \
            "$LAB_PREFIX is removed" >&2
    else
        lab_cleanup "$status"
    fi
    return "$status"
}

declare -A STEP_RESULT=() STEP_TIME=()
demo_start=$(date +%s.%N)
failed=0
n=0
for step in "${DEMO_STEPS[@]}"; do
    n=$((n + 1))
    if [ "$failed" = 1 ]; then
        STEP_RESULT[$step]=skipped
        STEP_TIME[$step]=-
        continue
    fi
    printf '\n%d. %s\n' "$n" "${STEP_TITLE[$step]}"
    t0=$(date +%s.%N)
    failed_before=$CHECKS_FAILED
    "step_$step"
    rc=$?
    if [ "$rc" != 0 ] && [ "$CHECKS_FAILED" = "$failed_before" ]; then
        # The step failed while it set things up, before a check ran.
        printf '  FAIL  setting up step %s (see the error above)\n' "$step"
        CHECKS_FAILED=$((CHECKS_FAILED + 1))
    fi
    STEP_TIME[$step]=$(awk -v a="$t0" -v b="$(date +%s.%N)" \
        'BEGIN { printf "%.1fs", b - a }')
    if [ "$rc" = 0 ]; then
        STEP_RESULT[$step]=ok
    else
        STEP_RESULT[$step]=FAIL
        failed=1
    fi
done

total=$(awk -v a="$demo_start" -v b="$(date +%s.%N)" \
    'BEGIN { printf "%.1fs", b - a }')
printf '\n%d. summary\n' $((n + 1))
printf '  %-4s %-60s %-7s %s\n' step title result time
n=0
for step in "${DEMO_STEPS[@]}"; do
    n=$((n + 1))
    printf '  %-4s %-60s %-7s %s\n' "$n" "${STEP_TITLE[$step]}" \
        "${STEP_RESULT[$step]}" "${STEP_TIME[$step]}"
done
if [ "$failed" = 0 ]; then
    printf '\ndemo: all %d checks passed in %s\n' "$CHECKS_PASSED" "$total"
    exit 0
fi
printf '\ndemo: %d checks failed, %d passed, in %s; logs in %s\n' \
    "$CHECKS_FAILED" "$CHECKS_PASSED" "$total" "${LAB_DIR:-(none)}"
exit 1
