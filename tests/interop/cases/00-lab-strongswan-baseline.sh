#!/bin/bash
# Lab check, not a product test: it proves the harness itself with real,
# unmodified strongSwan on both ends.  No ikeshift code runs here.
#
# A strongSwan client establishes an IKE SA (PSK,
# aes128gcm16-prfsha256-x25519) with strongSwan gateway A.  Gateway A then
# sends a mid-session REDIRECT (INFORMATIONAL, RFC 5685 section 6) with
# `swanctl --redirect`.  The client must end up established with
# strongSwan gateway B.  swanctl --list-sas, the charon logs and the
# decrypted capture taken on the client must all show it.

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

CLIENT=198.51.100.1
GW_A=198.51.100.2
GW_B=198.51.100.3
PSK=lab-baseline-psk-0123456789
PROPOSAL=aes128gcm16-prfsha256-x25519
SELECTED=AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519
# Exchange types (RFC 7296 section 3.1) and notify types (RFC 5685).
IKE_SA_INIT=34
IKE_AUTH=35
INFORMATIONAL=37
N_REDIRECT=16407
N_REDIRECTED_FROM=16408

lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" 2001:db8:1::1/64 || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" 2001:db8:1::2/64 || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" 2001:db8:1::3/64 || lab_fail "node gwb"

# The client logs at "ike 4" so that its IKE keys can decrypt the capture.
sw_setup cli cli --ike-log 4 || lab_fail "client setup"
sw_conn cli home remote_addrs="$GW_A" local_id=client@example.net \
    remote_id=gw.example.net secret="$PSK" proposals="$PROPOSAL" ||
    lab_fail "client connection"
for gw in gwa gwb; do
    if [ "$gw" = gwa ]; then addr=$GW_A; else addr=$GW_B; fi
    sw_setup "$gw" "$gw" || lab_fail "$gw setup"
    sw_conn "$gw" gw local_addrs="$addr" local_id=gw.example.net \
        remote_id=client@example.net secret="$PSK" proposals="$PROPOSAL" ||
        lab_fail "$gw connection"
done
for inst in gwa gwb cli; do
    sw_start "$inst" || lab_fail "charon $inst did not start"
    sw_load "$inst" || lab_fail "loading the configuration of $inst failed"
done

cap_start cli cli || lab_fail "capture on cli did not start"

sw_initiate cli home 10 || lab_fail "client could not establish with gateway A"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_A" 5) ||
    lab_fail "no established IKE SA with gateway A"
lab_log "before redirect: $sa"
[ "$(sw_sa_field ike <<<"$sa")" = "$SELECTED" ] ||
    lab_fail "IKE SA uses '$(sw_sa_field ike <<<"$sa")', expected $SELECTED"

sw_redirect gwa "$CLIENT" "$GW_B" || lab_fail "swanctl --redirect on gwa failed"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_B" 10) ||
    lab_fail "client did not establish with gateway B after the redirect"
lab_log "after redirect: $sa"
[ "$(sw_sa_field ike <<<"$sa")" = "$SELECTED" ] ||
    lab_fail "new IKE SA uses '$(sw_sa_field ike <<<"$sa")', expected $SELECTED"
sw_wait_sa gwb gw ESTABLISHED "$CLIENT" 5 >/dev/null ||
    lab_fail "gateway B shows no established IKE SA with the client"

# strongSwan deletes the old IKE SA once the new one is up.
for ((i = 0; i < 50; i++)); do
    if ! sw_list_sas cli home | grep -q "remote=$GW_A " &&
        [ -z "$(sw_list_sas gwa gw)" ]; then
        break
    fi
    sleep 0.1
done
if sw_list_sas cli home | grep -q "remote=$GW_A "; then
    lab_fail "client still has an IKE SA with gateway A"
fi
[ -z "$(sw_list_sas gwa gw)" ] ||
    lab_fail "gateway A still has an IKE SA: $(sw_list_sas gwa gw)"

sw_log_grep cli "redirected to $GW_B" >/dev/null ||
    lab_fail "client log has no 'redirected to $GW_B'"
sw_log_grep gwb "client got redirected from $GW_A" >/dev/null ||
    lab_fail "gateway B log has no 'client got redirected from $GW_A'"

cap_stop cli || lab_fail "stopping the capture failed"
cap_check_ike cli --keys-from cli ||
    lab_fail "IKE decode check of the client capture failed"

# The decrypted capture must show, in order: the REDIRECT from gateway A
# inside an INFORMATIONAL request, the new IKE_SA_INIT to gateway B with
# REDIRECTED_FROM, and gateway B's IKE_AUTH response.
summary=$(cap_ike_summary cli --keys-from cli)
printf '%s\n' "$summary" >"$LAB_DIR/cap/cli.summary.txt"
seen=$(awk -F'\t' -v a="$GW_A" -v b="$GW_B" -v c="$CLIENT" \
    -v info="$INFORMATIONAL" -v init="$IKE_SA_INIT" -v auth="$IKE_AUTH" \
    -v redir="$N_REDIRECT" -v from="$N_REDIRECTED_FROM" '
    function has(list, n,   parts, i, k) {
        k = split(list, parts, ",")
        for (i = 1; i <= k; i++) if (parts[i] == n) return 1
        return 0
    }
    step == 0 && $2 == a && $3 == c && $4 == info && has($6, redir) { step = 1; next }
    step == 1 && $2 == c && $3 == b && $4 == init && has($6, from) { step = 2; next }
    step == 2 && $2 == b && $3 == c && $4 == auth && $5 == "1" { step = 3; next }
    END { print step + 0 }' <<<"$summary")
case $seen in
3) ;;
0) lab_fail "capture: no decrypted REDIRECT from $GW_A (summary in $LAB_DIR/cap/cli.summary.txt)" ;;
1) lab_fail "capture: no IKE_SA_INIT with REDIRECTED_FROM to $GW_B" ;;
*) lab_fail "capture: no IKE_AUTH response from $GW_B" ;;
esac

sw_terminate cli home 5 || lab_fail "terminating the IKE SA with gateway B failed"
exit 0
