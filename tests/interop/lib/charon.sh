# shellcheck shell=bash
# strongSwan charon instances inside lab nodes (netns.sh must be sourced
# and lab_init called first).  Written for strongSwan 5.9.8 as packaged in
# Debian 12: /usr/lib/ipsec/charon and swanctl.
#
# Each instance NAME has a directory $LAB_DIR/sw/NAME with strongswan.conf,
# swanctl/swanctl.conf (which includes swanctl/conf.d/*.conf), charon.log,
# the vici socket and a run/ directory that is bind-mounted over /run in a
# private mount namespace.  charon 5.9.8 writes /var/run/charon.pid even
# when its configuration sets another piddir, and two instances must not
# share that file.
#
#   sw_setup gw1 gw1node --ike-log 4
#   sw_conn gw1 gw local_addrs=198.51.100.2 local_id=gw.example.net \
#       remote_id=client@example.net secret=testsecret0123456789
#   sw_start gw1 && sw_load gw1
#   sw_initiate cli home 10
#   sw_list_sas cli home   # name=home id=1 state=ESTABLISHED remote=...

SW_CHARON=${SW_CHARON:-/usr/lib/ipsec/charon}
SW_PROPOSALS_DEFAULT=aes128gcm16-prfsha256-x25519
SW_ESP_DEFAULT=aes128gcm16

# Prints the directory of instance NAME.
sw_dir()
{
    printf '%s/sw/%s\n' "$LAB_DIR" "$1"
}

# Prints the node that instance NAME runs in.
sw_node()
{
    cat "$(sw_dir "$1")/node" 2>/dev/null ||
        lab_err "no strongSwan instance '$1' (call sw_setup first)"
}

# Runs swanctl against instance NAME's vici socket; output goes to stdout.
# The "opening directory ... failed" warnings for absent x509 folders are
# dropped.
sw_swanctl()
{
    local name=$1 dir

    shift
    dir=$(sw_dir "$name")
    swanctl "$@" --uri "unix://$dir/charon.vici" 2>&1 |
        grep -v "^opening directory '.*' failed"
    return "${PIPESTATUS[0]}"
}

# Writes the configuration of instance NAME that runs in node NODE.
# Options:
#   --ike-log N    log level of the ike group (default 2; 4 logs the IKE
#                  keys, which cap_check_ike needs to decrypt SK payloads)
#   --log G=N      log level N for another group G (repeatable)
#   --libipsec     use kernel-libipsec for ESP (userspace, TUN device
#                  ipsec0) and let charon install virtual IPs and routes.
#                  CHILD SAs need it when the kernel has no ESP support.
#   --hosts FILE   bind-mount FILE over /etc/hosts for charon, so that
#                  FQDN redirect targets resolve
#   --conf LINE    extra line inside the charon section (repeatable), for
#                  example 'follow_redirects = no'
sw_setup()
{
    local name=$1 node=${2:-} dir ike_log=2 libipsec=0 hosts='' load
    local -a logs=() extra=()

    if [ -z "$node" ]; then
        lab_err "usage: sw_setup NAME NODE [--ike-log N] [--log G=N]" \
            "[--libipsec] [--hosts FILE] [--conf LINE]"
        return 1
    fi
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
        --ike-log) ike_log=$2; shift ;;
        --log) logs+=("$2"); shift ;;
        --libipsec) libipsec=1 ;;
        --hosts) hosts=$2; shift ;;
        --conf) extra+=("$2"); shift ;;
        *) lab_err "sw_setup: unknown option '$1'"; return 1 ;;
        esac
        shift
    done
    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    lab_require_cmds "$SW_CHARON:strongswan-charon" swanctl:strongswan-swanctl ||
        return 1
    if ! [[ $name =~ ^[a-z][a-z0-9_-]{0,15}$ ]]; then
        lab_err "instance name '$name' is invalid"
        return 1
    fi
    dir=$(sw_dir "$name")
    if [ -e "$dir" ]; then
        lab_err "strongSwan instance '$name' already exists"
        return 1
    fi
    mkdir -p "$dir/run" "$dir/swanctl/conf.d" || return 1
    echo "$node" >"$dir/node"
    : >"$dir/targets"
    if [ -n "$hosts" ]; then
        cp "$hosts" "$dir/hosts" || return 1
    fi

    load="kdf random nonce aes sha1 sha2 hmac gmp curve25519 openssl"
    if [ "$libipsec" = 1 ]; then
        load="$load kernel-libipsec"
        touch "$dir/libipsec"
    fi
    load="$load kernel-netlink socket-default vici"

    {
        echo "charon {"
        echo "    load_modular = no"
        echo "    load = $load"
        echo "    filelog {"
        echo "        lab {"
        echo "            path = $dir/charon.log"
        echo "            append = no"
        echo "            flush_line = yes"
        echo "            time_format = %T"
        echo "            default = 1"
        echo "            ike = $ike_log"
        local g
        for g in "${logs[@]}"; do
            echo "            ${g%%=*} = ${g#*=}"
        done
        echo "        }"
        echo "    }"
        echo "    plugins {"
        echo "        vici {"
        echo "            socket = unix://$dir/charon.vici"
        echo "        }"
        echo "    }"
        if [ "$libipsec" = 1 ]; then
            echo "    install_routes = yes"
            echo "    install_virtual_ip = yes"
        else
            echo "    install_routes = no"
            echo "    install_virtual_ip = no"
        fi
        local line
        for line in "${extra[@]}"; do
            echo "    $line"
        done
        echo "}"
    } >"$dir/strongswan.conf"
    echo "include conf.d/*.conf" >"$dir/swanctl/swanctl.conf"
}

