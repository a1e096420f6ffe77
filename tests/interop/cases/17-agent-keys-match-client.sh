#!/bin/bash
# ikeshift-agent against strongSwan 5.9.8: the IKE keys that the client
# logs at "ike 4" must equal the ones the agent writes to its
# debug_keys_file, for a client that arrived through a redirect and then
# rekeyed its IKE SA.  Agent A redirects every new client to agent B in
# IKE_SA_INIT; agent B writes its keys.  The client rekeys its IKE SA after
# about 4 s.  Both key sets must be the same, SA by SA, and the agent's
# keys alone must decrypt the capture with correct integrity checksums.

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

# Prints decryption table records from stdin with the quotes removed and
# the hex in lower case, sorted, so that two sources can be compared.
normalize_keys()
{
    awk 'NF { gsub(/"/, ""); print tolower($0) }' | sort -u
}

ag_require
"$(ag_bin)" --help 2>&1 | grep -q -- --debug-keys ||
    lab_skip "the agent cannot write its IKE keys (no --debug-keys in --help)"
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" || lab_fail "node gwb"
ag_setup aga gwa unicast="$GW_A" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" redirect_all_to="$GW_B" ||
    lab_fail "agent A configuration"
ag_setup agb gwb unicast="$GW_B" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" keys=on || lab_fail "agent B configuration"
ag_start aga || lab_fail "agent A did not start"
ag_start agb || lab_fail "agent B did not start"
sw_setup cli cli --ike-log 4 --libipsec || lab_fail "client setup"
ac_client_conf cli "$GW_A" "\
        rekey_time = 4s
        over_time = 3s
        rand_time = 0s" || lab_fail "client connection"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"
cap_start cli cli || lab_fail "capture on cli did not start"

sw_initiate cli home 10 net || lab_fail "client could not establish"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_B" 5) ||
    lab_fail "client is not established with agent B"
sw_log_grep cli "redirected to $GW_B\$" >/dev/null ||
    lab_fail "client did not arrive at agent B through a redirect"
sw_log_wait cli "IKE_SA home\[[0-9]+\] rekeyed between" 10 ||
    lab_fail "client did not rekey its IKE SA"
ag_log_wait agb "IKE SA rekeyed" 5 || lab_fail "agent B logged no IKE rekey"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_B" 5) ||
    lab_fail "client lost its IKE SA after the rekey"
lab_log "client: $sa"
ag_check_alive agb || lab_fail "agent B died"
sw_terminate cli home 5 || lab_fail "terminating the SA failed"

ac_capture_check cli cli
client_keys=$(AC_KEYS_CAPTURE=cli cap_keys_from_charon cli | normalize_keys)
agent_file=$(ag_dir agb)/ike-keys.txt
[ -s "$agent_file" ] || lab_fail "agent B wrote no keys to $agent_file"
agent_keys=$(normalize_keys <"$agent_file")
printf '%s\n' "$client_keys" >"$LAB_DIR/cap/client-keys.txt"
printf '%s\n' "$agent_keys" >"$LAB_DIR/cap/agent-keys.txt"
n_client=$(grep -c . <<<"$client_keys")
n_agent=$(grep -c . <<<"$agent_keys")
lab_log "key sets: client $n_client, agent $n_agent"
[ "$n_client" -ge 2 ] ||
    lab_fail "client logged $n_client key sets, expected the first SA and" \
        "its rekeyed successor"
[ "$client_keys" = "$agent_keys" ] ||
    lab_fail "client and agent keys differ (cap/client-keys.txt," \
        "cap/agent-keys.txt in $LAB_DIR)"
if [ -n "$(ag_dir aga)" ] && [ -s "$(ag_dir aga)/ike-keys.txt" ]; then
    lab_fail "agent A wrote keys although it only redirected"
fi

# The agent's keys alone decrypt every SK payload correctly.
opts=()
while IFS= read -r line; do
    [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
done <"$agent_file"
tshark -n -r "$(cap_file cli)" "${opts[@]}" -V -Y isakmp \
    >"$LAB_DIR/cap/cli.agent-keys.decode.txt" 2>&1
correct=$(grep -c 'Integrity Checksum Data: .*\[correct\]' \
    "$LAB_DIR/cap/cli.agent-keys.decode.txt")
incorrect=$(grep -c '\[incorrect' "$LAB_DIR/cap/cli.agent-keys.decode.txt")
sk=$(tshark -n -r "$(cap_file cli)" -Y 'isakmp.nextpayload == 46 || isakmp.nextpayload == 53' \
    -T fields -e frame.number 2>/dev/null | wc -l)
lab_log "agent keys: $correct of $sk encrypted messages correct, $incorrect incorrect"
[ "$incorrect" = 0 ] ||
    lab_fail "$incorrect messages fail the integrity check with the agent's keys"
[ "$correct" = "$sk" ] ||
    lab_fail "the agent's keys decrypt $correct of $sk encrypted messages"
exit 0
