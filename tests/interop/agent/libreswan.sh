# shellcheck shell=bash
# libreswan 4.10 instances (pluto) inside lab nodes.  netns.sh must be
# sourced first, and lab_init called before lsw_setup.  Each instance NAME
# has a directory $LAB_DIR/lsw/NAME with ipsec.conf, ipsec.secrets, the NSS
# database nss/, pluto's run directory run/ (control socket pluto.ctl),
# pluto.log and pluto.out (stdout and stderr).
#
#   lsw_require                         # install if missing, else lab_skip
#   lsw_setup cli cli left=198.51.100.1 right=198.51.100.2 psk=... \
#       leftid=client@example.net rightid=@gw.example.net accept-redirect=yes
#   lsw_start cli                       # waits for the control socket
#   lsw_initiate cli home 10
#   lsw_wait_ike cli home 198.51.100.3 10
#
# Installing libreswan with apt-get would remove strongSwan (its package
# conflicts with strongswan-libcharon and strongswan-starter), so
# lsw_require installs only its dependencies, unpacks the package under
# LSW_ROOT and links /usr/libexec/ipsec, the directory that is compiled
# into pluto, to the unpacked one.  libreswan's own `ipsec` script is used
# by its full path only: /usr/sbin/ipsec is strongSwan's.

LSW_ROOT=${LSW_ROOT:-/opt/lsw}
LSW_EXECDIR=/usr/libexec/ipsec
LSW_WANT_VERSION=4.10
# The run-time dependencies of Debian 12's libreswan package, and
# libnss3-tools for certutil (ipsec initnss).
LSW_DEPS="libnss3-tools libevent-core-2.1-7 libevent-pthreads-2.1-7 libldns3
libcurl3-nss libunbound8 libldap-2.5-0 libcap-ng0 libaudit1 libnspr4 libnss3
dns-root-data bind9-host iptables"
# Seconds each apt-get step may take.
LSW_APT_TIMEOUT=${LSW_APT_TIMEOUT:-120}
LSW_VERSION=

# Prints the libreswan version if pluto, whack and addconn are in
# LSW_EXECDIR, pluto runs (its libraries resolve) and libreswan's ipsec
# script is under LSW_ROOT; fails otherwise.
_lsw_installed_version()
{
    local out f

    for f in pluto whack addconn; do
        [ -x "$LSW_EXECDIR/$f" ] || return 1
    done
    [ -x "$LSW_ROOT/root/usr/sbin/ipsec" ] || return 1
    command -v certutil >/dev/null 2>&1 || return 1
    out=$("$LSW_EXECDIR/pluto" --version 2>&1) || return 1
    [[ $out =~ Libreswan\ ([0-9][0-9.]*) ]] || return 1
    printf '%s\n' "${BASH_REMATCH[1]}"
}

# Prints the packages of LSW_DEPS that dpkg does not list as installed.
_lsw_missing_deps()
{
    local pkg

    for pkg in $LSW_DEPS; do
        dpkg-query -W -f '${Status}\n' "$pkg" 2>/dev/null |
            grep -q ' installed$' || printf '%s\n' "$pkg"
    done
}

