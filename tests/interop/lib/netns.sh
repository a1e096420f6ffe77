# shellcheck shell=bash
# Network namespace lab for the interop tests.  Source this file, then call
# lab_init once.  Every namespace, process and file the lab creates belongs
# to one run: namespace names start with the run prefix $LAB_PREFIX, the
# PIDs of started processes are recorded in $LAB_STATE/pids, and lab_cleanup
# (registered on EXIT, INT and TERM) removes exactly those.
#
# Addresses are restricted to the documentation ranges 198.51.100.0/24,
# 203.0.113.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849).  Every function
# that makes something send calls lab_route_check first, which rejects a
# target unless the route to it stays on an interface of this run.
#
# Layout: one hub namespace contains the bridge br0.  Each node namespace has
# eth0, the peer of a veth whose other end is a port of br0.  Both ends are
# created inside namespaces, so the root namespace never sees them.

LAB_PREFIX=
LAB_DIR=${LAB_DIR:-}
LAB_STATE=
LAB_HUB=
LAB_CLEANED=0
LAB_REMOVE_DIR=0
LAB_PORT_COUNT=0
# PID of the last program started by lab_spawn, for the caller.
# shellcheck disable=SC2034
LAB_SPAWNED_PID=

# Prints a message prefixed with "lab:" on stderr.
lab_log()
{
    printf 'lab: %s\n' "$*" >&2
}

# Prints an error and returns 1, so callers can write `... || return`.
lab_err()
{
    printf 'lab: error: %s\n' "$*" >&2
    return 1
}

# Fails unless the shell runs as root: namespaces, veths and mounts need it.
lab_require_root()
{
    if [ "$(id -u)" != 0 ]; then
        lab_err "must run as root (it creates network namespaces and" \
            "mounts); run it with sudo or as root"
        return 1
    fi
}

# Fails with the package to install unless every named command exists.
# Arguments are pairs COMMAND:PACKAGE.
lab_require_cmds()
{
    local pair cmd pkg missing=0

    for pair in "$@"; do
        cmd=${pair%%:*}
        pkg=${pair#*:}
        if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "$cmd" ]; then
            lab_err "command '$cmd' not found; install the Debian" \
                "package '$pkg' (make deps)"
            missing=1
        fi
    done
    return "$missing"
}

# Prints N in base 36 (digits and lower-case letters).
_lab_base36()
{
    local n=$1 digits=0123456789abcdefghijklmnopqrstuvwxyz out=

    while [ "$n" -gt 0 ]; do
        out=${digits:$((n % 36)):1}$out
        n=$((n / 36))
    done
    printf '%s\n' "${out:-0}"
}

# Prints field FIELD (1-based, as in proc(5)) of /proc/PID/stat.  The comm
# field may contain spaces and parentheses, so fields are counted after the
# last ')'.
_lab_proc_stat_field()
{
    local pid=$1 field=$2 stat rest

    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    shift $((field - 3))
    printf '%s\n' "$1"
}

# ---------------------------------------------------------------------------
# Address validation

# Succeeds if $1 is a dotted-quad IPv4 address without leading zeros.
_lab_ip4_valid()
{
    local re='^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$'
    local i

    [[ $1 =~ $re ]] || return 1
    for i in 1 2 3 4; do
        [ "${BASH_REMATCH[$i]}" -le 255 ] || return 1
    done
}

