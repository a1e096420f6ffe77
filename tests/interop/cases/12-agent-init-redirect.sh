#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: IKE_SA_INIT-stage redirect
# (RFC 5685 section 4).  Agent 1 redirects every new client to agent 2
# (policy.redirect_all_to), once each with an IPv4, an IPv6 and an FQDN
# target (the client's hosts file maps the name).  Agent 2 redirects every
# new client too, to an address where no gateway runs, but it must serve
# this client because it arrives with REDIRECTED_FROM.  The client must end
# established on agent 2 with a virtual IP and a CHILD SA, and the capture
# must show REDIRECT, then REDIRECTED_FROM, then agent 2's IKE_AUTH
# response.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=45

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
CLIENT6=2001:db8:1::1
GW_A=198.51.100.2
GW_A6=2001:db8:1::2
GW_B=198.51.100.3
GW_B6=2001:db8:1::3
GW_B_NAME=gwb.example.net
# Agent 2's own redirect target; no node has this address.
NOWHERE=198.51.100.9

# Runs one redirect through agent 1 to TARGET, which the client reaches at
# address ADDR from its own address SRC.  TAG names agent 1's instance.
redirect_once()
{
    local tag=$1 target=$2 addr=$3 src=$4 sa agsa vip

    ag_setup "gw1$tag" gwa unicast="$GW_A,$GW_A6" identity="$AC_GW_ID" \
        client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
        protected_subnets="$AC_INNER" redirect_all_to="$target" ||
        lab_fail "agent 1 configuration ($target)"
    ag_start "gw1$tag" || lab_fail "agent 1 did not start ($target)"

    sw_initiate cli home 10 net || lab_fail "client could not establish" \
        "through the redirect to $target"
    sa=$(sw_wait_sa cli home ESTABLISHED "$addr" 5) ||
        lab_fail "client is not established with agent 2 at $addr"
    sa=$(ac_client_check_child cli "$addr" "$sa") || exit 1
    lab_log "redirect to $target, client: $sa"
    vip=$(sw_sa_field vip <<<"$sa")
    sw_log_grep cli "redirected to $target\$" >/dev/null ||
        lab_fail "client log has no 'redirected to $target'"

    agsa=$(ag_wait_sa gw2 ESTABLISHED "$src" 5) ||
        lab_fail "agent 2 has no established IKE SA from $src"
    lab_log "redirect to $target, agent 2: $agsa"
    ac_agent_check_sa "$agsa" "$vip"
    [ "$(ag_sa_count "gw1$tag")" = 0 ] ||
        lab_fail "agent 1 keeps an SA after the redirect:" \
            "$(ag_list_sas "gw1$tag")"
    ag_log_grep "gw1$tag" "redirecting peer; stage=ike_sa_init .*gw=$target" \
        >/dev/null || lab_fail "agent 1 did not log the redirect to $target"

    sw_terminate cli home 5 || lab_fail "terminating the SA at $addr failed"
    for ((i = 0; i < 30; i++)); do
        [ "$(ag_sa_count gw2)" = 0 ] && break
        sleep 0.1
    done
    [ "$(ag_sa_count gw2)" = 0 ] ||
        lab_fail "agent 2 keeps SAs after the Delete: $(ag_list_sas gw2)"
    ag_check_alive "gw1$tag" || lab_fail "agent 1 died"
    ag_stop "gw1$tag" INT
}

# Fails unless capture cli shows, for target address ADDR, in order: a
# REDIRECT in agent 1's IKE_SA_INIT response, the client's IKE_SA_INIT to
# ADDR with REDIRECTED_FROM, and the IKE_AUTH response from ADDR.
check_sequence()
{
    local addr=$1 src=$2 seen

    seen=$(awk -F'\t' -v a="$GW_A" -v c="$CLIENT" -v b="$addr" -v s="$src" \
        -v init="$AC_IKE_SA_INIT" -v auth="$AC_IKE_AUTH" \
        -v redir="$AC_N_REDIRECT" -v from="$AC_N_REDIRECTED_FROM" '
        function has(list, n,   parts, i, k) {
            k = split(list, parts, ",")
            for (i = 1; i <= k; i++) if (parts[i] == n) return 1
            return 0
        }
        step == 0 && $2 == a && $3 == c && $4 == init && $5 == "1" &&
            has($6, redir) { step = 1; next }
        step == 1 && $2 == s && $3 == b && $4 == init && $5 == "0" &&
            has($6, from) { step = 2; next }
        step == 2 && $2 == b && $3 == s && $4 == auth && $5 == "1" {
            step = 3; exit
        }
        END { print step + 0 }' "$LAB_DIR/cap/cli.summary.txt")
    case $seen in
    3) ;;
    0) lab_fail "capture: no IKE_SA_INIT response with REDIRECT from $GW_A" \
        "before the SA with $addr" ;;
    1) lab_fail "capture: no IKE_SA_INIT with REDIRECTED_FROM to $addr" ;;
    *) lab_fail "capture: no IKE_AUTH response from $addr" ;;
    esac
}

