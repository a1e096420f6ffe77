#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: mid-session redirect
# (INFORMATIONAL REDIRECT, RFC 5685 section 6) through the agent's control
# socket.  The client establishes with agent A, `ctl move --peer` sends it
# to agent B, and `ctl move --id` then sends the same client, which arrived
# at B through a redirect, on to agent C.  Each time the client must build
# the new IKE SA on the target first and only then delete the old one, as
# its log and the decrypted capture show, and the old agent must drop the
# SA once the client's Delete arrives.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=40

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/netns.sh
. "$HERE/../lib/netns.sh"
# shellcheck source=../lib/charon.sh
. "$HERE/../lib/charon.sh"
# shellcheck source=../lib/capture.sh
. "$HERE/../lib/capture.sh"
# shellcheck source=../agent/agent.sh
. "$HERE/../agent/agent.sh"
# shellcheck source=../agent/common.sh
. "$HERE/../agent/common.sh"

CLIENT=198.51.100.1
GW_A=198.51.100.2
GW_B=198.51.100.3
GW_C=198.51.100.4

# Moves the client from agent FROM (address FROM_ADDR) to agent TO at
# TO_ADDR with the ctl move selector SEL (--peer or --id and its value),
# and checks where it ends and the order in the client's log.
move_client()
{
    local from=$1 from_addr=$2 to=$3 to_addr=$4 sel=$5 val=$6 out sa agsa
    local old_id new_id est del

    old_id=$(sw_list_sas cli home | grep "remote=$from_addr " |
        sw_sa_field id)
    [ -n "$old_id" ] || lab_fail "client has no SA with $from_addr to move"
    if [ "$sel" = --peer ]; then
        out=$(ag_move "$from" --peer "$val" --to "$to_addr") ||
            lab_fail "ctl move on $from failed"
    else
        # ag_move checks routes only for --peer; check them here.
        lab_route_check "$(ag_node "$from")" "$CLIENT" || exit 1
        lab_route_check cli "$to_addr" || exit 1
        out=$(ag_move "$from" "$sel" "$val" --to "$to_addr") ||
            lab_fail "ctl move on $from failed"
    fi
    [ "$(jq -r .moved <<<"$out")" = 1 ] ||
        lab_fail "ctl move on $from moved no SA: $out"

    sa=$(sw_wait_sa cli home ESTABLISHED "$to_addr" 10) ||
        lab_fail "client did not establish with $to_addr after the move"
    sa=$(ac_client_check_child cli "$to_addr" "$sa") || exit 1
    new_id=$(sw_sa_field id <<<"$sa")
    lab_log "moved to $to_addr: $sa"
    agsa=$(ag_wait_sa "$to" ESTABLISHED "$CLIENT" 5) ||
        lab_fail "agent $to has no established SA with the client"
    ac_agent_check_sa "$agsa" "$(sw_sa_field vip <<<"$sa")"

    for ((i = 0; i < 50; i++)); do
        [ "$(ag_sa_count "$from")" = 0 ] &&
            ! sw_list_sas cli home | grep -q "remote=$from_addr " && break
        sleep 0.1
    done
    [ "$(ag_sa_count "$from")" = 0 ] ||
        lab_fail "agent $from keeps the old SA: $(ag_list_sas "$from")"
    if sw_list_sas cli home | grep -q "remote=$from_addr "; then
        lab_fail "client keeps its SA with $from_addr"
    fi
    ag_log_grep "$from" "redirecting peer; stage=informational .*gw=$to_addr" \
        >/dev/null || lab_fail "agent $from did not log the redirect"

    # The new SA is established before the old one is deleted.
    est=$(grep -n -E "IKE_SA home\[$new_id\] established between .*\.\.\.$to_addr\[" \
        "$(sw_dir cli)/charon.log" | head -n 1 | cut -d: -f1)
    del=$(grep -n -E "deleting IKE_SA home\[$old_id\] between" \
        "$(sw_dir cli)/charon.log" | head -n 1 | cut -d: -f1)
    [ -n "$est" ] || lab_fail "client log has no 'IKE_SA home[$new_id] established'"
    [ -n "$del" ] || lab_fail "client log has no 'deleting IKE_SA home[$old_id]'"
    [ "$est" -lt "$del" ] ||
        lab_fail "client deleted home[$old_id] (log line $del) before" \
            "home[$new_id] was established (line $est)"
}