# Prints the IPv6 address $1 as eight groups of four lower-case hex digits
# separated by ':', or fails if $1 is not an IPv6 address.  Embedded IPv4
# notation (::ffff:192.0.2.1) is not accepted.
_lab_ip6_expand()
{
    local addr=${1,,} head tail fill i
    local -a groups=() front=() back=()

    [[ $addr =~ ^[0-9a-f:]+$ ]] || return 1
    if [[ $addr == :* && $addr != ::* ]] || [[ $addr == *: && $addr != *:: ]]; then
        return 1
    fi
    if [[ $addr == *::* ]]; then
        head=${addr%%::*}
        tail=${addr#*::}
        [[ $tail == *::* ]] && return 1
        [ -n "$head" ] && IFS=: read -ra front <<<"$head"
        [ -n "$tail" ] && IFS=: read -ra back <<<"$tail"
        fill=$((8 - ${#front[@]} - ${#back[@]}))
        [ "$fill" -ge 1 ] || return 1
        groups=("${front[@]}")
        for ((i = 0; i < fill; i++)); do
            groups+=(0)
        done
        groups+=("${back[@]}")
    else
        IFS=: read -ra groups <<<"$addr"
    fi
    [ "${#groups[@]}" -eq 8 ] || return 1
    for i in "${groups[@]}"; do
        [[ $i =~ ^[0-9a-f]{1,4}$ ]] || return 1
    done
    printf '%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x\n' \
        "0x${groups[0]}" "0x${groups[1]}" "0x${groups[2]}" "0x${groups[3]}" \
        "0x${groups[4]}" "0x${groups[5]}" "0x${groups[6]}" "0x${groups[7]}"
}

# Prints 4 or 6 if $1 (an address without prefix length) lies inside
# 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32, else fails.
_lab_addr_family()
{
    local addr=$1 full

    if _lab_ip4_valid "$addr"; then
        case $addr in
        198.51.100.* | 203.0.113.*) echo 4; return 0 ;;
        esac
        return 1
    fi
    full=$(_lab_ip6_expand "$addr") || return 1
    [[ $full == 2001:0db8:* ]] || return 1
    echo 6
}

# Succeeds if $1 is ADDR/PREFIX with ADDR inside a documentation range and
# a prefix length that keeps the whole network inside it (>= 24 for IPv4,
# >= 32 for IPv6).
lab_addr_check()
{
    local spec=$1 addr plen family max min

    if [[ $spec != */* ]]; then
        lab_err "'$spec' has no prefix length (write ADDR/LEN)"
        return 1
    fi
    addr=${spec%/*}
    plen=${spec##*/}
    if ! family=$(_lab_addr_family "$addr"); then
        lab_err "'$addr' is outside the documentation ranges" \
            "198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32"
        return 1
    fi
    if [ "$family" = 4 ]; then
        min=24 max=32
    else
        min=32 max=128
    fi
    if ! [[ $plen =~ ^[0-9]{1,3}$ ]] || [ "$plen" -lt "$min" ] ||
        [ "$plen" -gt "$max" ]; then
        lab_err "prefix length '/$plen' of '$spec' is invalid; it must be" \
            "$min..$max so that the network stays inside its range"
        return 1
    fi
}

# Succeeds if $1 is a bare address that a sender may target: inside a
# documentation range or on loopback (127.0.0.0/8, ::1).
_lab_target_allowed()
{
    local addr=$1

    _lab_addr_family "$addr" >/dev/null && return 0
    if _lab_ip4_valid "$addr"; then
        [[ $addr == 127.* ]] && return 0
        return 1
    fi
    [ "$(_lab_ip6_expand "$addr" 2>/dev/null)" = \
        0000:0000:0000:0000:0000:0000:0000:0001 ]
}

# ---------------------------------------------------------------------------
# Run state

# Sets up the run: root check, prefix, state directory, hub namespace and
# the cleanup traps.  The runner sets LAB_DIR beforehand to keep the logs
# in its own directory.  Without LAB_DIR a directory under /tmp is created,
# and lab_cleanup removes it if the run exits with status 0 or 77.
lab_init()
{
    local tries=0 suffix

    lab_require_root || return 1
    lab_require_cmds ip:iproute2 unshare:util-linux timeout:coreutils || return 1

    if [ -n "$LAB_PREFIX" ]; then
        lab_err "lab_init called twice in one run"
        return 1
    fi
    # The prefix is "iks", the PID in base 36 and one random character:
    # at most 9 characters, so that "<prefix>p<n>" port names stay within
    # the 15 characters of IFNAMSIZ.
    while :; do
        suffix=$(_lab_base36 $((RANDOM % 36)))
        LAB_PREFIX=iks$(_lab_base36 $$)$suffix
        if ! ip netns list 2>/dev/null | awk '{print $1}' |
            grep -q "^$LAB_PREFIX-"; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 36 ]; then
            lab_err "no unused namespace prefix for PID $$"
            LAB_PREFIX=
            return 1
        fi
    done

    if [ -z "$LAB_DIR" ]; then
        LAB_DIR=$(mktemp -d "/tmp/$LAB_PREFIX.XXXXXX") || return 1
        LAB_REMOVE_DIR=1
    fi
    mkdir -p "$LAB_DIR" || return 1
    LAB_STATE=$LAB_DIR/state
    mkdir -p "$LAB_STATE" || return 1
    : >"$LAB_STATE/pids"
    : >"$LAB_STATE/ifaces"
    : >"$LAB_STATE/nodes"
    : >"$LAB_STATE/addrs"

    trap 'lab_cleanup' EXIT
    trap 'lab_cleanup 130; trap - INT; kill -s INT $$' INT
    trap 'lab_cleanup 143; exit 143' TERM

    LAB_HUB=$LAB_PREFIX-hub
    ip netns add "$LAB_HUB" || return 1
    ip -n "$LAB_HUB" link set lo up || return 1
    ip -n "$LAB_HUB" link add br0 type bridge || return 1
    ip -n "$LAB_HUB" link set br0 up || return 1
    _lab_iface_record "$LAB_HUB" lo
    _lab_iface_record "$LAB_HUB" br0
    lab_log "run prefix $LAB_PREFIX, state in $LAB_DIR"
}

# Prints the namespace name of node NAME.
lab_ns()
{
    printf '%s-%s\n' "$LAB_PREFIX" "$1"
}

# Succeeds if NAME is a node of this run.
lab_node_exists()
{
    grep -qx "$1" "$LAB_STATE/nodes" 2>/dev/null
}

# Runs a command inside node NAME's namespace.
lab_exec()
{
    local node=$1

    shift
    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    ip netns exec "$(lab_ns "$node")" "$@"
}

_lab_iface_record()
{
    printf '%s %s\n' "$1" "$2" >>"$LAB_STATE/ifaces"
}

# Records that interface IFACE in node NAME was created by something this
# run started (for example ipsec0 of a charon with kernel-libipsec), so
# that lab_route_check accepts routes through it.
lab_iface_register()
{
    lab_node_exists "$1" || lab_err "no node '$1' in this run" || return
    _lab_iface_record "$(lab_ns "$1")" "$2"
}

# Creates the namespace of node NAME with lo up and IPv6 DAD off.
_lab_ns_create()
{
    local node=$1 ns

    if ! [[ $node =~ ^[a-z][a-z0-9]{0,7}$ ]]; then
        lab_err "node name '$node' is invalid; use 1-8 characters a-z0-9," \
            "starting with a letter"
        return 1
    fi
    if lab_node_exists "$node"; then
        lab_err "node '$node' already exists"
        return 1
    fi
    ns=$(lab_ns "$node")
    ip netns add "$ns" || return 1
    echo "$node" >>"$LAB_STATE/nodes"
    ip -n "$ns" link set lo up || return 1
    _lab_iface_record "$ns" lo
    # Without DAD, addresses are usable at once instead of "tentative".
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.accept_dad=0 >/dev/null || return 1
}

# Adds ADDR/LEN on DEV in namespace NS; IPv6 addresses get nodad.
_lab_addr_add_ns()
{
    local ns=$1 spec=$2 dev=$3 node=$4

    lab_addr_check "$spec" || return 1
    if [[ $spec == *:* ]]; then
        ip -n "$ns" addr add "$spec" dev "$dev" nodad || return 1
    else
        ip -n "$ns" addr add "$spec" dev "$dev" || return 1
    fi
    printf '%s %s\n' "$node" "${spec%/*}" >>"$LAB_STATE/addrs"
}

# Creates node NAME: a namespace whose eth0 is a port of the hub bridge,
# with IPV4/LEN and optionally IPV6/LEN on it.  Both addresses must lie in
# the documentation ranges.
lab_node_add()
{
    local node=$1 v4=${2:-} v6=${3:-} ns port

    if [ -z "$v4" ]; then
        lab_err "usage: lab_node_add NAME IPV4/LEN [IPV6/LEN]"
        return 1
    fi
    lab_addr_check "$v4" || return 1
    if [[ $v4 == *:* ]]; then
        lab_err "'$v4': the second argument of lab_node_add is IPv4"
        return 1
    fi
    if [ -n "$v6" ]; then
        lab_addr_check "$v6" || return 1
        [[ $v6 == *:* ]] ||
            lab_err "'$v6': the third argument of lab_node_add is IPv6" ||
            return
    fi
    _lab_ns_create "$node" || return 1
    ns=$(lab_ns "$node")
    LAB_PORT_COUNT=$((LAB_PORT_COUNT + 1))
    port=${LAB_PREFIX}p$LAB_PORT_COUNT
    ip -n "$LAB_HUB" link add "$port" type veth peer name eth0 netns "$ns" ||
        return 1
    _lab_iface_record "$LAB_HUB" "$port"
    _lab_iface_record "$ns" eth0
    ip -n "$LAB_HUB" link set "$port" master br0 up || return 1
    _lab_addr_add_ns "$ns" "$v4" eth0 "$node" || return 1
    if [ -n "$v6" ]; then
        _lab_addr_add_ns "$ns" "$v6" eth0 "$node" || return 1
    fi
    ip -n "$ns" link set eth0 up || return 1
}

# Adds ADDR/LEN to DEV (default lo) of node NAME, for example an anycast
# 203.0.113.x/32 on a gateway's lo.
lab_addr_add()
{
    local node=$1 spec=${2:-} dev=${3:-lo}

    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    [ -n "$spec" ] || lab_err "usage: lab_addr_add NAME ADDR/LEN [DEV]" ||
        return
    _lab_addr_add_ns "$(lab_ns "$node")" "$spec" "$dev" "$node"
}

# Points the route to DEST/LEN in node NAME at next hop VIA (replacing any
# route to DEST), as a BGP announcement of an anycast address would.
lab_route_set()
{
    local node=$1 dest=${2:-} via=${3:-}

    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    if [ -z "$via" ]; then
        lab_err "usage: lab_route_set NAME DEST/LEN VIA"
        return 1
    fi
    lab_addr_check "$dest" || return 1
    _lab_addr_family "$via" >/dev/null ||
        lab_err "next hop '$via' is outside the documentation ranges" ||
        return
    ip -n "$(lab_ns "$node")" route replace "$dest" via "$via"
}

# Removes the route to DEST/LEN from node NAME.
lab_route_del()
{
    lab_node_exists "$1" || lab_err "no node '$1' in this run" || return
    ip -n "$(lab_ns "$1")" route del "$2"
}

# Prints the node that has address ADDR (first match), or fails.
lab_addr_owner()
{
    awk -v a="$1" '$2 == a { print $1; found = 1; exit } END { exit !found }' \
        "$LAB_STATE/addrs"
}

# Creates node NAME behind node ROUTER, which masquerades it with nft:
# NAME's eth0 (CLIENT/LEN) is linked point to point with a new interface
# "in<k>" of ROUTER (ROUTER_IN/LEN).  NAME routes the documentation ranges
# through ROUTER and has no default route.  ROUTER must already exist and
# is the NAT's outside address on the bridge.  An IPv6 pair may follow.
lab_nat_add()
{
    local node=$1 router=${2:-} client=${3:-} inside=${4:-}
    local client6=${5:-} inside6=${6:-} ns rns dev k net

    if [ -z "$inside" ]; then
        lab_err "usage: lab_nat_add NAME ROUTER CLIENT/LEN ROUTER_IN/LEN" \
            "[CLIENT6/LEN ROUTER_IN6/LEN]"
        return 1
    fi
    if ! command -v nft >/dev/null 2>&1; then
        lab_err "nft not found; install the Debian package 'nftables'"
        return 1
    fi
    lab_node_exists "$router" || lab_err "no router node '$router'" || return
    lab_addr_check "$client" || return 1
    lab_addr_check "$inside" || return 1
    if [ -n "$client6" ]; then
        lab_addr_check "$client6" || return 1
        lab_addr_check "$inside6" || return 1
    fi

    _lab_ns_create "$node" || return 1
    ns=$(lab_ns "$node")
    rns=$(lab_ns "$router")
    k=$(grep -c "^$rns in" "$LAB_STATE/ifaces")
    dev=in$k
    ip -n "$rns" link add "$dev" type veth peer name eth0 netns "$ns" ||
        return 1
    _lab_iface_record "$rns" "$dev"
    _lab_iface_record "$ns" eth0
    _lab_addr_add_ns "$rns" "$inside" "$dev" "$router" || return 1
    _lab_addr_add_ns "$ns" "$client" eth0 "$node" || return 1
    if [ -n "$client6" ]; then
        _lab_addr_add_ns "$rns" "$inside6" "$dev" "$router" || return 1
        _lab_addr_add_ns "$ns" "$client6" eth0 "$node" || return 1
    fi
    ip -n "$rns" link set "$dev" up || return 1
    ip -n "$ns" link set eth0 up || return 1

    # Only the documentation ranges go to the router; the more specific
    # connected route of the inside link still wins for its own subnet.
    for net in 198.51.100.0/24 203.0.113.0/24; do
        ip -n "$ns" route replace "$net" via "${inside%/*}" || return 1
    done
    if [ -n "$client6" ]; then
        ip -n "$ns" route replace 2001:db8::/32 via "${inside6%/*}" || return 1
    fi

    ip netns exec "$rns" sysctl -qw net.ipv4.ip_forward=1 >/dev/null ||
        return 1
    if [ -n "$client6" ]; then
        ip netns exec "$rns" sysctl -qw net.ipv6.conf.all.forwarding=1 \
            >/dev/null || return 1
    fi
    # One table per router.  Its rule masquerades everything that leaves
    # through eth0, so a second NAT client behind it needs no rule.
    if ! ip netns exec "$rns" nft list table inet labnat >/dev/null 2>&1; then
        ip netns exec "$rns" nft -f - <<EOF || return 1
table inet labnat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth0" masquerade
    }
}
EOF
    fi
}

# Makes router node ROUTER (built by lab_nat_add) forward IKE sent to its
# own address PUBLIC, UDP ports 500 and 4500, to INSIDE, a node behind
# it.  This is destination NAT, as a site firewall in front of a gateway
# does.  Connection tracking gives the replies PUBLIC as their source.
# IPv4 only.
lab_dnat_add()
{
    local router=$1 public=${2:-} inside=${3:-} rns

    if [ -z "$inside" ]; then
        lab_err "usage: lab_dnat_add ROUTER PUBLIC INSIDE"
        return 1
    fi
    lab_node_exists "$router" || lab_err "no router node '$router'" || return
    [ "$(_lab_addr_family "$public")" = 4 ] &&
        [ "$(_lab_addr_family "$inside")" = 4 ] ||
        lab_err "lab_dnat_add: '$public' and '$inside' must be IPv4" \
            "documentation addresses" || return
    rns=$(lab_ns "$router")
    ip netns exec "$rns" nft list table inet labnat >/dev/null 2>&1 ||
        lab_err "router '$router' has no NAT table; call lab_nat_add first" ||
        return
    ip netns exec "$rns" nft -f - <<EOF
table inet labnat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr $public udp dport { 500, 4500 } dnat ip to $inside
    }
}
EOF
}

