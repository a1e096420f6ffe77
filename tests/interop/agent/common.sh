# shellcheck shell=bash
# Steps shared by the agent interop cases (cases/1*.sh).  netns.sh,
# charon.sh, capture.sh and agent.sh must be sourced first.
#
# Every case uses the same identities and PSK, and the same inner network:
# the agent hands out virtual IPs from AC_POOL and narrows TSr to AC_INNER.

AC_PSK=ikeshift-interop-psk-0123456789
AC_CLIENT_ID=client@example.net
AC_GW_ID=gw.example.net
# A case may set both before it sources this file.
AC_INNER=${AC_INNER:-203.0.113.0/25}
AC_POOL=${AC_POOL:-203.0.113.128/25}
# The first IKE and ESP proposals of the agent's defaults
# (docs/agent-config.md), which cases without pinned proposals use.
AC_IKE_DEFAULT=aes256gcm16-prfsha256-x25519
AC_ESP_DEFAULT=aes256gcm16
# Exchange types (RFC 7296 section 3.1) and notify types (RFC 5685), used
# by the cases.
# shellcheck disable=SC2034
AC_IKE_SA_INIT=34
AC_IKE_AUTH=35
AC_CREATE_CHILD_SA=36
# shellcheck disable=SC2034
AC_INFORMATIONAL=37
# shellcheck disable=SC2034
AC_N_REDIRECT=16407
# shellcheck disable=SC2034
AC_N_REDIRECTED_FROM=16408

# Prints the IPv4 address $1 as an integer.
_ac_ip4_int()
{
    local a b c d

    IFS=. read -r a b c d <<<"$1"
    printf '%s\n' $(((a << 24) | (b << 16) | (c << 8) | d))
}

# Succeeds if $1 is an IPv4 address inside AC_POOL that the agent may hand
# out: not the network address, the first host (the gateway side) or the
# broadcast address (docs/agent-config.md, key pool).
ac_vip_in_pool()
{
    local vip=$1 net=${AC_POOL%/*} len=${AC_POOL#*/} v n size

    _lab_ip4_valid "$vip" || return 1
    v=$(_ac_ip4_int "$vip")
    n=$(_ac_ip4_int "$net")
    size=$((1 << (32 - len)))
    [ "$v" -gt $((n + 1)) ] && [ "$v" -lt $((n + size - 1)) ]
}

# Writes the client instance NAME in node NODE with connection "home" to
# REMOTE: kernel-libipsec, a virtual IP request and CHILD SA "net" for
# AC_INNER.  The proposals default to the agent's first default ones,
# AC_IKE_DEFAULT and AC_ESP_DEFAULT.  Further KEY=VALUE arguments go to sw_conn; sw_setup options
# come before a "--" argument.
#   ac_client_setup cli cli 198.51.100.2 --hosts F -- proposals=...
ac_client_setup()
{
    local name=$1 node=$2 remote=$3
    local -a opts=()

    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    [ "${1:-}" = -- ] && shift
    sw_setup "$name" "$node" --ike-log 4 --libipsec "${opts[@]}" ||
        return 1
    sw_conn "$name" home remote_addrs="$remote" local_id="$AC_CLIENT_ID" \
        remote_id="$AC_GW_ID" secret="$AC_PSK" vips=0.0.0.0 child=net \
        remote_ts="$AC_INNER" proposals="$AC_IKE_DEFAULT" esp="$AC_ESP_DEFAULT" \
        "$@"
}

# Fails the case unless IKE SA line SA (from sw_list_sas) has a virtual IP
# from the pool and an installed CHILD SA "net" (older, rekeyed ones may
# be listed too).  Waits up to 5 s for the
# CHILD SA of client NAME with remote REMOTE and prints the final line.
ac_client_check_child()
{
    local name=$1 remote=$2 sa=$3 i

    for ((i = 0; i < 50; i++)); do
        [[ ,$(sw_sa_field children <<<"$sa") == *,net:INSTALLED:* ]] && break
        sleep 0.1
        sa=$(sw_list_sas "$name" home | grep "remote=$remote ")
    done
    [[ ,$(sw_sa_field children <<<"$sa") == *,net:INSTALLED:* ]] ||
        lab_fail "CHILD SA net is not installed on $name: $sa"
    ac_vip_in_pool "$(sw_sa_field vip <<<"$sa")" ||
        lab_fail "virtual IP '$(sw_sa_field vip <<<"$sa")' of $name is not" \
            "from the pool $AC_POOL"
    printf '%s\n' "$sa"
}

