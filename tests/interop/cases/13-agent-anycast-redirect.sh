#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: anycast.  Gateways A and B both
# hold the anycast address 203.0.113.200 on lo, and each agent listens on
# it with policy.anycast_target set to its own unicast address.  The
# client dials the anycast address, which its namespace routes to gateway
# A, as a BGP announcement would.  The agent must redirect it in
# IKE_SA_INIT from the anycast address to the unicast one, where the client
# ends established with a virtual IP and a CHILD SA.  After the route moves
# to gateway B, the next IKE SA must end on gateway B's unicast address.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=40

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The anycast address lies outside the inner network and the pool.
AC_INNER=203.0.113.0/26
AC_POOL=203.0.113.64/26
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
ANYCAST=203.0.113.200

# Initiates through the anycast address, which now leads to gateway
# agent AGENT, and checks that the client ends at unicast address UNICAST.
via_anycast()
{
    local agent=$1 unicast=$2 other=$3 sa agsa

    sw_initiate cli home 10 net ||
        lab_fail "client could not establish through $ANYCAST ($agent)"
    sa=$(sw_wait_sa cli home ESTABLISHED "$unicast" 5) ||
        lab_fail "client is not established with $unicast"
    sa=$(ac_client_check_child cli "$unicast" "$sa") || exit 1
    lab_log "client: $sa"
    sw_log_grep cli "redirected to $unicast\$" >/dev/null ||
        lab_fail "client log has no 'redirected to $unicast'"
    agsa=$(ag_wait_sa "$agent" ESTABLISHED "$CLIENT" 5) ||
        lab_fail "agent $agent has no established IKE SA with the client"
    lab_log "agent $agent: $agsa"
    ac_agent_check_sa "$agsa" "$(sw_sa_field vip <<<"$sa")"
    [[ $(sw_sa_field local <<<"$agsa") == "$unicast":* ]] ||
        lab_fail "agent $agent SA is not on $unicast: $agsa"
    [ "$(ag_sa_count "$other")" = 0 ] ||
        lab_fail "agent $other has an SA too: $(ag_list_sas "$other")"
    ag_log_grep "$agent" "redirecting peer; stage=ike_sa_init .*gw=$unicast" \
        >/dev/null || lab_fail "agent $agent did not log the redirect"
    sw_terminate cli home 5 || lab_fail "terminating the SA at $unicast failed"
}

ag_require
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" || lab_fail "node gwb"
for gw in gwa gwb; do
    lab_addr_add "$gw" "$ANYCAST/32" lo || lab_fail "anycast address on $gw"
done
lab_route_set cli "$ANYCAST/32" "$GW_A" || lab_fail "anycast route to A"

for gw in gwa gwb; do
    if [ "$gw" = gwa ]; then addr=$GW_A; else addr=$GW_B; fi
    ag_setup "ag$gw" "$gw" unicast="$addr" anycast="$ANYCAST" \
        identity="$AC_GW_ID" client_id="$AC_CLIENT_ID" psk="$AC_PSK" \
        pool="$AC_POOL" protected_subnets="$AC_INNER" \
        anycast_target="$addr" || lab_fail "agent configuration on $gw"
    ag_start "ag$gw" || lab_fail "agent on $gw did not start"
done
ac_client_setup cli cli "$ANYCAST" || lab_fail "client setup"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"
cap_start cli cli || lab_fail "capture on cli did not start"

via_anycast aggwa "$GW_A" aggwb
lab_route_set cli "$ANYCAST/32" "$GW_B" || lab_fail "anycast route to B"
via_anycast aggwb "$GW_B" aggwa

for gw in aggwa aggwb; do
    ag_check_alive "$gw" || lab_fail "agent $gw died"
done
ac_capture_check cli cli
# Both REDIRECTs come from the anycast address, and both new IKE_SA_INIT
# requests carry REDIRECTED_FROM with it (RFC 5685 section 5).
n=$(ac_summary_match cli "$ANYCAST" "$CLIENT" "$AC_IKE_SA_INIT" 1 \
    "$AC_N_REDIRECT" | wc -l)
[ "$n" = 2 ] || lab_fail "capture has $n REDIRECTs from $ANYCAST, expected 2"
from=$(tshark -n -r "$(cap_file cli)" \
    -Y "isakmp.notify.msgtype == $AC_N_REDIRECTED_FROM" -T fields \
    -e ip.dst -e isakmp.notify.data.redirect.org_resp_gw_ident.ipv4 \
    2>/dev/null | paste -sd' ')
[ "$from" = "$GW_A	$ANYCAST $GW_B	$ANYCAST" ] ||
    lab_fail "REDIRECTED_FROM (target, original gateway) is '$from'"
exit 0