# ---------------------------------------------------------------------------
# Route check

# Succeeds if a packet from node NAME to ADDR stays inside this run: ADDR
# is a documentation or loopback address and `ip route get` sends it
# through lo or an interface this run created.  Otherwise prints why and
# fails.  Every sender in the harness calls this first.
lab_route_check()
{
    local node=$1 addr=${2:-} ns out dev

    if [ -z "$addr" ]; then
        lab_err "usage: lab_route_check NAME ADDR"
        return 1
    fi
    if ! lab_node_exists "$node"; then
        lab_err "route check rejected sender '$node': it is not a node of" \
            "run $LAB_PREFIX"
        return 1
    fi
    if ! _lab_target_allowed "$addr"; then
        lab_err "route check rejected '$addr' from $node: not an address in" \
            "198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 or loopback"
        return 1
    fi
    ns=$(lab_ns "$node")
    if ! out=$(ip -n "$ns" route get "$addr" 2>&1); then
        lab_err "route check rejected $addr from $node: no route" \
            "(${out//$'\n'/ })"
        return 1
    fi
    dev=$(awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }' \
        <<<"$out")
    if [ -z "$dev" ]; then
        lab_err "route check rejected $addr from $node: no interface in" \
            "'${out//$'\n'/ }'"
        return 1
    fi
    if [ "$dev" = lo ] || grep -qx "$ns $dev" "$LAB_STATE/ifaces"; then
        return 0
    fi
    lab_err "route check rejected $addr from $node: the route leaves through" \
        "'$dev', which this run did not create"
    return 1
}