# Records the remote_addrs of every connection in swanctl file FILE into
# the instance's targets file, for the route check in sw_initiate.
_sw_targets_scan()
{
    local dir=$1 file=$2

    awk '
        { sub(/#.*/, "") }
        /\{[[:space:]]*$/ {
            n = $0; sub(/[[:space:]]*\{[[:space:]]*$/, "", n)
            gsub(/^[[:space:]]+/, "", n); stack[++depth] = n; next
        }
        /^[[:space:]]*\}/ { depth--; next }
        depth == 2 && stack[1] == "connections" &&
            $1 == "remote_addrs" && $2 == "=" {
            v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); gsub(/[[:space:]]/, "", v)
            print stack[2], v
        }
    ' "$file" >>"$dir/targets"
}

# Adds a swanctl.conf fragment PART for instance NAME, read from stdin
# (a heredoc).  It is loaded by sw_load like every other fragment.
sw_conf_add()
{
    local name=$1 part=${2:-} dir

    [ -n "$part" ] || lab_err "usage: sw_conf_add NAME PART < FILE" || return
    dir=$(sw_dir "$name")
    [ -d "$dir" ] || lab_err "no strongSwan instance '$name'" || return
    cat >"$dir/swanctl/conf.d/$part.conf" || return 1
    _sw_targets_scan "$dir" "$dir/swanctl/conf.d/$part.conf"
}

# Writes connection CONN (IKEv2, PSK) for instance NAME from KEY=VALUE
# arguments.  Only secret is required.
#   secret        the pre-shared key
#   local_addrs, remote_addrs, local_id, remote_id
#                 as in swanctl.conf; without remote_addrs the connection
#                 only responds
#   proposals     IKE proposal (default aes128gcm16-prfsha256-x25519)
#   vips          requested virtual IP, for example 0.0.0.0
#   pool          address range handed out as virtual IPs (gateway side)
#   child         CHILD SA name, with local_ts, remote_ts, start_action
#                 and esp (default aes128gcm16)
#   unique, mobike, rekey_time, dpd_delay
#                 copied to the connection unchanged
sw_conn()
{
    local name=$1 conn=${2:-} dir kv key val
    local -A o=()

    if [ -z "$conn" ]; then
        lab_err "usage: sw_conn NAME CONN KEY=VALUE..."
        return 1
    fi
    shift 2
    for kv in "$@"; do
        key=${kv%%=*}
        val=${kv#*=}
        case $key in
        local_addrs | remote_addrs | local_id | remote_id | secret | \
            proposals | vips | pool | child | local_ts | remote_ts | esp | \
            start_action | unique | mobike | rekey_time | dpd_delay)
            o[$key]=$val ;;
        *) lab_err "sw_conn: unknown key '$key'"; return 1 ;;
        esac
    done
    if [ -z "${o[secret]:-}" ]; then
        lab_err "sw_conn: secret=... is required (PSK authentication)"
        return 1
    fi
    dir=$(sw_dir "$name")
    [ -d "$dir" ] || lab_err "no strongSwan instance '$name'" || return

    {
        echo "connections {"
        echo "    $conn {"
        echo "        version = 2"
        echo "        proposals = ${o[proposals]:-$SW_PROPOSALS_DEFAULT}"
        for key in local_addrs remote_addrs vips unique mobike rekey_time \
            dpd_delay; do
            [ -n "${o[$key]:-}" ] && echo "        $key = ${o[$key]}"
        done
        [ -n "${o[pool]:-}" ] && echo "        pools = $conn-pool"
        echo "        local {"
        echo "            auth = psk"
        [ -n "${o[local_id]:-}" ] && echo "            id = ${o[local_id]}"
        echo "        }"
        echo "        remote {"
        echo "            auth = psk"
        [ -n "${o[remote_id]:-}" ] && echo "            id = ${o[remote_id]}"
        echo "        }"
        if [ -n "${o[child]:-}" ]; then
            echo "        children {"
            echo "            ${o[child]} {"
            for key in local_ts remote_ts start_action; do
                [ -n "${o[$key]:-}" ] && echo "                $key = ${o[$key]}"
            done
            echo "                esp_proposals = ${o[esp]:-$SW_ESP_DEFAULT}"
            echo "            }"
            echo "        }"
        fi
        echo "    }"
        echo "}"
        if [ -n "${o[pool]:-}" ]; then
            echo "pools {"
            echo "    $conn-pool {"
            echo "        addrs = ${o[pool]}"
            echo "    }"
            echo "}"
        fi
        echo "secrets {"
        echo "    ike-$conn {"
        val=1
        for key in local_id remote_id; do
            if [ -n "${o[$key]:-}" ]; then
                echo "        id-$val = ${o[$key]}"
                val=$((val + 1))
            fi
        done
        echo "        secret = \"${o[secret]}\""
        echo "    }"
        echo "}"
    } >"$dir/swanctl/conf.d/$conn.conf"
    if [ -n "${o[remote_addrs]:-}" ]; then
        echo "$conn ${o[remote_addrs]}" >>"$dir/targets"
    fi
}

# Starts charon for instance NAME in its node and waits up to TIMEOUT
# seconds (default 10) until swanctl gets a response on its vici socket.
# Prints the log tail and fails if charon exits or times out.
sw_start()
{
    local name=$1 timeout=${2:-10} dir node pid i

    node=$(sw_node "$name") || return 1
    dir=$(sw_dir "$name")
    rm -f "$dir/charon.vici"
    # The inner sh execs charon, so the recorded PID is charon's.
    # shellcheck disable=SC2016 # $1 and $2 belong to the inner sh
    lab_spawn_in "$node" "$dir/charon.out" unshare -m sh -c '
        mount --bind "$1/run" /run || exit 1
        if [ -f "$1/hosts" ]; then
            mount --bind "$1/hosts" /etc/hosts || exit 1
        fi
        STRONGSWAN_CONF="$1/strongswan.conf"
        export STRONGSWAN_CONF
        exec "$2"' sh "$dir" "$SW_CHARON" || return 1
    pid=$LAB_SPAWNED_PID
    echo "$pid" >"$dir/pid"
    if [ -f "$dir/libipsec" ]; then
        lab_iface_register "$node" ipsec0
    fi
    for ((i = 0; i < timeout * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null ||
            [ "$(_lab_proc_stat_field "$pid" 3)" = Z ]; then
            lab_err "charon '$name' (PID $pid) exited during start-up;" \
                "log $dir/charon.log:"
            tail -n 20 "$dir/charon.out" "$dir/charon.log" >&2 2>/dev/null
            return 1
        fi
        if [ -S "$dir/charon.vici" ] &&
            swanctl --stats --uri "unix://$dir/charon.vici" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    lab_err "charon '$name' (PID $pid) timed out: no vici response" \
        "within ${timeout}s; log $dir/charon.log"
    return 1
}

# Stops instance NAME's charon (SIGTERM, then SIGKILL after 5 s).
sw_stop()
{
    local dir

    dir=$(sw_dir "$1")
    [ -f "$dir/pid" ] || return 0
    lab_kill "$(cat "$dir/pid")" TERM 5
}

# Loads every credential, pool and connection of instance NAME.  swanctl's
# output is appended to swanctl.log in the instance directory.
sw_load()
{
    local name=$1 dir out

    dir=$(sw_dir "$name")
    if ! out=$(sw_swanctl "$name" --load-all --file "$dir/swanctl/swanctl.conf"); then
        printf '%s\n' "$out" >>"$dir/swanctl.log"
        lab_err "swanctl --load-all failed for '$name':" \
            "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
        return 1
    fi
    printf '%s\n' "$out" >>"$dir/swanctl.log"
}

# Runs lab_route_check from NODE for each entry of a comma-separated
# remote address list.  Names are resolved through the instance's hosts
# file only; %any, ranges and subnets cannot be checked and are rejected.
_sw_route_check_list()
{
    local dir=$1 node=$2 list=$3 item addrs addr found

    IFS=, read -ra addrs <<<"$list"
    for item in "${addrs[@]}"; do
        case $item in
        %any* | */* | *-*)
            lab_err "cannot check the route to remote address '$item'; use" \
                "a single address or a name from the hosts file"
            return 1 ;;
        esac
        if _lab_ip4_valid "$item" || _lab_ip6_expand "$item" >/dev/null; then
            lab_route_check "$node" "$item" || return 1
            continue
        fi
        found=0
        if [ -f "$dir/hosts" ]; then
            for addr in $(awk -v n="$item" '
                { sub(/#.*/, ""); for (i = 2; i <= NF; i++) if ($i == n) print $1 }
            ' "$dir/hosts"); do
                lab_route_check "$node" "$addr" || return 1
                found=1
            done
        fi
        if [ "$found" = 0 ]; then
            lab_err "remote name '$item' is not in the hosts file of this" \
                "instance, so its route cannot be checked"
            return 1
        fi
    done
}

# Initiates IKE SA CONN (and CHILD SA CHILD if given) of instance NAME and
# waits up to TIMEOUT seconds (default 10).  The route to every
# remote_addrs entry of CONN is checked first.
sw_initiate()
{
    local name=$1 conn=${2:-} timeout=${3:-10} child=${4:-} dir node list out rc
    local -a args=(--initiate --ike "$conn" --timeout "$timeout")

    [ -n "$conn" ] ||
        lab_err "usage: sw_initiate NAME CONN [TIMEOUT] [CHILD]" || return
    dir=$(sw_dir "$name")
    node=$(sw_node "$name") || return 1
    list=$(awk -v c="$conn" '$1 == c { print $2 }' "$dir/targets" | paste -sd,)
    if [ -z "$list" ]; then
        lab_err "connection '$conn' of '$name' has no remote_addrs to check"
        return 1
    fi
    _sw_route_check_list "$dir" "$node" "$list" || return 1
    [ -n "$child" ] && args+=(--child "$child")
    out=$(timeout $((timeout + 5)) \
        swanctl "${args[@]}" --uri "unix://$dir/charon.vici" 2>&1)
    rc=$?
    printf '%s\n' "$out" >>"$dir/swanctl.log"
    if [ "$rc" != 0 ]; then
        lab_err "initiating '$conn' on '$name' failed (exit $rc):" \
            "$(printf '%s' "$out" | tail -n 1)"
        return 1
    fi
}

# Terminates IKE SA CONN of instance NAME, waiting up to TIMEOUT seconds
# (default 5) for the peer's response to the DELETE.
sw_terminate()
{
    local name=$1 conn=${2:-} timeout=${3:-5} dir node remote out rc

    [ -n "$conn" ] || lab_err "usage: sw_terminate NAME CONN [TIMEOUT]" ||
        return
    dir=$(sw_dir "$name")
    node=$(sw_node "$name") || return 1
    for remote in $(sw_list_sas "$name" "$conn" | sw_sa_field remote); do
        lab_route_check "$node" "$remote" || return 1
    done
    out=$(timeout $((timeout + 5)) swanctl --terminate --ike "$conn" \
        --timeout "$timeout" --uri "unix://$dir/charon.vici" 2>&1)
    rc=$?
    printf '%s\n' "$out" >>"$dir/swanctl.log"
    if [ "$rc" != 0 ]; then
        lab_err "terminating '$conn' on '$name' failed (exit $rc):" \
            "$(printf '%s' "$out" | tail -n 1)"
        return 1
    fi
}

# Prints the addresses that NAME has in the hosts files of the instances
# running in node NODE, or fails if none has it.
_sw_hosts_lookup()
{
    local node=$1 host=$2 dir found=1

    for dir in "$LAB_DIR"/sw/*/; do
        if [ ! -f "$dir/hosts" ] || [ "$(cat "$dir/node")" != "$node" ]; then
            continue
        fi
        awk -v n="$host" '
            { sub(/#.*/, ""); for (i = 2; i <= NF; i++) if ($i == n) print $1 }
        ' "$dir/hosts" | grep . && found=0
    done
    return "$found"
}

