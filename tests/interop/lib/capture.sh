# shellcheck shell=bash
# Packet captures inside lab nodes with tshark, and a decode check for the
# IKE packets in them (netns.sh must be sourced and lab_init called first).
#
#   cap_start cli cli            # capture IKE on cli's eth0
#   ... exchanges ...
#   cap_stop cli
#   cap_check_ike cli --keys-from cli   # fails on malformed IKE packets
#
# Captures are written to $LAB_DIR/cap/NAME.pcapng, with tshark's own
# output in NAME.tshark.log.

CAP_FILTER_DEFAULT='udp port 500 or udp port 4500'

# Prints the capture file of capture NAME.
cap_file()
{
    printf '%s/cap/%s.pcapng\n' "$LAB_DIR" "$1"
}

# Starts capture NAME on interface IFACE (default eth0) of node NODE with
# capture filter FILTER (default IKE and NAT-T ports) and waits up to
# 10 s until tshark logs "Capture started".
cap_start()
{
    local name=$1 node=${2:-} iface=${3:-eth0} filter=${4:-$CAP_FILTER_DEFAULT}
    local dir file log pid i

    if [ -z "$node" ]; then
        lab_err "usage: cap_start NAME NODE [IFACE] [FILTER]"
        return 1
    fi
    lab_require_cmds tshark:tshark || return 1
    dir=$LAB_DIR/cap
    mkdir -p "$dir" || return 1
    file=$(cap_file "$name")
    log=$dir/$name.tshark.log
    if [ -e "$file" ]; then
        lab_err "capture '$name' already exists ($file)"
        return 1
    fi
    : >"$log"
    # tshark 4.0.17 prints "Capturing on" before dumpcap captures: a
    # datagram sent right after it was missing in 6 of 20 tries.  The
    # "Capture started" message comes once dumpcap reports its capture
    # file, and no datagram sent after it was missing in 40 tries.
    lab_spawn_in "$node" "$log" tshark -n -q -i "$iface" -f "$filter" \
        -w "$file" || return 1
    pid=$LAB_SPAWNED_PID
    echo "$pid" >"$dir/$name.pid"
    for ((i = 0; i < 200; i++)); do
        if grep -q "\[Main MESSAGE\] -- Capture started" "$log"; then
            return 0
        fi
        if ! _lab_pid_ours_alive "$pid" "$(_lab_pid_start "$pid")"; then
            lab_err "tshark for capture '$name' exited:" \
                "$(tail -n 3 "$log" | tr '\n' ' ')"
            return 1
        fi
        sleep 0.05
    done
    lab_err "tshark for capture '$name' did not start within 10 s ($log)"
    return 1
}

# Stops capture NAME: SIGINT to tshark (by PID) so that it flushes the
# file and stops its dumpcap child, then waits up to 5 s.  A short pause
# first lets packets still in flight reach the file.
cap_stop()
{
    local name=$1 pidfile=$LAB_DIR/cap/$1.pid

    [ -f "$pidfile" ] || lab_err "no capture '$name' was started" || return
    sleep 0.3
    lab_kill "$(cat "$pidfile")" INT 5
    rm -f "$pidfile"
    [ -f "$(cap_file "$name")" ] ||
        lab_err "capture '$name' left no file" || return
}

# Prints Wireshark ikev2_decryption_table entries (one per IKE SA) for the
# keys that charon instance NAME logged at "ike 4".  Each SA's SPIs are
# taken from the NAT-D input ("natd_chunk", SPIi | SPIr | address | port)
# that charon logs while it processes the IKE_SA_INIT response, right
# before it derives the keys.
# NOTE: an IKE_SA_INIT without NAT_DETECTION notifies logs no natd_chunk,
# so such an SA gets no entry and its SK payloads stay encrypted.
cap_keys_from_charon()
{
    local log

    log=$(sw_dir "$1")/charon.log
    [ -f "$log" ] || lab_err "no charon log for '$1'" || return
    awk '
    function hex(s) {
        # "HH:MM:SS NN[IKE]   16: 9C F6 D0 A7     ascii" -> "9cf6d0a7"
        sub(/^.*\[IKE\][[:space:]]+[0-9]+: /, "", s)
        s = substr(s, 1, 48); gsub(/ /, "", s)
        return tolower(s)
    }
    function emit(   encr, integ) {
        if (spi == "" || key["Sk_ei"] == "") return
        if (key["Sk_ai"] == "") {
            # AEAD: the key is followed by a 4-octet salt (RFC 4106).
            if (length(key["Sk_ei"]) == 40) encr = "AES-GCM-128 with 16 octet ICV [RFC5282]"
            else if (length(key["Sk_ei"]) == 56) encr = "AES-GCM-192 with 16 octet ICV [RFC5282]"
            else encr = "AES-GCM-256 with 16 octet ICV [RFC5282]"
            integ = "NONE [RFC4306]"
        } else {
            if (length(key["Sk_ei"]) == 32) encr = "AES-CBC-128 [RFC3602]"
            else if (length(key["Sk_ei"]) == 48) encr = "AES-CBC-192 [RFC3602]"
            else encr = "AES-CBC-256 [RFC3602]"
            if (length(key["Sk_ai"]) == 64) integ = "HMAC_SHA2_256_128 [RFC4868]"
            else if (length(key["Sk_ai"]) == 96) integ = "HMAC_SHA2_384_192 [RFC4868]"
            else if (length(key["Sk_ai"]) == 128) integ = "HMAC_SHA2_512_256 [RFC4868]"
            else integ = "HMAC_SHA1_96 [RFC2404]"
        }
        printf "%s,%s,%s,%s,\"%s\",%s,%s,\"%s\"\n", substr(spi, 1, 16),
            substr(spi, 17, 16), key["Sk_ei"], key["Sk_er"], encr,
            key["Sk_ai"], key["Sk_ar"], integ
        delete key; spi = ""
    }
    # Each dump is a header "[IKE] NAME => N bytes @ ADDR" and hex lines.
    /\[IKE\] .* => [0-9]+ bytes @ / {
        name = $0; sub(/^.*\[IKE\] /, "", name); sub(/ => .*/, "", name)
        want = ""
        if (name == "natd_chunk") want = "natd"
        else if (name == "Sk_d secret") spi = cand
        else if (name ~ /^Sk_(ei|er|ai|ar) secret$/) {
            want = substr(name, 1, 5); key[want] = ""
        } else if (name == "Sk_pr secret") emit()
        next
    }
    /\[IKE\][[:space:]]+[0-9]+: / {
        if (want == "natd") {
            h = hex($0)
            # Only the response chunk carries a non-zero SPIr.
            if (substr(h, 17, 16) != "0000000000000000") cand = substr(h, 1, 32)
            want = ""
        } else if (want != "") {
            key[want] = key[want] hex($0)
        }
        next
    }
    { want = "" }
    ' "$log"
}

