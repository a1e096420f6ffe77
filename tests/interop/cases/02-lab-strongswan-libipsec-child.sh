#!/bin/bash
# Lab check, not a product test: CHILD SAs in the lab.  The lab kernel
# has no ESP, so both ends use strongSwan's kernel-libipsec (userspace
# ESP over a TUN device) with a virtual IP and an inner subnet.  A
# host-to-host CHILD SA does not work with kernel-libipsec, because its
# route to the peer would capture the IKE traffic.
#
# The client gets a virtual IP from gateway A's pool and a CHILD SA for
# 203.0.113.0/25 and sends one UDP datagram through it.  Gateway A then
# redirects it mid-session to the FQDN gwb.example.net, which the client's
# hosts file maps to gateway B's IPv6 address, and the client must come up
# there over IPv6 with a virtual IP and a CHILD SA that carries traffic.

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
GW_B6=2001:db8:1::3
GW_B_NAME=gwb.example.net
INNER=203.0.113.0/25
INNER_HOST=203.0.113.1
POOL=203.0.113.128/25
PSK=lab-libipsec-psk-0123456789

# Sends one UDP datagram from node NODE to ADDR port 9 after the route
# check.
send_udp()
{
    lab_route_check "$1" "$2" || return 1
    # shellcheck disable=SC2016 # $1 belongs to the inner bash
    lab_exec "$1" bash -c 'printf lab-probe >"/dev/udp/$1/9"' sh "$2"
}

# Prints the bytes-in counter of CHILD SA net in an sw_list_sas line.
child_bytes_in()
{
    sw_sa_field children | awk -F: '$1 == "net" { print $3; exit }'
}

lab_init || lab_fail "lab setup failed"
lab_node_add cli "$CLIENT/24" 2001:db8:1::1/64 || lab_fail "node cli"
lab_node_add gwa "$GW_A/24" 2001:db8:1::2/64 || lab_fail "node gwa"
lab_node_add gwb "$GW_B/24" "$GW_B6/64" || lab_fail "node gwb"

printf '%s %s\n' "$GW_B6" "$GW_B_NAME" >"$LAB_DIR/cli.hosts"
sw_setup cli cli --libipsec --hosts "$LAB_DIR/cli.hosts" ||
    lab_fail "client setup"
sw_conn cli home remote_addrs="$GW_A" local_id=client@example.net \
    remote_id=gw.example.net secret="$PSK" vips=0.0.0.0 \
    child=net remote_ts="$INNER" || lab_fail "client connection"
for gw in gwa gwb; do
    if [ "$gw" = gwa ]; then addr=$GW_A; else addr=$GW_B6; fi
    lab_addr_add "$gw" "$INNER_HOST/32" lo || lab_fail "inner host on $gw"
    sw_setup "$gw" "$gw" --libipsec || lab_fail "$gw setup"
    sw_conn "$gw" gw local_addrs="$addr" local_id=gw.example.net \
        remote_id=client@example.net secret="$PSK" pool="$POOL" \
        child=net local_ts="$INNER" || lab_fail "$gw connection"
done
for inst in gwa gwb cli; do
    sw_start "$inst" || lab_fail "charon $inst did not start"
    sw_load "$inst" || lab_fail "loading the configuration of $inst failed"
done

cap_start cli cli || lab_fail "capture on cli did not start"

sw_initiate cli home 10 net || lab_fail "client could not establish with gateway A"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_A" 5) ||
    lab_fail "no established IKE SA with gateway A"
lab_log "gateway A: $sa"
vip=$(sw_sa_field vip <<<"$sa")
[[ $vip == 203.0.113.1[2-9][0-9] || $vip == 203.0.113.2[0-5][0-9] ]] ||
    lab_fail "virtual IP '$vip' is not from the pool $POOL"
[[ $(sw_sa_field children <<<"$sa") == net:INSTALLED:* ]] ||
    lab_fail "CHILD SA net is not installed: $sa"

send_udp cli "$INNER_HOST" || lab_fail "sending through the tunnel to gateway A"
for ((i = 0; i < 30; i++)); do
    bytes=$(sw_list_sas gwa gw | child_bytes_in)
    [ "${bytes:-0}" -gt 0 ] && break
    sleep 0.1
done
[ "${bytes:-0}" -gt 0 ] || lab_fail "gateway A's CHILD SA received no bytes"

sw_redirect gwa "$CLIENT" "$GW_B_NAME" ||
    lab_fail "swanctl --redirect on gwa failed"
sa=$(sw_wait_sa cli home ESTABLISHED "$GW_B6" 10) ||
    lab_fail "client did not establish with gateway B after the redirect"
for ((i = 0; i < 50; i++)); do
    [[ $(sw_sa_field children <<<"$sa") == net:INSTALLED:* ]] && break
    sleep 0.1
    sa=$(sw_list_sas cli home | grep "remote=$GW_B6 ")
done
lab_log "gateway B: $sa"
[[ $(sw_sa_field children <<<"$sa") == net:INSTALLED:* ]] ||
    lab_fail "CHILD SA net is not installed at gateway B: $sa"
[ "$(sw_sa_field vip <<<"$sa")" != - ] ||
    lab_fail "no virtual IP from gateway B"
sw_log_grep cli "redirected to $GW_B_NAME" >/dev/null ||
    lab_fail "client log has no 'redirected to $GW_B_NAME'"
sw_log_grep cli "installing new virtual IP" >/dev/null ||
    lab_fail "client log has no 'installing new virtual IP'"

send_udp cli "$INNER_HOST" || lab_fail "sending through the tunnel to gateway B"
for ((i = 0; i < 30; i++)); do
    bytes=$(sw_list_sas gwb gw | child_bytes_in)
    [ "${bytes:-0}" -gt 0 ] && break
    sleep 0.1
done
[ "${bytes:-0}" -gt 0 ] || lab_fail "gateway B's CHILD SA received no bytes"

cap_stop cli || lab_fail "stopping the capture failed"
cap_check_ike cli || lab_fail "IKE decode check of the client capture failed"
exit 0