# ---------------------------------------------------------------------------
# Processes

# Starts program CMD in the background with stdout and stderr appended to
# LOG, records its PID and start time in $LAB_STATE/pids, and sets
# LAB_SPAWNED_PID.  CMD must be an executable, not a shell function, and
# should exec its way to the real program (ip netns exec, unshare and
# `sh -c '... exec prog'` do) so that the recorded PID is that program.
lab_spawn()
{
    local log=$1 pid start cmd

    shift
    if [ "$(type -t "$1")" != file ]; then
        lab_err "lab_spawn: '$1' is not an executable"
        return 1
    fi
    "$@" >>"$log" 2>&1 &
    pid=$!
    start=$(_lab_proc_stat_field "$pid" 22) || start=0
    cmd="$*"
    printf '%s %s %s\n' "$pid" "$start" "${cmd:0:160}" >>"$LAB_STATE/pids"
    # shellcheck disable=SC2034 # read by the caller
    LAB_SPAWNED_PID=$pid
}

# Starts program CMD inside node NAME like lab_spawn does.
lab_spawn_in()
{
    local node=$1 log=$2

    shift 2
    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    lab_spawn "$log" ip netns exec "$(lab_ns "$node")" "$@"
}

# Succeeds if PID is alive (not a zombie) and has the start time that was
# recorded for it, so a reused PID is never taken for ours.
_lab_pid_ours_alive()
{
    local pid=$1 start=$2 now state

    now=$(_lab_proc_stat_field "$pid" 22) || return 1
    state=$(_lab_proc_stat_field "$pid" 3) || return 1
    [ "$state" != Z ] || return 1
    [ "$start" = 0 ] || [ "$now" = "$start" ]
}

