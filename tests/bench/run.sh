#!/bin/bash
# Side-by-side benchmarks of the agent against the references a user would
# pick instead, all in one run: a bare recvmmsg/sendmmsg UDP echo server,
# libreswan 4.10 with global-redirect and strongSwan 5.9.8's charon.
#
# Everything runs as root inside one network namespace made for the run,
# on its loopback, with the server on CPU 0 and the load generator on
# CPU 1 (taskset).  Results: one JSON file and two PNG plots per run under
# $BUILD/bench/results/.  See docs/BENCHMARKS.md for the method.
#
#   tests/bench/run.sh            (make bench runs it)
#   BENCH_LIBRESWAN=1             install libreswan beside strongSwan first
#   BENCH_RATES="20000 50000"     offered loads of the redirect sweep, /s
#   BENCH_SPANS="1 16 256 4096"   client address counts of the growth sweep
#   BENCH_SPAN_RATE=120000        offered load of the growth sweep, /s
#   BENCH_SAS="1000 10000"        SA counts of the setup and memory runs
#   BENCH_WINDOW=256              IKE SA setups in flight, agent
#   BENCH_WINDOW_STRONGSWAN=128   the same for charon
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bench
AGENT=$ROOT/$BUILD/bin/ikeshift-agent
RESULTS=$ROOT/$BUILD/bench/results
RATES=${BENCH_RATES:-20000 50000 100000 150000 200000 300000}
SPANS=${BENCH_SPANS:-1 16 256 4096}
SPAN_RATE=${BENCH_SPAN_RATE:-120000}
SAS=${BENCH_SAS:-1000 10000 100000}
WINDOW=${BENCH_WINDOW:-256}
SW_WINDOW=${BENCH_WINDOW_STRONGSWAN:-128}
STEP_S=2                        # seconds of each point of the sweep
PSK=bench-secret-0123456789
SERVER_CPU=0
CLIENT_CPU=1
NS=ikbench$$
LSW_ROOT=/opt/lsw/root
PLUTO=/usr/libexec/ipsec/pluto
CHARON=/usr/lib/ipsec/charon

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d /tmp/ikbench.XXXXXX)
PIDS=()

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