# Installs libreswan by the steps described at the top of this file.
# Prints what it does on stderr; fails with a message naming the step.
# The caller holds the install lock.
_lsw_install()
{
    local missing deb tmp

    missing=$(_lsw_missing_deps)
    if [ -n "$missing" ]; then
        lab_log "libreswan: installing dependencies:" "${missing//$'\n'/ }"
        # --no-remove: abort rather than remove anything, strongSwan above
        # all.  The package lists may be stale on a fresh machine.
        # shellcheck disable=SC2086
        if ! timeout "$LSW_APT_TIMEOUT" apt-get install -y -q \
            --no-install-recommends --no-remove $missing >&2; then
            timeout "$LSW_APT_TIMEOUT" apt-get update -q >&2 ||
                lab_err "apt-get update failed" || return
            # shellcheck disable=SC2086
            timeout "$LSW_APT_TIMEOUT" apt-get install -y -q \
                --no-install-recommends --no-remove $missing >&2 ||
                lab_err "apt-get install of libreswan's dependencies" \
                    "failed:" $missing || return
        fi
    fi
    mkdir -p "$LSW_ROOT" || lab_err "cannot create $LSW_ROOT" || return
    deb=$(find "$LSW_ROOT" -maxdepth 1 -name 'libreswan_*.deb' | sort | tail -n 1)
    if [ -z "$deb" ]; then
        lab_log "libreswan: apt-get download libreswan into $LSW_ROOT"
        (cd "$LSW_ROOT" &&
            timeout "$LSW_APT_TIMEOUT" apt-get download -q libreswan >&2) ||
            (timeout "$LSW_APT_TIMEOUT" apt-get update -q >&2 &&
                cd "$LSW_ROOT" &&
                timeout "$LSW_APT_TIMEOUT" apt-get download -q libreswan >&2) ||
            lab_err "apt-get download libreswan failed" || return
        deb=$(find "$LSW_ROOT" -maxdepth 1 -name 'libreswan_*.deb' | sort |
            tail -n 1)
        [ -n "$deb" ] || lab_err "apt-get download left no libreswan_*.deb" \
            "in $LSW_ROOT" || return
    fi
    if [ ! -x "$LSW_ROOT/root/usr/libexec/ipsec/pluto" ]; then
        lab_log "libreswan: unpacking $deb under $LSW_ROOT/root"
        tmp=$(mktemp -d "$LSW_ROOT/unpack.XXXXXX") || return 1
        if ! dpkg-deb -x "$deb" "$tmp" >&2; then
            rm -rf "$tmp"
            lab_err "dpkg-deb -x $deb failed"
            return 1
        fi
        rm -rf "$LSW_ROOT/root"
        mv "$tmp" "$LSW_ROOT/root" || return 1
    fi
    if [ -L "$LSW_EXECDIR" ] && [ ! -e "$LSW_EXECDIR" ]; then
        # A dangling link, from an unpacked tree that was removed.
        rm -f "$LSW_EXECDIR" || return 1
    fi
    if [ ! -e "$LSW_EXECDIR" ]; then
        lab_log "libreswan: linking $LSW_EXECDIR to" \
            "$LSW_ROOT/root/usr/libexec/ipsec"
        ln -s "$LSW_ROOT/root/usr/libexec/ipsec" "$LSW_EXECDIR" ||
            lab_err "cannot create the link $LSW_EXECDIR" || return
    elif [ ! -x "$LSW_EXECDIR/pluto" ]; then
        lab_err "$LSW_EXECDIR exists but has no pluto; it belongs to" \
            "something else, so it is left alone"
        return 1
    fi
}

# Makes sure libreswan can run, installing it when it is missing, and sets
# LSW_VERSION.  Skips the case (lab_skip) with the reason if the install
# fails or if it runs without root.  Quick when libreswan is present.
# Concurrent callers serialise on a lock file.
lsw_require()
{
    local lock=/run/lock/ikeshift-libreswan.lock log rc why

    if LSW_VERSION=$(_lsw_installed_version); then
        :
    elif [ "$(id -u)" != 0 ]; then
        lab_skip "libreswan is not installed and installing it needs root"
    else
        mkdir -p "${lock%/*}"
        log=$(mktemp /tmp/ikeshift-lsw-install.XXXXXX) || return 1
        (
            flock -w "$LSW_APT_TIMEOUT" 9 ||
                lab_err "timed out waiting for $lock" || exit 1
            _lsw_installed_version >/dev/null && exit 0
            _lsw_install
        ) 9>"$lock" >"$log" 2>&1
        rc=$?
        cat "$log" >&2
        why=$(sed -n 's/^lab: error: //p' "$log" | tail -n 1)
        rm -f "$log"
        [ "$rc" = 0 ] ||
            lab_skip "libreswan is missing and could not be installed:" \
                "${why:-see the log}"
        LSW_VERSION=$(_lsw_installed_version) ||
            lab_skip "libreswan was installed but pluto does not run:" \
                "$("$LSW_EXECDIR/pluto" --version 2>&1 | head -n 1)"
    fi
    if [ "$LSW_VERSION" != "$LSW_WANT_VERSION" ]; then
        lab_log "libreswan $LSW_VERSION found; the cases were written for" \
            "$LSW_WANT_VERSION"
    fi
}

# Prints the directory of libreswan instance NAME.
lsw_dir()
{
    printf '%s/lsw/%s\n' "$LAB_DIR" "$1"
}

# Prints the node that libreswan instance NAME runs in.
lsw_node()
{
    cat "$(lsw_dir "$1")/node" 2>/dev/null ||
        lab_err "no libreswan instance '$1' (call lsw_setup first)"
}

