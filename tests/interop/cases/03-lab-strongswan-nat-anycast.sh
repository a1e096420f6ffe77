#!/bin/bash
# Lab check, not a product test: NAT and anycast in the lab.  A strongSwan
# client sits behind a router that masquerades it (nft), and initiates to
# an anycast address that gateways A and B both have on lo.  The router
# routes the anycast address to gateway A, as a BGP announcement would.
# After the route moves to gateway B, a new IKE SA lands there.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=45

set -u
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
# shellcheck source=../lib/netns.sh
. "$LIB/netns.sh"
# shellcheck source=../lib/charon.sh
. "$LIB/charon.sh"
# shellcheck source=../lib/capture.sh
. "$LIB/capture.sh"

ROUTER=198.51.100.10
GW_A=198.51.100.2
GW_B=198.51.100.3
ANYCAST=203.0.113.200
CLIENT_IN=203.0.113.242
ROUTER_IN=203.0.113.241
PSK=lab-nat-psk-0123456789

lab_init || lab_fail "lab setup failed"
lab_node_add rtr "$ROUTER/24" || lab_fail "node rtr"
lab_node_add gwa "$GW_A/24" || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" || lab_fail "node gwb"
lab_nat_add cli rtr "$CLIENT_IN/28" "$ROUTER_IN/28" || lab_fail "NAT node cli"
for gw in gwa gwb; do
    lab_addr_add "$gw" "$ANYCAST/32" lo || lab_fail "anycast address on $gw"
done
lab_route_set rtr "$ANYCAST/32" "$GW_A" || lab_fail "anycast route to gateway A"

sw_setup cli cli || lab_fail "client setup"
sw_conn cli home remote_addrs="$ANYCAST" local_id=client@example.net \
    remote_id=gw.example.net secret="$PSK" || lab_fail "client connection"
for gw in gwa gwb; do
    sw_setup "$gw" "$gw" || lab_fail "$gw setup"
    sw_conn "$gw" gw local_addrs="$ANYCAST" local_id=gw.example.net \
        remote_id=client@example.net secret="$PSK" || lab_fail "$gw connection"
done
for inst in gwa gwb cli; do
    sw_start "$inst" || lab_fail "charon $inst did not start"
    sw_load "$inst" || lab_fail "loading the configuration of $inst failed"
done

cap_start rtr rtr || lab_fail "capture on rtr did not start"

sw_initiate cli home 10 || lab_fail "client could not reach the anycast address"
sa=$(sw_wait_sa gwa gw ESTABLISHED "$ROUTER" 5) ||
    lab_fail "gateway A has no IKE SA from the router's address"
lab_log "gateway A: $sa"
[ -z "$(sw_list_sas gwb gw)" ] || lab_fail "gateway B got an IKE SA too"
sw_log_grep cli "local host is behind NAT" >/dev/null ||
    lab_fail "client did not detect the NAT"
sw_log_grep gwa "remote host is behind NAT" >/dev/null ||
    lab_fail "gateway A did not detect the NAT"

sw_terminate cli home 5 || lab_fail "terminating the IKE SA with gateway A failed"
lab_route_set rtr "$ANYCAST/32" "$GW_B" || lab_fail "anycast route to gateway B"
sw_initiate cli home 10 || lab_fail "client could not reach the anycast address again"
sa=$(sw_wait_sa gwb gw ESTABLISHED "$ROUTER" 5) ||
    lab_fail "gateway B has no IKE SA after the route moved"
lab_log "gateway B: $sa"
[ -z "$(sw_list_sas gwa gw)" ] || lab_fail "gateway A still has an IKE SA"

cap_stop rtr || lab_fail "stopping the capture failed"
cap_check_ike rtr || lab_fail "IKE decode check of the router capture failed"
# On the outside every IKE packet from the client has the router's address.
if cap_ike_summary rtr | awk -F'\t' -v c="$CLIENT_IN" '$2 == c || $3 == c' |
    grep -q .; then
    lab_fail "the client's inside address appears on the router's eth0"
fi
exit 0