# Decodes capture NAME and fails if it has no IKE packet, or if any IKE
# packet is malformed, carries an expert error or (when decrypted) fails
# its integrity check.  With --keys-from INST
# (repeatable) the SK payloads are decrypted with the keys charon instance
# INST logged at "ike 4", and their contents are checked too.  The full
# decode is written to NAME.decode.txt beside the capture.
cap_check_ike()
{
    local name=$1 file out keys='' inst count bad
    local -a opts=()

    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --keys-from)
            keys=$keys$(cap_keys_from_charon "$2")$'\n' || return 1
            shift ;;
        *) lab_err "cap_check_ike: unknown option '$1'"; return 1 ;;
        esac
        shift
    done
    file=$(cap_file "$name")
    out=$LAB_DIR/cap/$name.decode.txt
    [ -f "$file" ] || lab_err "no capture file $file" || return
    if [ -n "$keys" ]; then
        # Each UAT record is passed as an -o option of its own.
        while IFS= read -r inst; do
            [ -n "$inst" ] && opts+=(-o "uat:ikev2_decryption_table:$inst")
        done <<<"$(printf '%s' "$keys" | awk 'NF && !seen[$0]++')"
    fi
    count=$(tshark -n -r "$file" "${opts[@]}" -Y isakmp -T fields \
        -e frame.number 2>/dev/null | wc -l)
    if [ "$count" = 0 ]; then
        lab_err "capture '$name' has no IKE packets ($file)"
        return 1
    fi
    tshark -n -r "$file" "${opts[@]}" -V -Y isakmp >"$out" 2>&1
    bad=$(tshark -n -r "$file" "${opts[@]}" -T fields -e frame.number \
        -Y '(isakmp || udp.port == 500) && (_ws.malformed || _ws.expert.severity >= 0x00800000)' \
        2>/dev/null | paste -sd,)
    # A wrong key or a corrupted SK payload shows as "[incorrect, ...]" on
    # the Integrity Checksum Data line without an expert error.
    if [ -n "$bad" ] || grep -q -i -E 'malformed|\[incorrect' "$out"; then
        lab_err "capture '$name': malformed or erroneous IKE packets" \
            "(frames ${bad:-see decode}); decode in $out"
        grep -n -i -E 'malformed|Expert Info \(Error|\[incorrect' "$out" |
            head -n 5 >&2
        return 1
    fi
    return 0
}

# Prints one line per IKE packet of capture NAME: frame number, source,
# destination, exchange type, response flag (R) and the notify types in it
# (decrypted ones too when --keys-from INST is given), separated by tabs.
cap_ike_summary()
{
    local name=$1 keys='' line
    local -a opts=()

    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --keys-from) keys=$keys$(cap_keys_from_charon "$2")$'\n'; shift ;;
        *) lab_err "cap_ike_summary: unknown option '$1'"; return 1 ;;
        esac
        shift
    done
    while IFS= read -r line; do
        [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
    done <<<"$(printf '%s' "$keys" | awk 'NF && !seen[$0]++')"
    tshark -n -r "$(cap_file "$name")" "${opts[@]}" -Y isakmp -T fields \
        -e frame.number -e ip.src -e ip.dst -e isakmp.exchangetype \
        -e isakmp.flag_r -e isakmp.notify.msgtype 2>"$LAB_DIR/cap/$name.summary.err" ||
        lab_err "tshark could not read capture '$name':" \
            "$(grep -v '^Running as user' "$LAB_DIR/cap/$name.summary.err" | head -n 2)"
}