# Fails the case unless the agent's SA line AGSA has the identity of the
# client and the virtual IP VIP that the client got.
ac_agent_check_sa()
{
    local agsa=$1 vip=$2

    [ "$(sw_sa_field id <<<"$agsa")" = "$AC_CLIENT_ID" ] ||
        lab_fail "agent SA has identity '$(sw_sa_field id <<<"$agsa")'," \
            "expected $AC_CLIENT_ID: $agsa"
    [ "$(sw_sa_field vip <<<"$agsa")" = "$vip" ] ||
        lab_fail "agent SA has virtual IP '$(sw_sa_field vip <<<"$agsa")'," \
            "the client has $vip: $agsa"
}

# Prints one line per IKE packet of capture NAME in the columns of
# cap_ike_summary (frame, source, destination, exchange type, response
# flag, notify types), but with IPv6 addresses too: cap_ike_summary reads
# only ip.src and ip.dst.  Options --keys-from INST as for cap_check_ike.
ac_ike_summary()
{
    local name=$1 keys='' line
    local -a opts=()

    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --keys-from) keys=$keys$(cap_keys_from_charon "$2")$'\n'; shift ;;
        *) lab_err "ac_ike_summary: unknown option '$1'"; return 1 ;;
        esac
        shift
    done
    while IFS= read -r line; do
        [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
    done <<<"$(printf '%s' "$keys" | awk 'NF && !seen[$0]++')"
    tshark -n -r "$(cap_file "$name")" "${opts[@]}" -Y isakmp -T fields \
        -e frame.number -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
        -e isakmp.exchangetype -e isakmp.flag_r -e isakmp.notify.msgtype \
        2>/dev/null | awk -F'\t' -v OFS='\t' '{
            print $1, ($2 != "" ? $2 : $3), ($4 != "" ? $4 : $5), $6, $7, $8
        }'
}

# Stops capture NAME and fails the case if cap_check_ike finds a malformed
# IKE packet, decrypting with the keys of the charon instances given.
# Writes the decrypted summary (ac_ike_summary) to cap/NAME.summary.txt.
ac_capture_check()
{
    local name=$1 inst
    local -a keys=()

    shift
    for inst in "$@"; do
        keys+=(--keys-from "$inst")
    done
    cap_stop "$name" || lab_fail "stopping capture $name failed"
    AC_KEYS_CAPTURE=$name
    cap_check_ike "$name" "${keys[@]}" ||
        lab_fail "IKE decode check of capture $name failed"
    ac_ike_summary "$name" "${keys[@]}" >"$LAB_DIR/cap/$name.summary.txt"
    AC_KEYS_CAPTURE=
}

# Prints the summary lines (cap_ike_summary columns) of capture NAME whose
# source is SRC, destination DST and exchange type EXCH; RESP is 1 for
# responses, 0 for requests, "" for both.  NOTIFY, if given, must be among
# the notify types.
ac_summary_match()
{
    local name=$1 src=$2 dst=$3 exch=$4 resp=${5:-} notify=${6:-}

    awk -F'\t' -v s="$src" -v d="$dst" -v x="$exch" -v r="$resp" \
        -v n="$notify" '
        function has(list, v,   parts, i, k) {
            k = split(list, parts, ",")
            for (i = 1; i <= k; i++) if (parts[i] == v) return 1
            return 0
        }
        $2 == s && $3 == d && $4 == x && (r == "" || $5 == r) &&
            (n == "" || has($6, n))
    ' "$LAB_DIR/cap/$name.summary.txt"
}

