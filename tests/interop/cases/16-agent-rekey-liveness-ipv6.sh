#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8 over IPv6 transport: rekeying
# and liveness.  The client rekeys its IKE SA and its CHILD SA every few
# seconds (short rekey_time, life_time) and sends DPD checks when idle
# (dpd_delay).  The agent's own liveness check (timers.liveness_interval
# 3 s) fires only when the client was silent for 3 s, which its DPD every
# 2 s mostly prevents, so its checks are counted but not required.  After about 14 s the client must still have
# one established IKE SA with an installed CHILD SA and must have rekeyed
# each at least twice without a retransmission. The agent must list that
# one IKE SA with the SPIs the client has now.

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
CLIENT6=2001:db8:1::1
GW=198.51.100.2
GW6=2001:db8:1::2
# Observation time in seconds; it covers at least two IKE and two CHILD
# SA rekeys with the times below.
OBSERVE=14

ag_require
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" "$CLIENT6/64" || lab_fail "node cli"
lab_node_add gwa "$GW/24" "$GW6/64" || lab_fail "node gwa"
ag_setup gw1 gwa unicast="$GW6" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" liveness=3s retransmit_base=1s ||
    lab_fail "agent configuration"
ag_start gw1 || lab_fail "agent did not start"

sw_setup cli cli --ike-log 4 --libipsec || lab_fail "client setup"
ac_client_conf cli "$GW6" "\
        rekey_time = 6s
        rand_time = 1s
        over_time = 2s
        dpd_delay = 2s" "\
                rekey_time = 4s
                life_time = 8s
                rand_time = 1s" || lab_fail "client connection"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"
cap_start cli cli || lab_fail "capture on cli did not start"

sw_initiate cli home 10 net || lab_fail "client could not establish"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW6" 5) ||
    lab_fail "client is not established over IPv6"
sa=$(ac_client_check_child cli "$GW6" "$sa") || exit 1
lab_log "client at start: $sa"
[ "$(sw_sa_field local <<<"$sa")" = "$CLIENT6" ] ||
    lab_fail "client SA does not use IPv6 transport: $sa"

sleep "$OBSERVE"

sa=$(sw_wait_sa cli home ESTABLISHED "$GW6" 5) ||
    lab_fail "client lost its IKE SA during the rekeys"
sa=$(ac_client_check_child cli "$GW6" "$sa") || exit 1
lab_log "client at end: $sa"
n=$(sw_list_sas cli home | wc -l)
[ "$n" = 1 ] || lab_fail "client has $n IKE SAs, expected 1: $(sw_list_sas cli home)"

log=$(sw_dir cli)/charon.log
ike_rekeys=$(grep -c -E "IKE_SA home\[[0-9]+\] rekeyed between" "$log")
# A CHILD SA rekey is a CREATE_CHILD_SA with REKEY_SA (RFC 7296 1.3.3)
# that got its response; the old CHILD SA is then closed.
child_rekeys=$(grep -c -E "generating CREATE_CHILD_SA request [0-9]+ \[ N\(REKEY_SA\)" "$log")
child_closed=$(grep -c -E "\[IKE\] CHILD_SA closed" "$log")
dpd=$(grep -c -E "sending DPD request" "$log")
lab_log "client: $ike_rekeys IKE rekeys, $child_rekeys CHILD rekeys" \
    "($child_closed old CHILD SAs closed), $dpd DPD requests"
[ "$ike_rekeys" -ge 2 ] || lab_fail "client rekeyed its IKE SA $ike_rekeys times"
[ "$child_rekeys" -ge 2 ] ||
    lab_fail "client rekeyed its CHILD SA $child_rekeys times"
[ "$child_closed" -ge "$child_rekeys" ] ||
    lab_fail "only $child_closed of $child_rekeys rekeyed CHILD SAs were closed"
[ "$dpd" -ge 1 ] || lab_fail "client sent no DPD request"
if grep -E "retransmit [0-9]+ of request" "$log" >&2; then
    lab_fail "client retransmitted a request during the rekeys"
fi

# Both ends agree on the current IKE SA.
raw=$(sw_swanctl cli --list-sas --noblock --raw)
spi_i=$(grep -o 'initiator-spi=[0-9a-f]*' <<<"$raw" | head -n 1 | cut -d= -f2)
spi_r=$(grep -o 'responder-spi=[0-9a-f]*' <<<"$raw" | head -n 1 | cut -d= -f2)
agsa=$(ag_wait_sa gw1 ESTABLISHED "$CLIENT6" 5) ||
    lab_fail "agent has no established SA with the client"
lab_log "agent at end: $agsa"
[ "$(ag_sa_count gw1)" = 1 ] ||
    lab_fail "agent has $(ag_sa_count gw1) SAs, expected 1: $(ag_list_sas gw1)"
if [ "$(sw_sa_field ispi <<<"$agsa")" != "$spi_i" ] ||
    [ "$(sw_sa_field rspi <<<"$agsa")" != "$spi_r" ]; then
    lab_fail "agent SA ($agsa) is not the client's SA ($spi_i/$spi_r)"
fi
ac_agent_check_sa "$agsa" "$(sw_sa_field vip <<<"$sa")"
ag_log_grep gw1 "IKE SA rekeyed" >/dev/null ||
    lab_fail "agent did not log an IKE SA rekey"
ag_check_alive gw1 || lab_fail "agent died"

sw_terminate cli home 5 || lab_fail "terminating the SA failed"
ac_capture_check cli cli
# Every INFORMATIONAL request from the agent (its liveness checks) got a
# response from the client.
req=$(ac_summary_match cli "$GW6" "$CLIENT6" "$AC_INFORMATIONAL" 0 | wc -l)
resp=$(ac_summary_match cli "$CLIENT6" "$GW6" "$AC_INFORMATIONAL" 1 | wc -l)
lab_log "agent INFORMATIONAL requests $req, client responses $resp"
[ "$resp" -ge "$req" ] ||
    lab_fail "client answered $resp of $req INFORMATIONAL requests"
rekeys=$(ac_summary_match cli "$GW6" "$CLIENT6" "$AC_CREATE_CHILD_SA" 1 | wc -l)
[ "$rekeys" -ge 4 ] ||
    lab_fail "capture has $rekeys CREATE_CHILD_SA responses, expected >= 4"
exit 0
