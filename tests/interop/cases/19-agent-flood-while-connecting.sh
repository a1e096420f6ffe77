#!/bin/bash
# ikeshift-agent under a bounded IKE_SA_INIT flood while a strongSwan 5.9.8
# client connects.  Node fld runs tests/bench/flood_init: 20,000 half-open
# IKE_SA_INIT requests at 2,000/s from 512 source ports, and, during it, a
# burst of malformed datagrams (truncated headers, header lengths that
# disagree with the datagram, a payload running past the end).  While the
# flood runs, the client in node cli initiates.  The agent must require
# COOKIEs (RFC 7296 section 2.6), drop the malformed datagrams as parse
# errors, keep running, establish the client within 5 s of the start of
# its initiation, and its RSS may grow by at most 10 MB over the flood.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=60

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
GW=198.51.100.2
FLOODER=198.51.100.10
FLOOD_COUNT=20000
FLOOD_RATE=2000
FLOOD_SOURCES=512
# The one IKE proposal flood_init sends; the agent's defaults lack it.
FLOOD_IKE=aes128gcm16-prfsha256-x25519
# Copies of each malformed datagram.
BAD_ROUNDS=20
ESTABLISH_LIMIT_S=5
RSS_LIMIT_KB=10240

# Prints VmRSS of PID in kB.
rss_kb()
{
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Prints the malformed datagrams, one per line as printf(1) escapes.  The
# IKE header (RFC 7296 section 3.1) is 28 octets: SPIi, SPIr, next
# payload, version 0x20, exchange type, flags, message ID and length.
bad_datagrams()
{
    local spi='\x1b\xad\x1b\xad\x00\x00\x00\x01' zero='\x00\x00\x00\x00\x00\x00\x00\x00'
    local mid='\x00\x00\x00\x00'

    # 10 octets: not even the SPIs.
    printf '%s\n' "$spi\x00\x00"
    # 27 octets: one short of a header.
    printf '%s\n' "$spi$zero\x21\x20\x22\x08$mid\x00\x00\x00"
    # Length field 1000, but the datagram has 28 octets.
    printf '%s\n' "$spi$zero\x21\x20\x22\x08$mid\x00\x00\x03\xe8"
    # Length field 20, less than the header itself.
    printf '%s\n' "$spi$zero\x21\x20\x22\x08$mid\x00\x00\x00\x14"
    # Next payload SA but nothing follows the header.
    printf '%s\n' "$spi$zero\x21\x20\x22\x08$mid\x00\x00\x00\x1c"
    # An SA payload header that claims 200 octets in a 36-octet message.
    printf '%s\n' "$spi$zero\x21\x20\x22\x08$mid\x00\x00\x00\x24\x00\x00\x00\xc8\x00\x00\x00\x00"
}

# Sends the malformed datagrams ROUNDS times from node fld to the
# agent's port 500, each datagram in one write to a /dev/udp socket.
send_bad()
{
    local rounds=$1 list

    lab_route_check fld "$GW" || return 1
    list=$(bad_datagrams)
    # shellcheck disable=SC2016 # expanded by the inner bash
    lab_exec fld bash -c '
        for ((r = 0; r < $1; r++)); do
            while IFS= read -r d; do
                printf "$d" >"/dev/udp/$2/500" || exit 1
            done <<<"$3"
            sleep 0.01
        done' send_bad "$rounds" "$GW" "$list"
}

ag_require
FLOOD=$(dirname "$(ag_bin)")/../bench/flood_init
[ -x "$FLOOD" ] ||
    lab_skip "flood_init not found at $FLOOD; build it with make interop" \
        "(or make $(basename "$(dirname "$(dirname "$(ag_bin)")")")/bench/flood_init)"
lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" || lab_fail "node cli"
lab_node_add gwa "$GW/24" || lab_fail "node gwa"
lab_node_add fld "$FLOODER/24" || lab_fail "node fld"
ag_setup gw1 gwa unicast="$GW" identity="$AC_GW_ID" \
    client_id="$AC_CLIENT_ID" psk="$AC_PSK" pool="$AC_POOL" \
    protected_subnets="$AC_INNER" log_level=info \
    ike="$AC_IKE_DEFAULT,$FLOOD_IKE" ||
    lab_fail "agent configuration"
ag_start gw1 || lab_fail "agent did not start"
ac_client_setup cli cli "$GW" || lab_fail "client setup"
sw_start cli || lab_fail "charon cli did not start"
sw_load cli || lab_fail "loading the client configuration failed"

pid=$(cat "$(ag_dir gw1)/pid")
rss0=$(rss_kb "$pid")
parse0=$(ag_counter gw1 rx_drop_parse)
lab_route_check fld "$GW" || lab_fail "route check for the flood failed"
flood_log=$LAB_DIR/flood.json
lab_spawn_in fld "$flood_log" "$FLOOD" --target "$GW" --count "$FLOOD_COUNT" \
    --rate "$FLOOD_RATE" --sources "$FLOOD_SOURCES" --duration 20 \
    --wait 1000 --allow-dev eth0 || lab_fail "flood_init did not start"
flood_pid=$LAB_SPAWNED_PID
rss_max=$rss0
# Sample RSS every 0.1 s from here to the end of the flood.
(
    while kill -0 "$flood_pid" 2>/dev/null; do
        rss_kb "$pid"
        sleep 0.1
    done
) >"$LAB_DIR/rss.txt" &
sampler=$!

# Let the flood fill the half-open table, then check that cookies engaged.
for ((i = 0; i < 30; i++)); do
    [ "$(ag_counter gw1 init_cookies_sent)" -gt 0 ] && break
    sleep 0.1
done
cookies=$(ag_counter gw1 init_cookies_sent)
[ "$cookies" -gt 0 ] ||
    lab_fail "agent sends no COOKIEs 3 s into the flood: $(ag_ctl gw1 counters)"
lab_log "COOKIEs sent after the flood started: $cookies, half-open SAs:" \
    "$(ag_counter gw1 half_open)"

send_bad "$BAD_ROUNDS" || lab_fail "sending the malformed datagrams failed"

t0=$(date +%s.%N)
sw_initiate cli home "$ESTABLISH_LIMIT_S" net ||
    lab_fail "client did not establish within ${ESTABLISH_LIMIT_S}s during" \
        "the flood"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW" 1) ||
    lab_fail "no established IKE SA on the client"
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
lab_log "client established in ${took}s: $sa"
awk -v t="$took" -v l="$ESTABLISH_LIMIT_S" 'BEGIN { exit !(t <= l) }' ||
    lab_fail "client needed ${took}s, more than ${ESTABLISH_LIMIT_S}s"
kill -0 "$flood_pid" 2>/dev/null ||
    lab_fail "the flood had ended before the client was established"
sa=$(ac_client_check_child cli "$GW" "$sa") || exit 1
agsa=$(ag_wait_sa gw1 ESTABLISHED "$CLIENT" 5) ||
    lab_fail "agent has no established IKE SA with the client"
ac_agent_check_sa "$agsa" "$(sw_sa_field vip <<<"$sa")"
# The flood's half-open SAs stay above limits.cookie_threshold, so the
# client too must have been asked for a COOKIE, and it returned it.
sw_log_grep cli 'parsed IKE_SA_INIT response 0 \[ N\(COOKIE\) \]' >/dev/null ||
    lab_fail "the client was not asked for a COOKIE during the flood"

# Wait for the flood to end on its own (about 10 s plus --wait).
for ((i = 0; i < 200; i++)); do
    kill -0 "$flood_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$flood_pid" 2>/dev/null && lab_fail "flood_init did not stop by itself"
wait "$sampler"
rss_max=$(sort -n "$LAB_DIR/rss.txt" | tail -n 1)
rss1=$(rss_kb "$pid")
[ -n "$rss_max" ] && [ "$rss1" -gt "$rss_max" ] && rss_max=$rss1
lab_log "agent RSS: ${rss0} kB before, ${rss_max:-?} kB at most, ${rss1} kB after"
ag_check_alive gw1 || lab_fail "agent died during the flood"
[ $((rss_max - rss0)) -le "$RSS_LIMIT_KB" ] ||
    lab_fail "agent RSS grew by $((rss_max - rss0)) kB over the flood," \
        "more than $RSS_LIMIT_KB kB"

# The JSON object is the only text from a "{" line to a "}" line.
result=$(sed -n '/^{/,/^}/p' "$flood_log" | jq -c . 2>/dev/null)
[ -n "$result" ] || lab_fail "flood_init printed no result: $(tail -n 3 "$flood_log")"
lab_log "flood: $(jq -c '{sent, send_errors, run_seconds, replies}' <<<"$result")"
[ "$(jq -r .sent <<<"$result")" = "$FLOOD_COUNT" ] ||
    lab_fail "flood_init sent $(jq -r .sent <<<"$result") of $FLOOD_COUNT"
[ "$(jq -r .replies.cookie <<<"$result")" -gt 0 ] ||
    lab_fail "flood_init saw no COOKIE replies: $result"

nbad=$(($(bad_datagrams | wc -l) * BAD_ROUNDS))
parse=$(($(ag_counter gw1 rx_drop_parse) - parse0))
lab_log "malformed datagrams: $nbad sent, rx_drop_parse +$parse"
[ "$parse" -ge "$nbad" ] ||
    lab_fail "agent counted $parse parse drops for $nbad malformed datagrams"
lab_log "counters: $(ag_ctl gw1 counters | jq -c '.counters | with_entries(select(.key | test("^init_|^rx_drop|^sas_")))')"

sw_terminate cli home 5 || lab_fail "terminating the IKE SA failed"
ag_check_alive gw1 || lab_fail "agent died"
exit 0
