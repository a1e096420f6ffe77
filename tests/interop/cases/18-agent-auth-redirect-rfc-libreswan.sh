#!/bin/bash
# ikeshift-agent against libreswan 4.10: IKE_AUTH-stage redirect in the RFC
# 5685 section 6 mode (redirect.auth_mode "rfc").  Agent A has an identity
# rule that sends client@example.net to agent B.  Its IKE_AUTH response
# must carry IDr, AUTH and N(REDIRECT) only: no SA, TSi, TSr or CP.  The
# libreswan client (accept-redirect=yes) must follow the redirect and end
# with an established IKE SA on agent B, as pluto's status and log and
# agent B's SA list show.  strongSwan 5.9.8 cannot be the client here,
# because this redirect crashes it (case 15 covers the other mode).

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
# The case takes about 10 s.  The rest is for installing libreswan on a
# fresh machine (lsw_require).
CASE_TIMEOUT=300

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
# shellcheck source=../agent/libreswan.sh
. "$HERE/../agent/libreswan.sh"

CLIENT=198.51.100.1
GW_A=198.51.100.2
GW_B=198.51.100.3
# A TSr that no agent protects (AC_INNER is elsewhere).
NO_SUBNET=198.51.100.240/28
# IKE payload types (RFC 7296 section 3.2).
P_SA=33
P_TSI=44
P_TSR=45
P_CP=47
P_IDR=36
P_AUTH=39
P_N=41
P_SK=46