# Writes libreswan instance NAME in node NODE with one connection from
# KEY=VALUE arguments:
#   conn=NAME       connection name (default home)
#   psk=SECRET      the pre-shared key for leftid and rightid (required)
#   left, right     the addresses (required)
#   any other ipsec.conf conn keyword, such as leftid, rightid, ike, esp,
#   rightsubnet or accept-redirect; addconn --checkconfig rejects unknown
#   ones.
# The connection gets authby=secret, ikev2=yes, leftupdown=%disabled and
# auto=add unless given.  Also creates the NSS database with ipsec initnss.
lsw_setup()
{
    local name=$1 node=${2:-} dir kv key val conn=home psk='' out
    local -A o=()
    local -a order=()

    if [ -z "$node" ]; then
        lab_err "usage: lsw_setup NAME NODE KEY=VALUE..."
        return 1
    fi
    shift 2
    lab_node_exists "$node" || lab_err "no node '$node' in this run" || return
    for kv in "$@"; do
        key=${kv%%=*}
        val=${kv#*=}
        [[ $kv == *=* ]] && [[ $key =~ ^[a-z][a-z0-9-]*$ ]] ||
            lab_err "lsw_setup: '$kv' is not KEY=VALUE" || return
        case $key in
        conn) conn=$val ;;
        psk) psk=$val ;;
        *)
            [ -n "${o[$key]+x}" ] || order+=("$key")
            o[$key]=$val ;;
        esac
    done
    if [ -z "$psk" ] || [ -z "${o[left]:-}" ] || [ -z "${o[right]:-}" ]; then
        lab_err "lsw_setup: left=..., right=... and psk=... are required"
        return 1
    fi
    for kv in authby=secret ikev2=yes leftupdown=%disabled auto=add; do
        key=${kv%%=*}
        if [ -z "${o[$key]+x}" ]; then
            order+=("$key")
            o[$key]=${kv#*=}
        fi
    done
    dir=$(lsw_dir "$name")
    if [ -e "$dir" ]; then
        lab_err "libreswan instance '$name' already exists"
        return 1
    fi
    mkdir -p "$dir/nss" "$dir/run" "$dir/ipsec.d" || return 1
    echo "$node" >"$dir/node"
    echo "$conn" >"$dir/conn"

    {
        echo "config setup"
        echo "    ipsecdir=$dir/ipsec.d"
        echo "    nssdir=$dir/nss"
        echo "    secretsfile=$dir/ipsec.secrets"
        echo "    dumpdir=$dir/run"
        echo "    logfile=$dir/pluto.log"
        echo "    logappend=no"
        echo "    logtime=yes"
        echo "    dnssec-enable=no"
        echo
        echo "conn $conn"
        for key in "${order[@]}"; do
            printf '    %s=%s\n' "$key" "${o[$key]}"
        done
    } >"$dir/ipsec.conf"
    (
        umask 077
        printf '%s %s : PSK "%s"\n' "${o[leftid]:-${o[left]}}" \
            "${o[rightid]:-${o[right]}}" "$psk" >"$dir/ipsec.secrets"
    ) || return 1

    if ! out=$("$LSW_EXECDIR/addconn" --config "$dir/ipsec.conf" \
        --checkconfig 2>&1); then
        lab_err "libreswan configuration of '$name' is invalid: $out"
        return 1
    fi
    if ! out=$(IPSEC_EXECDIR=$LSW_EXECDIR "$LSW_ROOT/root/usr/sbin/ipsec" \
        initnss --nssdir "$dir/nss" 2>&1); then
        lab_err "ipsec initnss for '$name' failed: $out"
        return 1
    fi
}

# Runs whack against instance NAME's control socket inside its node.
lsw_whack()
{
    local name=$1 node

    shift
    node=$(lsw_node "$name") || return 1
    lab_exec "$node" "$LSW_EXECDIR/whack" --ctlsocket \
        "$(lsw_dir "$name")/run/pluto.ctl" "$@"
}

# Starts pluto for instance NAME in its node (in the foreground of its own
# process, so the recorded PID is pluto's) and waits up to TIMEOUT seconds
# (default 10) until whack --status lists the connection.
lsw_start()
{
    local name=$1 timeout=${2:-10} dir node pid conn i

    node=$(lsw_node "$name") || return 1
    dir=$(lsw_dir "$name")
    conn=$(cat "$dir/conn")
    : >"$dir/pluto.out"
    lab_spawn_in "$node" "$dir/pluto.out" "$LSW_EXECDIR/pluto" \
        --config "$dir/ipsec.conf" --rundir "$dir/run" --nofork || return 1
    pid=$LAB_SPAWNED_PID
    echo "$pid" >"$dir/pid"
    for ((i = 0; i < timeout * 10; i++)); do
        if ! _lab_pid_ours_alive "$pid" "$(_lab_pid_start "$pid")"; then
            lab_err "pluto '$name' (PID $pid) exited during start-up:" \
                "$(tail -n 5 "$dir/pluto.out" "$dir/pluto.log" 2>/dev/null |
                    tr '\n' ' ')"
            return 1
        fi
        if [ -S "$dir/run/pluto.ctl" ] &&
            lsw_whack "$name" --status 2>/dev/null |
            grep -q "^000 \"$conn\":"; then
            return 0
        fi
        sleep 0.1
    done
    lab_err "pluto '$name' (PID $pid) did not load connection '$conn'" \
        "within ${timeout}s; log $dir/pluto.log"
    return 1
}