# Fails unless capture cli shows, for a move from FROM_ADDR to TO_ADDR, in
# order: the INFORMATIONAL REDIRECT request from FROM_ADDR, the
# IKE_SA_INIT with REDIRECTED_FROM to TO_ADDR, the IKE_AUTH response from
# TO_ADDR, and only then the client's INFORMATIONAL Delete to FROM_ADDR.
check_order()
{
    local from_addr=$1 to_addr=$2 seen

    seen=$(ac_tshark cli cli -- -Y isakmp -T fields -e ip.src -e ip.dst \
        -e isakmp.exchangetype -e isakmp.flag_r -e isakmp.notify.msgtype \
        -e isakmp.typepayload | awk -F'\t' -v a="$from_addr" \
        -v b="$to_addr" -v c="$CLIENT" -v init="$AC_IKE_SA_INIT" \
        -v auth="$AC_IKE_AUTH" -v info="$AC_INFORMATIONAL" \
        -v redir="$AC_N_REDIRECT" -v rfrom="$AC_N_REDIRECTED_FROM" '
        function has(list, n,   parts, i, k) {
            k = split(list, parts, ",")
            for (i = 1; i <= k; i++) if (parts[i] == n) return 1
            return 0
        }
        # Delete payload: type 42 (RFC 7296 section 3.11).
        $1 == c && $2 == a && $3 == info && $4 == "0" && has($6, 42) {
            if (step < 3) { step = -1; exit }
            step = 4; exit
        }
        step == 0 && $1 == a && $2 == c && $3 == info && $4 == "0" &&
            has($5, redir) { step = 1; next }
        step == 1 && $1 == c && $2 == b && $3 == init && has($5, rfrom) {
            step = 2; next
        }
        step == 2 && $1 == b && $2 == c && $3 == auth && $4 == "1" {
            step = 3; next
        }
        END { print step + 0 }')
    case $seen in
    4) ;;
    -1) lab_fail "capture: the client sent Delete to $from_addr before its" \
        "SA with $to_addr was established" ;;
    0) lab_fail "capture: no INFORMATIONAL REDIRECT from $from_addr" ;;
    1) lab_fail "capture: no IKE_SA_INIT with REDIRECTED_FROM to $to_addr" ;;
    2) lab_fail "capture: no IKE_AUTH response from $to_addr" ;;
    *) lab_fail "capture: no INFORMATIONAL Delete from the client to" \
        "$from_addr after the new SA" ;;
    esac
}

ag_require
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" || lab_fail "node cli"
for gw in a b c; do
    case $gw in
    a) addr=$GW_A ;;
    b) addr=$GW_B ;;
    c) addr=$GW_C ;;
    esac
    lab_node_add "gw$gw" "$addr/24" || lab_fail "node gw$gw"
    ag_setup "ag$gw" "gw$gw" unicast="$addr" identity="$AC_GW_ID" \
        client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
        protected_subnets="$AC_INNER" || lab_fail "agent configuration gw$gw"
    ag_start "ag$gw" || lab_fail "agent on gw$gw did not start"
done
ac_client_setup cli cli "$GW_A" || lab_fail "client setup"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"
cap_start cli cli || lab_fail "capture on cli did not start"

sw_initiate cli home 10 net || lab_fail "client could not establish with A"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_A" 5) ||
    lab_fail "client is not established with A"
ag_wait_sa aga ESTABLISHED "$CLIENT" 5 >/dev/null ||
    lab_fail "agent A has no SA with the client"

move_client aga "$GW_A" agb "$GW_B" --peer "$CLIENT"
move_client agb "$GW_B" agc "$GW_C" --id "$AC_CLIENT_ID"

for gw in aga agb agc; do
    ag_check_alive "$gw" || lab_fail "agent $gw died"
done
sw_terminate cli home 5 || lab_fail "terminating the SA with C failed"
ac_capture_check cli cli
check_order "$GW_A" "$GW_B"
check_order "$GW_B" "$GW_C"
exit 0
