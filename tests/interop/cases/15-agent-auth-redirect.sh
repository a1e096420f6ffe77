#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: IKE_AUTH-stage redirect in the
# complete-then-informational mode (redirect.auth_mode, the default).
# Agent A has an identity rule that sends client@example.net to agent B.
# It must complete IKE_AUTH without a REDIRECT notify, because the RFC 5685
# section 6 REDIRECT in IKE_AUTH crashes charon 5.9.8, and then redirect
# the client with an INFORMATIONAL REDIRECT.  The client must end
# established on agent B, its charon must still run, and nothing in its
# output may report a crash.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=30

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

ag_require
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" || lab_fail "node gwb"
ag_setup aga gwa unicast="$GW_A" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" auth_mode=complete-then-informational \
    rule="$AC_CLIENT_ID:$GW_B" || lab_fail "agent A configuration"
ag_setup agb gwb unicast="$GW_B" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" || lab_fail "agent B configuration"
ag_start aga || lab_fail "agent A did not start"
ag_start agb || lab_fail "agent B did not start"
ac_client_setup cli cli "$GW_A" || lab_fail "client setup"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"
cap_start cli cli || lab_fail "capture on cli did not start"

# swanctl reports the first IKE SA; whether it counts the redirect as
# success does not matter, where the client ends does.
sw_initiate cli home 10 net || lab_log "swanctl --initiate reported failure"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_B" 10) ||
    lab_fail "client is not established with agent B"
sa=$(ac_client_check_child cli "$GW_B" "$sa") || exit 1
lab_log "client: $sa"
agsa=$(ag_wait_sa agb ESTABLISHED "$CLIENT" 5) ||
    lab_fail "agent B has no established SA with the client"
ac_agent_check_sa "$agsa" "$(sw_sa_field vip <<<"$sa")"
for ((i = 0; i < 50; i++)); do
    [ "$(ag_sa_count aga)" = 0 ] &&
        ! sw_list_sas cli home | grep -q "remote=$GW_A " && break
    sleep 0.1
done
[ "$(ag_sa_count aga)" = 0 ] ||
    lab_fail "agent A keeps the SA: $(ag_list_sas aga)"
if sw_list_sas cli home | grep -q "remote=$GW_A "; then
    lab_fail "client keeps its SA with agent A"
fi
ag_log_grep aga "redirecting peer; stage=ike_auth mode=informational .*gw=$GW_B" \
    >/dev/null || lab_fail "agent A did not log the IKE_AUTH-stage redirect"
sw_log_grep cli "redirected to $GW_B\$" >/dev/null ||
    lab_fail "client log has no 'redirected to $GW_B'"

# NOTE: agent A sends the INFORMATIONAL REDIRECT right after its IKE_AUTH
# response.  charon often handles it first and drops it ("ignoring
# INFORMATIONAL in IKE_SA state CONNECTING"), so the client follows only
# the agent's retransmission, retransmit_base (2 s) later.
ignored=$(sw_log_grep cli "ignoring INFORMATIONAL in IKE_SA state CONNECTING" |
    wc -l)
lab_log "client dropped $ignored INFORMATIONAL requests that came before" \
    "the IKE_AUTH response"

# charon is alive and reported no crash.
kill -0 "$(cat "$(sw_dir cli)/pid")" 2>/dev/null ||
    lab_fail "charon on the client is no longer running"
if grep -E -i "double free|segmentation|abort|killed by" \
    "$(sw_dir cli)/charon.out" "$(sw_dir cli)/charon.log" >&2; then
    lab_fail "charon on the client reported a crash"
fi
for gw in aga agb; do
    ag_check_alive "$gw" || lab_fail "agent $gw died"
done
sw_terminate cli home 5 || lab_fail "terminating the SA with agent B failed"

ac_capture_check cli cli
# The IKE_AUTH response of agent A has no REDIRECT; an INFORMATIONAL
# request with REDIRECT follows it.
[ -n "$(ac_summary_match cli "$GW_A" "$CLIENT" "$AC_IKE_AUTH" 1)" ] ||
    lab_fail "capture has no IKE_AUTH response from agent A"
[ -z "$(ac_summary_match cli "$GW_A" "$CLIENT" "$AC_IKE_AUTH" 1 \
    "$AC_N_REDIRECT")" ] ||
    lab_fail "agent A put REDIRECT into its IKE_AUTH response"
[ -n "$(ac_summary_match cli "$GW_A" "$CLIENT" "$AC_INFORMATIONAL" 0 \
    "$AC_N_REDIRECT")" ] ||
    lab_fail "capture has no INFORMATIONAL REDIRECT from agent A"
[ -n "$(ac_summary_match cli "$CLIENT" "$GW_B" "$AC_IKE_SA_INIT" 0 \
    "$AC_N_REDIRECTED_FROM")" ] ||
    lab_fail "capture has no IKE_SA_INIT with REDIRECTED_FROM to agent B"
exit 0