# Makes gateway instance NAME redirect the IKE SA of peer PEER_IP to
# GATEWAY (an address or FQDN) with an INFORMATIONAL REDIRECT (RFC 5685
# section 6).  Checks the route from the gateway to PEER_IP and from the
# node that has address PEER_IP to GATEWAY, because the peer sends there.
# An FQDN GATEWAY must be in the hosts file of an instance in that node.
sw_redirect()
{
    local name=$1 peer=${2:-} gateway=${3:-} dir node owner out rc addr addrs

    if [ -z "$gateway" ]; then
        lab_err "usage: sw_redirect NAME PEER_IP GATEWAY"
        return 1
    fi
    dir=$(sw_dir "$name")
    node=$(sw_node "$name") || return 1
    lab_route_check "$node" "$peer" || return 1
    if ! owner=$(lab_addr_owner "$peer"); then
        lab_err "no node of this run has address $peer, so the route from it" \
            "to $gateway cannot be checked"
        return 1
    fi
    if _lab_ip4_valid "$gateway" || _lab_ip6_expand "$gateway" >/dev/null; then
        addrs=$gateway
    elif ! addrs=$(_sw_hosts_lookup "$owner" "$gateway"); then
        lab_err "redirect target '$gateway' is in no hosts file of node" \
            "$owner, so its route cannot be checked"
        return 1
    fi
    for addr in $addrs; do
        lab_route_check "$owner" "$addr" || return 1
    done
    out=$(sw_swanctl "$name" --redirect --peer-ip "$peer" --gateway "$gateway")
    rc=$?
    printf '%s\n' "$out" >>"$dir/swanctl.log"
    if [ "$rc" != 0 ]; then
        lab_err "redirect of $peer to $gateway on '$name' failed (exit $rc):" \
            "$(printf '%s' "$out" | tail -n 1)"
        return 1
    fi
}