# Prints the recorded start time of PID, or fails if this run did not
# start PID.
_lab_pid_start()
{
    awk -v p="$1" '$1 == p { start = $2; found = 1 }
        END { if (found) print start; exit !found }' "$LAB_STATE/pids"
}

# Sends SIGNAL (default TERM) to PID, a process this run started, and
# waits up to WAIT seconds (default 5) for it to exit.  A process still
# alive then gets SIGKILL.  Fails if PID was not started by this run.
lab_kill()
{
    local pid=$1 sig=${2:-TERM} wait=${3:-5} start i

    start=$(_lab_pid_start "$pid") ||
        lab_err "PID $pid was not started by this run" || return
    _lab_pid_ours_alive "$pid" "$start" || { wait "$pid" 2>/dev/null; return 0; }
    kill -s "$sig" "$pid" 2>/dev/null
    for ((i = 0; i < wait * 20; i++)); do
        _lab_pid_ours_alive "$pid" "$start" || break
        sleep 0.05
    done
    if _lab_pid_ours_alive "$pid" "$start"; then
        lab_log "PID $pid did not exit after SIG$sig; sending SIGKILL"
        kill -s KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# Kills, by PID, every process left inside namespace NS.  Such processes
# were started by this run, directly or as children (tshark's dumpcap).
_lab_kill_ns_pids()
{
    local ns=$1 pids pid i

    pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
    [ -n "$pids" ] || return 0
    lab_log "killing PIDs left in $ns: ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -s TERM $pids 2>/dev/null
    for ((i = 0; i < 40; i++)); do
        [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || return 0
        sleep 0.05
    done
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
        kill -s KILL "$pid" 2>/dev/null
    done
}

# Removes everything this run created: kills the recorded PIDs (by PID,
# after checking their start time), kills any process still inside this
# run's namespaces, deletes the namespaces with this run's prefix and the
# state directory.  STATUS (default: the last exit status) decides
# whether a directory lab_init made is removed: only after 0 or 77 (skip).
# Safe to call more than once.
lab_cleanup()
{
    local status=${1:-$?} pid start cmd ns i alive

    [ "$LAB_CLEANED" = 0 ] || return "$status"
    LAB_CLEANED=1
    [ -n "$LAB_PREFIX" ] || return "$status"

    if [ -s "$LAB_STATE/pids" ]; then
        while read -r pid start cmd; do
            _lab_pid_ours_alive "$pid" "$start" &&
                kill -s TERM "$pid" 2>/dev/null
        done <"$LAB_STATE/pids"
        for ((i = 0; i < 60; i++)); do
            alive=0
            while read -r pid start cmd; do
                _lab_pid_ours_alive "$pid" "$start" && alive=1
            done <"$LAB_STATE/pids"
            [ "$alive" = 0 ] && break
            sleep 0.05
        done
        while read -r pid start cmd; do
            if _lab_pid_ours_alive "$pid" "$start"; then
                lab_log "PID $pid ($cmd) ignored SIGTERM; sending SIGKILL"
                kill -s KILL "$pid" 2>/dev/null
            fi
            wait "$pid" 2>/dev/null
        done <"$LAB_STATE/pids"
    fi

    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' |
        grep "^$LAB_PREFIX-"); do
        _lab_kill_ns_pids "$ns"
        ip netns del "$ns" 2>/dev/null ||
            lab_log "could not delete namespace $ns"
    done

    if [ "$LAB_REMOVE_DIR" = 1 ]; then
        if { [ "$status" = 0 ] || [ "$status" = 77 ]; } &&
            [ -z "${LAB_KEEP:-}" ]; then
            rm -rf "$LAB_DIR"
        else
            lab_log "logs kept in $LAB_DIR"
        fi
    fi
    return "$status"
}

# ---------------------------------------------------------------------------
# Case results, read by run.sh

# Ends the case as failed with REASON (one line, shown by the runner).
lab_fail()
{
    lab_err "$*"
    if [ -n "${LAB_RESULT_FILE:-}" ]; then
        printf '%s\n' "$*" >"$LAB_RESULT_FILE"
    fi
    exit 1
}

# Ends the case as skipped with REASON.  The runner counts exit status 77
# as a skip.
lab_skip()
{
    lab_log "skip: $*"
    if [ -n "${LAB_RESULT_FILE:-}" ]; then
        printf '%s\n' "$*" >"$LAB_RESULT_FILE"
    fi
    exit 77
}