# Succeeds if pluto of instance NAME still runs.
lsw_alive()
{
    local pid

    pid=$(cat "$(lsw_dir "$1")/pid" 2>/dev/null) || return 1
    _lab_pid_ours_alive "$pid" "$(_lab_pid_start "$pid")"
}

# Stops pluto of instance NAME by its PID (SIGTERM, SIGKILL after 5 s).
lsw_stop()
{
    local dir

    dir=$(lsw_dir "$1")
    [ -f "$dir/pid" ] || return 0
    lab_kill "$(cat "$dir/pid")" TERM 5
}

# Initiates connection CONN of instance NAME with whack and waits up to
# TIMEOUT seconds (default 10) for whack to exit.  whack's output goes to
# stderr and to initiate.log in the instance directory.  The route from
# the node to the connection's right= address is checked first.  Fails if
# whack fails or times out.
lsw_initiate()
{
    local name=$1 conn=$2 timeout=${3:-10} dir node right rc

    dir=$(lsw_dir "$name")
    node=$(lsw_node "$name") || return 1
    right=$(awk -v c="conn $conn" '
        $0 == c { on = 1; next }
        /^[^ \t]/ { on = 0 }
        on && $1 ~ /^right=/ { sub(/^[ \t]*right=/, ""); print; exit }
        ' "$dir/ipsec.conf")
    [ -n "$right" ] || lab_err "connection '$conn' of '$name' has no right=" ||
        return
    lab_route_check "$node" "$right" || return 1
    timeout "$timeout" "$(command -v ip)" netns exec "$(lab_ns "$node")" \
        "$LSW_EXECDIR/whack" --ctlsocket "$dir/run/pluto.ctl" \
        --name "$conn" --initiate 2>&1 | tee -a "$dir/initiate.log" >&2
    rc=${PIPESTATUS[0]}
    [ "$rc" = 124 ] && lab_err "whack --initiate $conn timed out after" \
        "${timeout}s"
    return "$rc"
}

# Prints the remote address that connection CONN of instance NAME has now
# (after a redirect, libreswan points the connection at the new gateway),
# from whack --status.
lsw_conn_remote()
{
    local name=$1 conn=$2

    lsw_whack "$name" --status 2>/dev/null | awk -v c="\"$conn\":" '
        $1 == "000" && $2 == c && $3 ~ /\.\.\./ {
            s = $3
            sub(/^.*\.\.\./, "", s)
            sub(/[[<].*$/, "", s)
            sub(/---.*$/, "", s)
            print s
            exit
        }'
}

# Prints the whack --showstates lines of connection CONN of instance NAME
# that are established IKE SAs (STATE_V2_ESTABLISHED_IKE_SA).
lsw_ike_states()
{
    lsw_whack "$1" --showstates 2>/dev/null |
        grep -E "^000 #[0-9]+: \"$2\"[^ ]* STATE_V2_ESTABLISHED_IKE_SA"
}

# Waits up to TIMEOUT seconds (default 10) until connection CONN of
# instance NAME has an established IKE SA and points at REMOTE, and prints
# the state line.  Fails with what it saw last.
lsw_wait_ike()
{
    local name=$1 conn=$2 remote=$3 timeout=${4:-10} st='' at='' i

    for ((i = 0; i < timeout * 10; i++)); do
        at=$(lsw_conn_remote "$name" "$conn")
        st=$(lsw_ike_states "$name" "$conn")
        if [ "$at" = "$remote" ] && [ -n "$st" ]; then
            printf '%s\n' "$st"
            return 0
        fi
        sleep 0.1
    done
    lab_err "libreswan '$name': no established IKE SA of '$conn' with" \
        "$remote after ${timeout}s (remote now '${at:-?}', states:" \
        "${st:-none})"
    return 1
}

# Searches instance NAME's pluto.log for the extended regular expression
# PATTERN.
lsw_log_grep()
{
    grep -E -- "$2" "$(lsw_dir "$1")/pluto.log"
}

# Waits up to TIMEOUT seconds (default 10) for PATTERN in pluto.log.
lsw_log_wait()
{
    local name=$1 pattern=$2 timeout=${3:-10} i

    for ((i = 0; i < timeout * 10; i++)); do
        lsw_log_grep "$name" "$pattern" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    lab_err "'$pattern' not in the pluto log of '$name' after ${timeout}s" \
        "($(lsw_dir "$name")/pluto.log)"
    return 1
}