# Runs the body of cases 10 and 11, after lab_init.  One client
# establishes an IKE SA and a CHILD SA with one agent, using IKE proposal
# PROPOSAL (charon shows it as SELECTED) and ESP proposal ESP.  It must get
# a virtual IP from the pool, and the agent must drop the SA when the
# client terminates it.
ac_basic_case()
{
    local proposal=$1 selected=$2 esp=$3
    local client=198.51.100.1 gw=198.51.100.2 sa agsa vip

    lab_node_add cli "$client/24" || lab_fail "node cli"
    lab_node_add gwa "$gw/24" || lab_fail "node gwa"
    ag_setup gw1 gwa unicast="$gw" identity="$AC_GW_ID" \
        client_id="$AC_CLIENT_ID" psk="$AC_PSK" ike="$proposal" esp="$esp" \
        pool="$AC_POOL" protected_subnets="$AC_INNER" ||
        lab_fail "agent configuration"
    ag_start gw1 || lab_fail "agent did not start"
    ac_client_setup cli cli "$gw" -- proposals="$proposal" esp="$esp" ||
        lab_fail "client setup"
    sw_start cli || lab_fail "charon cli did not start"
    sw_load cli || lab_fail "loading the client configuration failed"

    cap_start cli cli || lab_fail "capture on cli did not start"
    sw_initiate cli home 10 net || lab_fail "client could not establish"
    sa=$(sw_wait_sa cli home ESTABLISHED "$gw" 5) ||
        lab_fail "no established IKE SA on the client"
    [ "$(sw_sa_field ike <<<"$sa")" = "$selected" ] ||
        lab_fail "IKE SA uses '$(sw_sa_field ike <<<"$sa")', expected $selected"
    sa=$(ac_client_check_child cli "$gw" "$sa") || exit 1
    lab_log "client: $sa"
    vip=$(sw_sa_field vip <<<"$sa")
    sw_log_grep cli "installing new virtual IP $vip" >/dev/null ||
        lab_fail "client log has no 'installing new virtual IP $vip'"

    agsa=$(ag_wait_sa gw1 ESTABLISHED "$client" 5) ||
        lab_fail "agent has no established IKE SA with the client"
    lab_log "agent: $agsa"
    ac_agent_check_sa "$agsa" "$vip"

    sw_terminate cli home 5 || lab_fail "terminating the IKE SA failed"
    for ((i = 0; i < 30; i++)); do
        [ "$(ag_sa_count gw1)" = 0 ] && break
        sleep 0.1
    done
    [ "$(ag_sa_count gw1)" = 0 ] ||
        lab_fail "agent still has SAs after the client's Delete:" \
            "$(ag_list_sas gw1)"
    ag_check_alive gw1 || lab_fail "agent died"

    ac_capture_check cli cli
    [ -n "$(ac_summary_match cli "$gw" "$client" "$AC_IKE_AUTH" 1)" ] ||
        lab_fail "capture has no IKE_AUTH response from the agent"
    grep -q "INTERNAL IP4 ADDRESS: $vip\$" "$LAB_DIR/cap/cli.decode.txt" ||
        lab_fail "decrypted IKE_AUTH response has no INTERNAL_IP4_ADDRESS $vip"
}

# Runs tshark on capture NAME with the decryption keys of the charon
# instances listed before "--", and the tshark arguments after it.
#   ac_tshark cli cli -- -Y isakmp -T fields -e frame.number
ac_tshark()
{
    local name=$1 records='' line
    local -a opts=()

    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        records=$records$(cap_keys_from_charon "$1")$'\n'
        shift
    done
    [ "${1:-}" = -- ] && shift
    while IFS= read -r line; do
        [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
    done <<<"$(printf '%s' "$records" | awk 'NF && !seen[$0]++')"
    tshark -n -r "$(cap_file "$name")" "${opts[@]}" "$@" 2>/dev/null
}

# cap_keys_from_charon (lib/capture.sh) takes the SPIs of each key set from
# the last IKE_SA_INIT's NAT-D input, so the keys of a rekeyed IKE SA get
# the SPIs of the SA it replaced, and the capture then fails its integrity
# check.  While AC_KEYS_CAPTURE names a capture, the function below
# replaces it.  It takes the SPIs of each rekeyed SA from the IKE rekey
# (CREATE_CHILD_SA with an IKE proposal, RFC 7296 section 1.3.2) in that
# capture, which it decrypts with the keys found so far.  The Nth key set
# without NAT-D input belongs to the Nth completed IKE rekey.
AC_KEYS_CAPTURE=
eval "$(declare -f cap_keys_from_charon |
    sed '1s/^cap_keys_from_charon/_ac_keys_from_charon_lib/')"

