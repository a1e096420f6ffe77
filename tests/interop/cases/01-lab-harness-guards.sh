#!/bin/bash
# Lab check, not a product test: the harness's own guards.  Addresses
# outside the documentation ranges are rejected, lab_route_check rejects
# targets whose route leaves this run's interfaces, lab_kill rejects PIDs
# this run did not start, and cap_check_ike fails on a malformed IKE
# packet.  No strongSwan runs here.

# shellcheck disable=SC2034 # run.sh reads CASE_TIMEOUT from this file
CASE_TIMEOUT=30

set -u
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
# shellcheck source=../lib/netns.sh
. "$LIB/netns.sh"
# shellcheck source=../lib/capture.sh
. "$LIB/capture.sh"

# Runs "$@" and fails the case if it succeeds.
expect_reject()
{
    local what=$1

    shift
    if "$@" 2>>"$LAB_DIR/rejects.log"; then
        lab_fail "accepted: $what"
    fi
}

lab_init || lab_fail "lab setup failed"
lab_node_add a 198.51.100.1/24 2001:db8:1::1/64 || lab_fail "node a"
lab_node_add b 198.51.100.2/24 2001:db8:1::2/64 || lab_fail "node b"

expect_reject "node in 10.0.0.0/8" lab_node_add x1 10.0.0.1/24
expect_reject "node with /16 prefix" lab_node_add x2 198.51.100.9/16
expect_reject "node without prefix" lab_node_add x3 198.51.100.9
expect_reject "IPv6 outside 2001:db8::/32" \
    lab_node_add x4 198.51.100.9/24 2001:db9::1/64
expect_reject "IPv6 with /16 prefix" lab_node_add x5 198.51.100.9/24 2001:db8::9/16
expect_reject "address with leading zero" lab_node_add x6 198.51.100.09/24
expect_reject "node name too long" lab_node_add abcdefghi 198.51.100.9/24
expect_reject "duplicate node" lab_node_add a 198.51.100.9/24
expect_reject "address in 192.0.2.0/24" lab_addr_add a 192.0.2.1/32
expect_reject "IPv4-mapped IPv6" lab_addr_add a ::ffff:198.51.100.7/128
expect_reject "default route" lab_route_set a 0.0.0.0/0 198.51.100.2
expect_reject "next hop in 10.0.0.0/8" lab_route_set a 203.0.113.9/32 10.0.0.1
ip netns list | grep -q -- "-x[1-6]\$" && lab_fail "a rejected node left a namespace"

lab_route_check a 198.51.100.2 || lab_fail "route to a bridge peer refused"
lab_route_check a 2001:db8:1::2 || lab_fail "IPv6 route to a bridge peer refused"
lab_route_check a 127.0.0.1 || lab_fail "route to loopback refused"
lab_route_check a 198.51.100.1 || lab_fail "route to the node's own address refused"
expect_reject "target 8.8.8.8" lab_route_check a 8.8.8.8
expect_reject "target 192.0.2.1" lab_route_check a 192.0.2.1
expect_reject "target without route" lab_route_check a 203.0.113.99
expect_reject "target that is a name" lab_route_check a gw.example.net
expect_reject "sender outside this run" lab_route_check nosuch 198.51.100.2

# An anycast address on b's lo, routed from a through b.
lab_addr_add b 203.0.113.10/32 || lab_fail "anycast address on b"
lab_route_set a 203.0.113.10/32 198.51.100.2 || lab_fail "anycast route on a"
lab_route_check a 203.0.113.10 || lab_fail "route to the anycast address refused"

# A route through an interface the harness did not create.
lab_exec a ip link add stray type veth peer name strayp ||
    lab_fail "unregistered veth"
lab_exec a ip link set strayp up || lab_fail "unregistered veth peer up"
lab_exec a ip link set stray up || lab_fail "unregistered veth up"
lab_exec a ip route add 203.0.113.64/26 dev stray || lab_fail "route via unregistered veth"
expect_reject "route through an unknown interface" \
    lab_route_check a 203.0.113.65
grep -q "leaves through 'stray'" "$LAB_DIR/rejects.log" ||
    lab_fail "route check did not name the unknown interface"

expect_reject "kill of PID 1" lab_kill 1
kill -0 1 || lab_fail "PID 1 is gone"

# A datagram to UDP 500 whose IKE header claims 200 octets but carries 28.
cap_start b b || lab_fail "capture on b did not start"
lab_route_check a 198.51.100.2 || lab_fail "route check before sending"
lab_exec a bash -c 'printf "%b" "\x11\x22\x33\x44\x55\x66\x77\x88\x00\x00\x00\x00\x00\x00\x00\x00\x21\x20\x22\x08\x00\x00\x00\x00\x00\x00\x00\xc8" >/dev/udp/198.51.100.2/500' ||
    lab_fail "sending the truncated IKE header failed"
cap_stop b || lab_fail "stopping the capture failed"
expect_reject "malformed IKE packet" cap_check_ike b
grep -q "malformed or erroneous IKE packets (frames 1)" "$LAB_DIR/rejects.log" ||
    lab_fail "cap_check_ike did not report frame 1"

lab_log "$(grep -c 'lab: error' "$LAB_DIR/rejects.log") rejections as expected"
exit 0