# Lists the IKE SAs of instance NAME (only those of connection CONN if
# given), one line each:
#   name=CONN id=N state=STATE local=ADDR remote=ADDR local_id=ID
#   remote_id=ID vip=ADDR|- ike=ALGORITHMS
#   children=CHILD:STATE:BYTES_IN:BYTES_OUT[,...]|-
# parsed from `swanctl --list-sas --raw`.  ALGORITHMS is written as in
# charon's "selected proposal" line (AES_GCM_16_128/PRF_HMAC_SHA2_256/
# CURVE_25519); spaces in values are replaced by '_'.
# NOTE: a value that itself contains " key=" (a DN identity such as
# "C=CH, O=Lab") is cut there; the lab uses FQDN and email identities.
sw_list_sas()
{
    local name=$1 conn=${2:-} raw

    raw=$(sw_swanctl "$name" --list-sas --noblock --raw) || {
        lab_err "swanctl --list-sas failed for '$name': $raw"
        return 1
    }
    printf '%s\n' "$raw" | _sw_parse_raw_sas | awk -v c="$conn" '
        c == "" || $1 == "name=" c'
}

# Parses the vici "list-sa" events that `swanctl --list-sas --raw` prints
# (one event per line: nested "key {...}" sections, "key=value" pairs and
# "key=[a b]" lists) into the lines described at sw_list_sas.
_sw_parse_raw_sas()
{
    awk '
    function flush() {
        if (ike == "") return
        alg = f["encr-alg"] (f["encr-keysize"] == "" ? "" : "_" f["encr-keysize"])
        if (f["integ-alg"] != "") alg = alg "/" f["integ-alg"]
        alg = alg "/" f["prf-alg"] "/" f["dh-group"]
        printf "name=%s id=%s state=%s local=%s remote=%s local_id=%s remote_id=%s vip=%s ike=%s children=%s\n",
            ike, f["uniqueid"], f["state"], f["local-host"], f["remote-host"],
            f["local-id"], f["remote-id"], (vip == "" ? "-" : vip),
            (f["encr-alg"] == "" ? "-" : alg), (kids == "" ? "-" : kids)
    }
    /^list-sa event/ {
        line = $0
        sub(/^list-sa event \{/, "", line)
        # Tokenize: "{", "}", "key=value", "key=[...]", or a section name.
        depth = 0; ike = ""; kids = ""; vip = ""; delete f
        while (length(line) > 0) {
            sub(/^[[:space:]]+/, "", line)
            if (line == "") break
            if (substr(line, 1, 1) == "}") {
                if (depth == 3) {
                    kids = kids (kids == "" ? "" : ",") c["name"] ":" \
                        c["state"] ":" c["bytes-in"] ":" c["bytes-out"]
                }
                depth--; line = substr(line, 2); continue
            }
            if (match(line, /^[^ ={}]+=\[[^]]*\]/)) {
                tok = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
                k = tok; sub(/=.*/, "", k); v = tok; sub(/^[^=]*=\[/, "", v); sub(/\]$/, "", v)
                if (depth == 1 && k == "local-vips") { gsub(/ +/, ",", v); vip = v }
                continue
            }
            if (match(line, /^[^ ={}]+=/)) {
                k = substr(line, 1, RLENGTH - 1); line = substr(line, RLENGTH + 1)
                # A value runs to the next " key=", " key {", or "}".
                if (match(line, /( [^ ={}]+=| [^ ={}]+ \{|\})/)) {
                    v = substr(line, 1, RSTART - 1); line = substr(line, RSTART)
                } else { v = line; line = "" }
                gsub(/ /, "_", v)
                if (depth == 1) f[k] = v
                if (depth == 3) c[k] = v
                continue
            }
            if (match(line, /^[^ ={}]+ \{/)) {
                n = substr(line, 1, RLENGTH - 2); line = substr(line, RLENGTH + 1)
                depth++
                if (depth == 1) ike = n
                if (depth == 3) { delete c; c["name"] = n }
                continue
            }
            # Unexpected text: skip one character.
            line = substr(line, 2)
        }
        flush()
    }'
}

# Prints field FIELD (name, id, state, local, remote, vip, ...) of each
# line of sw_list_sas output read from stdin.
sw_sa_field()
{
    awk -v k="$1" '{
        for (i = 1; i <= NF; i++) {
            if (index($i, k "=") == 1) { print substr($i, length(k) + 2) }
        }
    }'
}