# Prints the key sets that charon instance NAME logged, one per line, as
# ikev2_decryption_table records.  A set derived without NAT-D input has
# "?" as its SPI fields.
_ac_keys_raw()
{
    local log

    log=$(sw_dir "$1")/charon.log
    [ -f "$log" ] || lab_err "no charon log for '$1'" || return
    # The awk program of cap_keys_from_charon, except that a NAT-D SPI pair
    # is used for one key set only.
    declare -f _ac_keys_from_charon_lib |
        awk '/^    awk '"'"'$/ { on = 1; next } on && /^    '"'"' "\$log"/ { exit }
            on { print }' >"$LAB_DIR/cap/keys.awk.$$"
    sed -i 's/if (spi == "" || key\["Sk_ei"\] == "") return/if (key["Sk_ei"] == "") return; if (spi == "") spi = "?"/
        s/else if (name == "Sk_d secret") spi = cand/else if (name == "Sk_d secret") { spi = cand; cand = "" }/
        s/substr(spi, 1, 16),$/(spi == "?" ? "?" : substr(spi, 1, 16)),/
        s/^\( *\)substr(spi, 17, 16), key/\1(spi == "?" ? "?" : substr(spi, 17, 16)), key/' \
        "$LAB_DIR/cap/keys.awk.$$"
    if [ "$(grep -c -F -e 'spi = "?"' -e 'cand = ""' -e '(spi == "?" ? "?"' \
        "$LAB_DIR/cap/keys.awk.$$")" != 4 ]; then
        rm -f "$LAB_DIR/cap/keys.awk.$$"
        lab_err "cap_keys_from_charon in lib/capture.sh changed; update" \
            "_ac_keys_raw in agent/common.sh"
        return 1
    fi
    awk -f "$LAB_DIR/cap/keys.awk.$$" "$log"
    rm -f "$LAB_DIR/cap/keys.awk.$$"
}

cap_keys_from_charon()
{
    local name=$1 raw known rekeys line i n
    local -a opts=() pending=() spis=()

    if [ -z "$AC_KEYS_CAPTURE" ]; then
        _ac_keys_from_charon_lib "$name"
        return
    fi
    raw=$(_ac_keys_raw "$name") || return 1
    known=$(grep -v '^?,' <<<"$raw")
    mapfile -t pending < <(grep '^?,' <<<"$raw" | cut -d, -f3-)
    for ((i = 0; i < ${#pending[@]}; i++)); do
        opts=()
        while IFS= read -r line; do
            [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
        done <<<"$known"
        # Requests (R=0) carry the new SPIi, responses the new SPIr.
        rekeys=$(tshark -n -r "$(cap_file "$AC_KEYS_CAPTURE")" "${opts[@]}" \
            -Y "isakmp.exchangetype == $AC_CREATE_CHILD_SA && isakmp.prop.protoid == 1" \
            -T fields -e isakmp.flag_r -e isakmp.ispi -e isakmp.messageid \
            -e isakmp.spi 2>/dev/null | awk -F'\t' '
            $1 == 0 { req[$2 "/" $3] = $4; next }
            $1 == 1 && (($2 "/" $3) in req) && !done[$2 "/" $3]++ {
                print req[$2 "/" $3] "," $4
            }')
        mapfile -t spis <<<"$rekeys"
        n=${#spis[@]}
        [ -n "${spis[0]:-}" ] || n=0
        if [ "$i" -ge "$n" ]; then
            lab_log "no IKE rekey in capture $AC_KEYS_CAPTURE for key set" \
                "$((i + 1)) of '$name' without NAT-D input; it is left out"
            break
        fi
        known=$known$'\n'${spis[$i]//:/},${pending[$i]}
    done
    printf '%s\n' "$known"
}

# Writes connection "home" of client instance NAME to REMOTE like
# ac_client_setup does (after sw_setup), with the swanctl.conf lines
# CONN_LINES added to the connection and CHILD_LINES to CHILD SA "net"
# (each a string with one setting per line).  sw_conn has no keys for
# over_time, rand_time or the CHILD SA lifetimes.  With rekey_time alone,
# charon 5.9.8 takes over_time as 10 % of it in whole seconds, which is 0
# below 10 s, so the hard lifetime then ends the SA while it rekeys.
ac_client_conf()
{
    local name=$1 remote=$2 conn_lines=${3:-} child_lines=${4:-}

    sw_conf_add "$name" home <<CONF
connections {
    home {
        version = 2
        proposals = $AC_IKE_DEFAULT
        remote_addrs = $remote
        vips = 0.0.0.0
$conn_lines
        local {
            auth = psk
            id = $AC_CLIENT_ID
        }
        remote {
            auth = psk
            id = $AC_GW_ID
        }
        children {
            net {
                remote_ts = $AC_INNER
                esp_proposals = $AC_ESP_DEFAULT
$child_lines
            }
        }
    }
}
secrets {
    ike-home {
        id-1 = $AC_CLIENT_ID
        id-2 = $AC_GW_ID
        secret = "$AC_PSK"
    }
}
CONF
}