cleanup()
{
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# Not for commands run with &: $! would then be a subshell's PID.  Plain
# `ip netns exec` and taskset exec the command, so $! is the program's.
in_ns() { ip netns exec "$NS" "$@"; }

# Stops one process that this script started, by PID, and waits up to
# 5 s for it to go (it may be a child of a finished subshell, which wait
# cannot reap).
stop_pid()
{
    local i
    kill "$1" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    wait "$1" 2>/dev/null
    local p keep=()
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# CPU seconds (user + system, all threads) of PID.
cpu_of()
{
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' \
        "/proc/$1/stat"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

[ "$(id -u)" = 0 ] || die "root is required (network namespace, taskset" \
    "of daemons, UDP port 500)"
for c in taskset ip jq cc; do
    command -v "$c" >/dev/null || die "$c is missing; run make deps"
done
[ "$(nproc)" -ge 2 ] || die "two CPUs are needed, one for the server and" \
    "one for the generator"
# The growth sweep opens one socket per client address, up to 4096.
ulimit -n 16384 || die "raising the open file limit to 16384 failed"

# ---- build ----
# ike_setup links the test initiator of tests/support, which the Makefile's
# bench rule does not link, so it is built here from the same objects.
make -C "$ROOT" -s BUILD="$BUILD" all "$BUILD/bench/flood_init" \
    "$BUILD/bench/echo_udp" "$BUILD/bench/bench_parse" \
    "$BUILD/bench/bench_plan" "$BUILD/bench/ike_setup" \
    "$BUILD/bench/bench_decide" "$BUILD/bench/bench_x25519" ||
    die "build failed"
mkdir -p "$RESULTS"

if ! command -v gnuplot >/dev/null; then
    log "gnuplot is missing; installing gnuplot-nox for the plot"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends gnuplot-nox >/dev/null ||
        log "installing gnuplot-nox failed; the run goes on without a plot"
fi

# ---- libreswan beside strongSwan ----
# `apt-get install libreswan` would remove strongswan-charon (the packages
# conflict), so only its dependencies are installed and the .deb is
# unpacked under /opt/lsw.  pluto finds its helpers in /usr/libexec/ipsec,
# a path compiled into it.
install_libreswan()
{
    log "installing libreswan 4.10 under /opt/lsw (its dependencies with" \
        "apt-get, the package itself unpacked, strongSwan untouched)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends libnss3-tools libevent-core-2.1-7 \
        libevent-pthreads-2.1-7 libldns3 libcurl3-nss libunbound8 \
        libldap-2.5-0 libcap-ng0 libaudit1 libnspr4 libnss3 dns-root-data \
        bind9-host iptables >/dev/null || return 1
    mkdir -p /opt/lsw || return 1
    (cd /opt/lsw && apt-get download libreswan >/dev/null &&
        dpkg-deb -x libreswan_*.deb root) || return 1
    [ -e /usr/libexec/ipsec ] ||
        ln -s "$LSW_ROOT/usr/libexec/ipsec" /usr/libexec/ipsec || return 1
    [ -x "$PLUTO" ]
}

LSW_SKIP=""
if [ "${BENCH_LIBRESWAN:-0}" = 1 ] || [ ! -x "$PLUTO" ]; then
    [ -x "$PLUTO" ] || log "libreswan (pluto) is missing"
    install_libreswan || LSW_SKIP="installing libreswan failed"
fi
[ -z "$LSW_SKIP" ] && [ ! -x "$PLUTO" ] && LSW_SKIP="$PLUTO is missing"

# ---- namespace ----
ip netns add "$NS" || die "creating namespace $NS failed"
in_ns ip link set lo up
in_ns ip route get 127.0.0.1 | grep -q ' dev lo ' ||
    die "the route to 127.0.0.1 in $NS does not use lo"

# ---- responders ----
agent_config()
{
    local policy=$1 file=$WORK/agent-$2.json
    cat > "$file" <<EOF
{
  "listen": { "unicast": ["127.0.0.1"], "ike_port": 500, "natt_port": 4500 },
  "identity": { "type": "fqdn", "value": "vpn.example.net" },
  "ike_proposals": ["aes128gcm16-prfsha256-x25519"],
  "clients": [ { "id": "*", "psk": "$PSK" } ],
  "timers": { "liveness_interval": 0 },
  "limits": { "cookie_threshold": 9999999, "max_half_open": 10000000,
              "max_half_open_per_peer": 10000000, "max_sas": 10000000,
              "reply_rate": 10000000, "reply_rate_per_peer": 10000000 },
  "redirect": { "client_max": 1000, "client_period": "1s" },
  $policy
  "control_socket": "$WORK/agent-$2.sock",
  "log_level": "warn"
}
EOF
    echo "$file"
}

# Starts the agent on SERVER_CPU; prints its PID.
start_agent()
{
    ip netns exec "$NS" taskset -c $SERVER_CPU "$AGENT" -c "$1" \
        >> "$WORK/agent.log" 2>&1 &
    sleep 0.5
    kill -0 $! 2>/dev/null || { log "the agent did not start:" \
        "$(tail -3 "$WORK/agent.log")"; return 1; }
    echo $!
}

# Starts charon as a responder (strongSwan 5.9.8, no CHILD SA configs, so
# no kernel call); prints its PID.  The /run bind mount keeps its pid file
# private.
start_charon()
{
    local d=$WORK/sw
    mkdir -p "$d/run"
    rm -f "$d/charon.vici"
    cat > "$d/strongswan.conf" <<EOF
charon {
  load_modular = no
  load = kdf random nonce aes sha1 sha2 hmac gmp curve25519 openssl kernel-netlink socket-default vici
  filelog {
    stderr {
      default = -1
    }
  }
  plugins {
    vici {
      socket = unix://$d/charon.vici
    }
  }
  install_routes = no
  install_virtual_ip = no
  dos_protection = no
  cookie_threshold = 10000000
  block_threshold = 10000000
  init_limit_half_open = 0
  ikesa_table_size = 65536
  ikesa_table_segments = 16
  half_open_timeout = 60
}
EOF
    cat > "$d/swanctl.conf" <<EOF
connections {
  bench {
    local_addrs = 127.0.0.1
    version = 2
    proposals = aes128gcm16-prfsha256-x25519
    unique = never
    local {
      auth = psk
      id = vpn.example.net
    }
    remote {
      auth = psk
    }
  }
}
secrets {
  ike-any {
    secret = $PSK
  }
}
EOF
    ip netns exec "$NS" unshare -m sh -c "mount --bind $d/run /run && exec taskset -c \
        $SERVER_CPU env STRONGSWAN_CONF=$d/strongswan.conf $CHARON" \
        > "$d/log" 2>&1 &
    local pid=$! i
    for i in $(seq 50); do [ -S "$d/charon.vici" ] && break; sleep 0.1; done
    in_ns swanctl --load-all --file "$d/swanctl.conf" \
        --uri "unix://$d/charon.vici" > "$d/swanctl.log" 2>&1 ||
        { log "swanctl --load-all failed: $(tail -2 "$d/swanctl.log")";
          kill "$pid"; return 1; }
    echo "$pid"
}

# Starts pluto with global-redirect=yes (every IKE_SA_INIT is answered
# with REDIRECT before a conn is looked up); prints its PID.
start_pluto()
{
    local d=$WORK/lsw
    mkdir -p "$d/ipsec.d" "$d/nss" "$d/run"
    IPSEC_EXECDIR=/usr/libexec/ipsec "$LSW_ROOT/usr/sbin/ipsec" initnss \
        --nssdir "$d/nss" > "$d/initnss.log" 2>&1 || return 1
    echo "@vpn.example.net %any : PSK \"$PSK\"" > "$d/ipsec.secrets"
    chmod 600 "$d/ipsec.secrets"
    cat > "$d/ipsec.conf" <<EOF
config setup
    ipsecdir=$d/ipsec.d
    nssdir=$d/nss
    secretsfile=$d/ipsec.secrets
    dumpdir=$d/run
    logfile=$d/pluto.log
    logappend=no
    dnssec-enable=no
    global-redirect=yes
    global-redirect-to=198.51.100.3

conn bench
    left=127.0.0.1
    leftid=@vpn.example.net
    right=%any
    authby=secret
    ikev2=yes
    ike=aes128-sha2_256-dh31
    esp=aes_gcm128
    leftupdown=%disabled
    auto=add
EOF
    ip netns exec "$NS" taskset -c $SERVER_CPU "$PLUTO" --config \
        "$d/ipsec.conf" --rundir "$d/run" --nofork > "$d/pluto.stdout" 2>&1 &
    local pid=$! i
    for i in $(seq 50); do [ -S "$d/run/pluto.ctl" ] && break; sleep 0.1; done
    sleep 0.5
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# ---- figures 1, 2 and 6: redirect responses against load ----
# Runs flood_init once against the server PID at RATE/s from SPAN client
# addresses (at least 256 sockets, one address each when SPAN >= 256) and
# prints one JSON sweep point.  redirect_rate counts REDIRECTs alone;
# reply_rate counts every response, served IKE_SA_INIT responses too.
flood_point()
{
    local name=$1 pid=$2 rate=$3 span=$4 out c0 c1 sources=256
    [ "$span" -gt "$sources" ] && sources=$span
    c0=$(cpu_of "$pid")
    out=$(in_ns taskset -c $CLIENT_CPU "$BIN/flood_init" \
        --target 127.0.0.1 --count $((rate * STEP_S)) --rate "$rate" \
        --duration $((STEP_S + 1)) --sources "$sources" --bind 127.0.1.1 \
        --bind-span "$span" --wait 500)
    c1=$(cpu_of "$pid")
    jq -c --arg srv "$name" --argjson span "$span" --argjson cpu \
        "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')" '
        (.replies.redirect + .replies.cookie + .replies.normal +
         .replies.other) as $answered |
        {server: $srv, offered: .rate_requested, addresses: $span, sent,
        reply_rate, redirect_rate: (if $answered > 0 then
            .reply_rate * .replies.redirect / $answered else 0 end),
        replies, redirect_bad_nonce, latency_us,
        server_cpu_seconds: $cpu}' <<< "$out"
}

# Prints a JSON array of the sweep over RATES for the server that runs.
sweep()
{
    local name=$1 pid=$2 rate point
    local points=()
    for rate in $RATES; do
        point=$(flood_point "$name" "$pid" "$rate" 256)
        points+=("$point")
        log "$name: offered $rate/s, answered" \
            "$(jq -r '.reply_rate | floor' <<< "$point")/s"
    done
    printf '%s\n' "${points[@]}" | jq -s .
}

# Prints a JSON array of the sweep over SPANS at SPAN_RATE.  With a start
# function as third argument, the server is started afresh for each
# point (the agent keeps the half-open SAs of the requests it serves).
growth()
{
    local name=$1 pid=$2 start=${3:-} span point
    local points=()
    for span in $SPANS; do
        if [ -n "$start" ]; then
            pid=$($start) || continue
            PIDS+=("$pid")
        fi
        point=$(flood_point "$name" "$pid" "$SPAN_RATE" "$span")
        points+=("$point")
        log "$name: $span addresses, answered" \
            "$(jq -r '.reply_rate | floor' <<< "$point")/s, redirected" \
            "$(jq -r '.redirect_rate | floor' <<< "$point")/s"
        [ -n "$start" ] && stop_pid "$pid"
    done
    printf '%s\n' "${points[@]}" | jq -s .
}

log "figure 1: echo server"
ip netns exec "$NS" taskset -c $SERVER_CPU "$BIN/echo_udp" --duration 300 \
    > "$WORK/echo.json" 2>&1 &
PIDS+=($!)
ECHO_PID=$!
sleep 0.3
SWEEP_ECHO=$(sweep echo $ECHO_PID)
log "figure 6: echo server"
GROWTH_ECHO=$(growth echo $ECHO_PID)
stop_pid $ECHO_PID

log "figure 1: agent with redirect_all_to"
SWEEP_AGENT='[]'
REDIRECT_CONFIG=$(agent_config \
    '"policy": { "redirect_all_to": "198.51.100.3" },' redirect)
start_redirect_agent() { start_agent "$REDIRECT_CONFIG"; }
if APID=$(start_redirect_agent); then
    PIDS+=("$APID")
    SWEEP_AGENT=$(sweep agent "$APID")
    stop_pid "$APID"
fi
log "figure 6: agent with redirect_all_to"
GROWTH_AGENT=$(growth agent "" start_redirect_agent)

SWEEP_LSW='[]'
GROWTH_LSW='[]'
if [ -z "$LSW_SKIP" ]; then
    log "figure 2: libreswan with global-redirect"
    if LPID=$(start_pluto); then
        PIDS+=("$LPID")
        SWEEP_LSW=$(sweep libreswan "$LPID")
        log "figure 6: libreswan with global-redirect"
        GROWTH_LSW=$(growth libreswan "$LPID")
        stop_pid "$LPID"
    else
        LSW_SKIP="pluto did not start: $(tail -2 "$WORK/lsw/pluto.log" \
            2>/dev/null)"
    fi
fi
[ -n "$LSW_SKIP" ] && log "figure 2 skipped: $LSW_SKIP"

# ---- figures 3 and 4: IKE SA setups per second and memory per SA ----
# Runs ike_setup with N SAs and WINDOW in flight against the responder
# PID, reads VmRSS with every SA up and prints one JSON object.  The time
# limit allows 400 setups/s plus 30 s, at most ike_setup's 300 s.
setups()
{
    local name=$1 pid=$2 n=$3 window=$4 out=$WORK/setup-$1-$3.json gen i
    local rss0 rss1 c0 c1 duration=$((30 + $3 / 400))
    [ $duration -gt 300 ] && duration=300
    rss0=$(rss_kib "$pid")
    c0=$(cpu_of "$pid")
    ip netns exec "$NS" taskset -c $CLIENT_CPU "$BIN/ike_setup" \
        --target 127.0.0.1 \
        --psk "$PSK" --count "$n" --window "$window" --sources 64 \
        --bind 127.0.1.1 --bind-span 64 --duration $duration --hold 60 \
        > "$out" &
    gen=$!
    PIDS+=($gen)
    # The result is printed before the hold, so the SAs are still up.  The
    # wait covers making the initiators (about 0.1 ms each) and the run.
    for i in $(seq $(((duration + 10 + n / 10000) * 10))); do
        grep -q '^}' "$out" 2>/dev/null && break
        kill -0 $gen 2>/dev/null || break
        sleep 0.1
    done
    c1=$(cpu_of "$pid")
    sleep 1                         # let the responder settle its queues
    rss1=$(rss_kib "$pid")
    stop_pid $gen
    jq -c --arg srv "$name" --argjson n "$n" --argjson rss0 "$rss0" \
        --argjson rss1 "$rss1" --argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')" \
        '{server: $srv, sas: $n, window, established, errors, timeouts,
        retransmits, setups_per_second, run_seconds, latency_us,
        generator_cpu_seconds, server_cpu_seconds: $cpu,
        server_cpu_ms_per_sa: (if .established > 0 then
            $cpu * 1000 / .established else null end),
        generator_cpu_ms_per_sa: (if .established > 0 then
            .generator_cpu_seconds * 1000 / .established else null end),
        server_busy: (if .run_seconds > 0 then
            $cpu / .run_seconds else null end),
        rss_before_kib: $rss0, rss_after_kib: $rss1,
        rss_bytes_per_sa: (if .established > 0 then
            ($rss1 - $rss0) * 1024 / .established | floor else null end)}' \
        "$out"
}

SETUPS=()
for n in $SAS; do
    log "figures 3 and 4: agent, $n SAs"
    if APID=$(start_agent "$(agent_config '' serve)"); then
        PIDS+=("$APID")
        SETUPS+=("$(setups agent "$APID" "$n" "$WINDOW")")
        stop_pid "$APID"
    fi
    log "figures 3 and 4: strongSwan charon, $n SAs"
    if CPID=$(start_charon); then
        PIDS+=("$CPID")
        SETUPS+=("$(setups strongswan "$CPID" "$n" "$SW_WINDOW")")
        stop_pid "$CPID"
    fi
done
SETUPS_JSON=$(printf '%s\n' "${SETUPS[@]}" | jq -s .)

# ---- crypto bound beside figure 3 ----
# The IKE_AUTH plaintexts of ike_setup are about 100 (response) and 200
# (request) octets, so AES-GCM is timed at 128 and 256.
log "crypto bound: openssl speed and bench_x25519"
X25519=$(taskset -c $SERVER_CPU openssl speed -seconds 1 ecdhx25519 \
    2>/dev/null | awk '/X25519/ { print $NF }')
gcm_kb()
{
    taskset -c $SERVER_CPU openssl speed -seconds 1 -evp aes-128-gcm \
        -bytes "$1" 2>/dev/null | awk '/^AES-128-GCM/ { sub("k", "", $2);
        print $2 }'
}
GCM=$(gcm_kb 256)
GCM128=$(gcm_kb 128)
KEYPAIR=$(taskset -c $SERVER_CPU "$BIN/bench_x25519" 2>/dev/null ||
    echo null)

# ---- figure 5 and the existing micro-benchmarks ----
log "figure 5: decision time, plan computation, parse"
DECIDE=$(taskset -c $SERVER_CPU "$BIN/bench_decide" 2>/dev/null || echo null)
PLAN=$(taskset -c $SERVER_CPU "$BIN/bench_plan" 2>/dev/null || echo null)
PARSE=$(taskset -c $SERVER_CPU "$BIN/bench_parse" 2>/dev/null || echo null)

# ---- result file ----
RESULT=$RESULTS/bench-$STAMP.json
jq -n --arg date "$STAMP" --arg kernel "$(uname -r)" \
    --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
    --argjson ncpu "$(nproc)" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
    --arg charon "$(dpkg-query -W -f '${Version}' strongswan-charon \
        2>/dev/null)" \
    --arg libreswan "$(cat /opt/lsw/libreswan_*.deb >/dev/null 2>&1 &&
        dpkg-deb -f /opt/lsw/libreswan_*.deb Version)" \
    --arg openssl "$(openssl version)" \
    --arg cc "$(cc --version | head -1)" \
    --arg lsw_skip "$LSW_SKIP" \
    --argjson echo "$SWEEP_ECHO" --argjson agent "$SWEEP_AGENT" \
    --argjson lsw "$SWEEP_LSW" --argjson setups "$SETUPS_JSON" \
    --argjson x25519 "${X25519:-null}" --argjson gcm "${GCM:-null}" \
    --argjson gcm128 "${GCM128:-null}" --argjson keypair "$KEYPAIR" \
    --argjson gecho "$GROWTH_ECHO" --argjson gagent "$GROWTH_AGENT" \
    --argjson glsw "$GROWTH_LSW" --argjson span_rate "$SPAN_RATE" \
    --argjson decide "$DECIDE" --argjson plan "$PLAN" \
    --argjson parse "$PARSE" '
    def peak(s): (s | map(.reply_rate) | max) // null;
    def ratio(a; b): if a != null and b != null and b > 0
        then a / b else null end;
    {
      date: $date,
      machine: { cpu: $cpu, cpus: $ncpu, kernel: $kernel,
                 load_average_at_end: $load,
                 note: "shared with other builds and tests during the run" },
      versions: { ikeshift: $commit, strongswan: $charon,
                  libreswan: $libreswan, openssl: $openssl, cc: $cc },
      redirect: {
        sweep: ($echo + $agent + $lsw),
        echo_peak_per_s: peak($echo),
        agent_peak_per_s: peak($agent),
        libreswan_peak_per_s: peak($lsw),
        agent_over_echo: ratio(peak($agent); peak($echo)),
        agent_over_libreswan: ratio(peak($agent); peak($lsw)),
        goal_agent_over_echo: 0.8,
        agent_bad_nonces: ($agent | map(.redirect_bad_nonce) | add),
        libreswan_skipped: (if $lsw_skip == "" then null else $lsw_skip end)
      },
      growth: {
        offered_per_s: $span_rate,
        sweep: ($gecho + $gagent + $glsw),
        note: "one point per client address count; the agent is restarted for each point"
      },
      setups: $setups,
      crypto_bound: {
        openssl_x25519_derive_per_s: $x25519,
        openssl_aes128gcm_256B_kB_per_s: $gcm,
        openssl_aes128gcm_128B_kB_per_s: $gcm128,
        x25519: $keypair,
        note: "a responder computes one X25519 key pair and one shared secret per SA; the agent makes a fresh key pair for every SA. x25519.setups_bound_per_s is one core doing only that"
      },
      figures: (
        ($keypair.setups_bound_per_s // null) as $bound |
        [$setups[] | select(.server == "agent")] as $a |
        [$setups[] | select(.server == "strongswan")] as $s |
        {
          setups_per_s: [$a[] | . as $x | {sas, agent: .setups_per_second,
            strongswan: ([$s[] | select(.sas == $x.sas) |
              .setups_per_second][0]),
            agent_cpu_ms_per_sa: .server_cpu_ms_per_sa,
            strongswan_cpu_ms_per_sa: ([$s[] | select(.sas == $x.sas) |
              .server_cpu_ms_per_sa][0])} |
            . + {agent_over_strongswan: ratio(.agent; .strongswan),
              agent_over_strongswan_cpu: ratio(.strongswan_cpu_ms_per_sa;
                .agent_cpu_ms_per_sa),
              agent_over_crypto_bound: ratio(.agent; $bound)}],
          goal_agent_over_strongswan: 4,
          goal_agent_over_crypto_bound: 0.5,
          rss_bytes_per_sa: [$a[] | . as $x | {sas,
            agent: .rss_bytes_per_sa,
            strongswan: ([$s[] | select(.sas == $x.sas) |
              .rss_bytes_per_sa][0])}],
          goal_agent_rss_bytes_per_sa: 2048
        }),
      decision: $decide,
      plan: $plan,
      parse: $parse
    }' > "$RESULT" || die "writing $RESULT failed"
log "results: $RESULT"

# ---- plot ----
if command -v gnuplot >/dev/null; then
    for s in echo agent libreswan; do
        jq -r --arg s "$s" '.redirect.sweep[] | select(.server == $s) |
            "\(.offered) \(.reply_rate)"' "$RESULT" > "$WORK/$s.dat"
    done
    PNG=${RESULT%.json}.png
    gnuplot <<EOF
set terminal pngcairo noenhanced size 900,600
set output "$PNG"
set title "IKE_SA_INIT answered per second, loopback, server on one core"
set xlabel "offered IKE_SA_INIT requests per second"
set ylabel "responses per second"
set key top left
set grid
plot "$WORK/echo.dat" using 1:2 with linespoints title "UDP echo (limit)", \
     "$WORK/agent.dat" using 1:2 with linespoints title "ikeshift-agent REDIRECT", \
     "$WORK/libreswan.dat" using 1:2 with linespoints title "libreswan 4.10 global-redirect", \
     x with lines dashtype 2 title "offered"
EOF
    [ -f "$PNG" ] && log "plot: $PNG"
    for s in echo agent libreswan; do
        jq -r --arg s "$s" '.growth.sweep[] | select(.server == $s) |
            "\(.addresses) \(.reply_rate) \(.redirect_rate)"' "$RESULT" \
            > "$WORK/growth-$s.dat"
    done
    PNG=${RESULT%.json}-growth.png
    gnuplot <<EOF
set terminal pngcairo noenhanced size 900,600
set output "$PNG"
set title "IKE_SA_INIT answered per second at $SPAN_RATE offered/s, by client addresses"
set xlabel "client IPv4 addresses (--bind-span)"
set ylabel "responses per second"
set logscale x 2
set key below
set grid
plot "$WORK/growth-echo.dat" using 1:2 with linespoints title "UDP echo (limit)", \
     "$WORK/growth-agent.dat" using 1:2 with linespoints title "ikeshift-agent, all responses", \
     "$WORK/growth-agent.dat" using 1:3 with linespoints title "ikeshift-agent, REDIRECTs", \
     "$WORK/growth-libreswan.dat" using 1:3 with linespoints title "libreswan 4.10 global-redirect, REDIRECTs"
EOF
    [ -f "$PNG" ] && log "plot: $PNG"
fi
jq -c '{redirect: (.redirect | del(.sweep)), figures,
    growth: [.growth.sweep[] | {server, addresses, reply_rate,
    redirect_rate}]}' "$RESULT"