# Waits up to TIMEOUT seconds (default 10) until instance NAME has an IKE
# SA of CONN in state STATE with remote address REMOTE ("" for any), and
# prints its sw_list_sas line.  Fails with the SAs it saw last.
sw_wait_sa()
{
    local name=$1 conn=$2 state=$3 remote=${4:-} timeout=${5:-10} sas line i

    for ((i = 0; i < timeout * 10; i++)); do
        sas=$(sw_list_sas "$name" "$conn")
        line=$(printf '%s\n' "$sas" | awk -v s="$state" -v r="$remote" '
            $3 == "state=" s && (r == "" || $5 == "remote=" r) { print; exit }')
        if [ -n "$line" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        sleep 0.1
    done
    lab_err "no $state IKE SA '$conn' on '$name'${remote:+ with $remote}" \
        "after ${timeout}s; SAs: ${sas:-none}"
    return 1
}

# Searches instance NAME's charon log for the extended regular expression
# PATTERN; prints the matching lines and succeeds if there are any.
sw_log_grep()
{
    grep -E -- "$2" "$(sw_dir "$1")/charon.log"
}

# Waits up to TIMEOUT seconds (default 10) for PATTERN to appear in
# instance NAME's charon log.
sw_log_wait()
{
    local name=$1 pattern=$2 timeout=${3:-10} i

    for ((i = 0; i < timeout * 10; i++)); do
        sw_log_grep "$name" "$pattern" >/dev/null && return 0
        sleep 0.1
    done
    lab_err "'$pattern' not in the log of '$name' after ${timeout}s" \
        "($(sw_dir "$name")/charon.log)"
    return 1
}