# Prints the decrypted payload types (isakmp.typepayload, comma-separated)
# of IKE_AUTH responses from SRC to DST in capture NAME, one line per
# message, decrypting with agent instance AG's keys.
auth_response_payloads()
{
    local name=$1 src=$2 dst=$3 ag=$4 line
    local -a opts=()

    while IFS= read -r line; do
        [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
    done <"$(ag_dir "$ag")/ike-keys.txt"
    tshark -n -r "$(cap_file "$name")" "${opts[@]}" \
        -Y "ip.src == $src && ip.dst == $dst && isakmp.exchangetype == $AC_IKE_AUTH && isakmp.flag_r == 1" \
        -T fields -e isakmp.typepayload -e isakmp.notify.msgtype 2>/dev/null
}

# Decodes capture NAME with the keys of the agent instances given and fails
# unless every SK payload decrypts with a correct integrity checksum.
check_decrypt()
{
    local name=$1 ag line sk correct incorrect out
    local -a opts=()

    shift
    for ag in "$@"; do
        while IFS= read -r line; do
            [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
        done <"$(ag_dir "$ag")/ike-keys.txt"
    done
    out=$LAB_DIR/cap/$name.agent-keys.decode.txt
    tshark -n -r "$(cap_file "$name")" "${opts[@]}" -V -Y isakmp >"$out" 2>&1
    correct=$(grep -c 'Integrity Checksum Data: .*\[correct\]' "$out")
    incorrect=$(grep -c -i -E '\[incorrect|malformed' "$out")
    sk=$(tshark -n -r "$(cap_file "$name")" \
        -Y 'isakmp.nextpayload == 46 || isakmp.nextpayload == 53' \
        -T fields -e frame.number 2>/dev/null | wc -l)
    lab_log "agent keys: $correct of $sk encrypted messages correct"
    [ "$incorrect" = 0 ] ||
        lab_fail "$incorrect errors decoding capture $name with the agents'" \
            "keys ($out)"
    if [ "$sk" = 0 ] || [ "$correct" != "$sk" ]; then
        lab_fail "the agents' keys decrypt $correct of $sk encrypted messages"
    fi
}

ag_require
"$(ag_bin)" --help 2>&1 | grep -q -- --debug-keys ||
    lab_skip "the agent cannot write its IKE keys (no --debug-keys in --help)"
lsw_require
lab_init || lab_fail "lab setup failed"
lab_log "libreswan $LSW_VERSION from $LSW_EXECDIR"
lab_node_add cli "$CLIENT/24" || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" || lab_fail "node gwb"
ag_setup aga gwa unicast="$GW_A" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" auth_mode=rfc keys=on \
    rule="$AC_CLIENT_ID:$GW_B" || lab_fail "agent A configuration"
ag_setup agb gwb unicast="$GW_B" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" keys=on || lab_fail "agent B configuration"
ag_start aga || lab_fail "agent A did not start"
ag_start agb || lab_fail "agent B did not start"
# The kernel here has no ESP.  libreswan 4.10 always asks for a CHILD SA
# in IKE_AUTH, and when it cannot install one it deletes the IKE SA too.
# So its child asks for a TSr outside the agents' protected subnets, agent
# B answers TS_UNACCEPTABLE, and libreswan keeps the IKE SA alone (RFC
# 7296 section 2.21.2).
lsw_setup cli cli conn=home left="$CLIENT" leftid="$AC_CLIENT_ID" \
    right="$GW_A" rightid="@$AC_GW_ID" psk="$AC_PSK" \
    ike=aes_gcm256-sha2_256-dh31 esp=aes_gcm256 rightsubnet="$NO_SUBNET" \
    accept-redirect=yes || lab_fail "libreswan client setup"
lsw_start cli || lab_fail "pluto on cli did not start"
cap_start cli cli || lab_fail "capture on cli did not start"

# whack's own result is about the first gateway; where the client ends
# counts.
t0=$(date +%s.%N)
lsw_initiate cli home 10 || lab_log "whack --initiate reported failure"
st=$(lsw_wait_ike cli home "$GW_B" 10) ||
    lab_fail "libreswan is not established with agent B"
lab_log "client: $st ($(awk -v a="$t0" -v b="$(date +%s.%N)" \
    'BEGIN { printf "%.1f", b - a }')s after initiating)"
agsa=$(ag_wait_sa agb ESTABLISHED "$CLIENT" 5) ||
    lab_fail "agent B has no established SA with the client"
lab_log "agent B: $agsa"
[ "$(sw_sa_field id <<<"$agsa")" = "$AC_CLIENT_ID" ] ||
    lab_fail "agent B's SA has identity '$(sw_sa_field id <<<"$agsa")'"
lsw_log_grep cli "initiating IKE_AUTH redirect to new gateway \(address: $GW_B\)" \
    >/dev/null || lab_fail "pluto did not log the IKE_AUTH redirect to $GW_B"
lsw_log_grep cli "sent IKE_SA_INIT request to $GW_B:500" >/dev/null ||
    lab_fail "pluto did not send IKE_SA_INIT to agent B"
lsw_log_grep cli "IKE_AUTH response rejected Child SA with TS_UNACCEPTABLE" \
    >/dev/null || lab_fail "pluto did not log agent B's TS_UNACCEPTABLE"
# Only the IKE SA with agent A (the state that logged the redirect) may be
# deleted.
first=$(lsw_log_grep cli "initiating IKE_AUTH redirect" | head -n 1 |
    sed -n 's/.*"home" \(#[0-9]*\):.*/\1/p')
if lsw_log_grep cli "encountered fatal error|IKE SA expired|deleting state" |
    grep -v "\"home\" $first:" >&2; then
    lab_fail "pluto deleted or failed an IKE SA other than $first, the one" \
        "with agent A"
fi
[ "$(ag_counter agb child_ts_unacceptable)" -ge 1 ] ||
    lab_fail "agent B counts no child_ts_unacceptable: $(ag_ctl agb counters)"
ag_log_grep aga "redirecting peer; stage=ike_auth mode=rfc .*gw=$GW_B" \
    >/dev/null || lab_fail "agent A did not log the RFC-mode redirect"
# Agent A keeps no established SA; what it keeps until
# redirect.auth_rfc_delete is marked redirected.
if ag_list_sas aga | grep -v 'redirected=true' | grep -q 'state=ESTABLISHED'; then
    lab_fail "agent A has an established, unredirected SA: $(ag_list_sas aga)"
fi
for gw in aga agb; do
    ag_check_alive "$gw" || lab_fail "agent $gw died"
done
lsw_alive cli || lab_fail "pluto on the client died"

ac_capture_check cli
# cap_check_ike decrypts only with charon's keys; the agents' keys decrypt
# every SK payload here, and each must pass its integrity check.
check_decrypt cli aga agb
# Agent A: IKE_AUTH response with REDIRECT, and without SA, TSi, TSr, CP.
lines=$(auth_response_payloads cli "$GW_A" "$CLIENT" aga)
[ -n "$lines" ] || lab_fail "capture has no IKE_AUTH response from agent A"
lab_log "agent A IKE_AUTH response payloads, notifies: ${lines//$'\t'/ / }"
while IFS=$'\t' read -r types notifies; do
    [[ ,$notifies, == *",$AC_N_REDIRECT,"* ]] ||
        lab_fail "agent A's IKE_AUTH response has no REDIRECT ($notifies)"
    for p in "$P_SA" "$P_TSI" "$P_TSR" "$P_CP"; do
        [[ ,$types, != *",$p,"* ]] ||
            lab_fail "agent A's IKE_AUTH response has payload type $p" \
                "($types)"
    done
    # Exactly SK { IDr, AUTH, N(REDIRECT) }.
    [ "$types" = "$P_SK,$P_IDR,$P_AUTH,$P_N" ] ||
        lab_fail "agent A's IKE_AUTH response has payloads $types, expected" \
            "$P_SK,$P_IDR,$P_AUTH,$P_N"
    [ "$notifies" = "$AC_N_REDIRECT" ] ||
        lab_fail "agent A's IKE_AUTH response has notifies $notifies," \
            "expected REDIRECT ($AC_N_REDIRECT) alone"
done <<<"$lines"
[ -n "$(ac_summary_match cli "$CLIENT" "$GW_B" "$AC_IKE_SA_INIT" 0 \
    "$AC_N_REDIRECTED_FROM")" ] ||
    lab_fail "capture has no IKE_SA_INIT with REDIRECTED_FROM to agent B"
[ -n "$(auth_response_payloads cli "$GW_B" "$CLIENT" agb)" ] ||
    lab_fail "capture has no IKE_AUTH response from agent B"
exit 0