# Fails unless the REDIRECT notifies in capture cli name the three targets
# in order, as IPv4 (type 1), IPv6 (type 2) and FQDN (type 3) identities
# (RFC 5685 section 10), and each carries the nonce of the IKE_SA_INIT
# request it answers (RFC 5685 section 4).
check_redirect_notifies()
{
    local file got want nonces

    file=$(cap_file cli)
    got=$(tshark -n -r "$file" -Y "isakmp.notify.msgtype == $AC_N_REDIRECT" \
        -T fields -e isakmp.notify.data.redirect.gw_ident.type \
        -e isakmp.notify.data.redirect.new_resp_gw_ident.ipv4 \
        -e isakmp.notify.data.redirect.new_resp_gw_ident.ipv6 \
        -e isakmp.notify.data.redirect.new_resp_gw_ident.fqdn 2>/dev/null |
        awk -F'\t' '{ print $1 " " $2 $3 $4 }' | paste -sd/)
    want="1 $GW_B/2 $GW_B6/3 $GW_B_NAME"
    [ "$got" = "$want" ] ||
        lab_fail "REDIRECT identities are '$got', expected '$want'"
    # Each request to agent 1 followed by its response: the request's Ni
    # and the response's nonce data must be equal.
    nonces=$(tshark -n -r "$file" -Y "ip.addr == $GW_A && isakmp.exchangetype == $AC_IKE_SA_INIT" \
        -T fields -e isakmp.flag_r -e isakmp.nonce \
        -e isakmp.notify.data.redirect.nonce_data 2>/dev/null |
        awk -F'\t' '$1 == 0 { ni = $2; next }
            $1 == 1 { n++; if ($3 == "" || $3 != ni) bad++ }
            END { print n + 0, bad + 0 }')
    [ "$nonces" = "3 0" ] ||
        lab_fail "REDIRECT nonce data does not match Ni (responses, mismatches:" \
            "$nonces)"
}

ag_require
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" "$CLIENT6/64" || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" "$GW_A6/64" || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" "$GW_B6/64" || lab_fail "node gwb"

ag_setup gw2 gwb unicast="$GW_B,$GW_B6" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" redirect_all_to="$NOWHERE" ||
    lab_fail "agent 2 configuration"
ag_start gw2 || lab_fail "agent 2 did not start"

printf '%s %s\n' "$GW_B" "$GW_B_NAME" >"$LAB_DIR/cli.hosts"
ac_client_setup cli cli "$GW_A" --hosts "$LAB_DIR/cli.hosts" ||
    lab_fail "client setup"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"
cap_start cli cli || lab_fail "capture on cli did not start"

redirect_once v4 "$GW_B" "$GW_B" "$CLIENT"
redirect_once v6 "$GW_B6" "$GW_B6" "$CLIENT6"
redirect_once fq "$GW_B_NAME" "$GW_B" "$CLIENT"

ag_check_alive gw2 || lab_fail "agent 2 died"
[ "$(ag_log_grep gw2 'redirecting peer' | wc -l)" = 0 ] ||
    lab_fail "agent 2 redirected a client that came with REDIRECTED_FROM"

ac_capture_check cli cli
# One summary pass per target: each check starts over from the top, and
# the three SAs were made in this order, so matching the first sequence
# for each address checks each of them.
check_sequence "$GW_B" "$CLIENT"
check_sequence "$GW_B6" "$CLIENT6"
check_redirect_notifies
exit 0
