# shellcheck shell=bash
# The clients' own view of the controller story (DEMO_CAPTURE=1, the
# default): tshark
# captures IKE on every client's eth0 for the whole run, and a sampler
# copies the plan from Redis every 200 ms.  At the end, step_client_view
# decodes the captures, SK payloads decrypted with the keys that charon
# logged at "ike 4", and checks two rules from the packets alone:
#
#   - a client that got a mid-session REDIRECT received the IKE_AUTH
#     response of a new IKE SA from the named gateway before it sent the
#     Delete of the redirected IKE SA (make-before-break, RFC 5685
#     section 6);
#   - each REDIRECT that a client got named a gateway that accepted new
#     clients in the plan of that moment.
#
# demo.sh sources this file after cluster.sh, whose functions it uses.

# shellcheck disable=SC2317

DEMO_CAPTURE=${DEMO_CAPTURE:-1}
# The IKE log level of the clients' charon: 4 logs the IKE SA keys that
# the decoder needs.  Only lab keys are logged.
CLIENT_IKE_LOG=2
[ "$DEMO_CAPTURE" = 1 ] && CLIENT_IKE_LOG=4

# Starts one capture per client, named after the client.
view_start()
{
    local cli

    for cli in "${CLIENTS[@]}"; do
        cap_start "$cli" "$cli" || return 1
    done
    plan_sampler &
    echo "$!" >"$LAB_DIR/demo/plan-sampler.pid"
}

# Appends "MS ADDR..." to plan-samples every 200 ms for at most 300 s:
# the wall time in ms and the addresses of the gateways that accept new
# clients in the plan stored in Redis, which outlives a controller
# failover.  A gateway's address is its target address in another
# gateway's entry, else its unicast address in GW_ADDR.  It also appends
# "MS entries=ID,... targets=ID,..." to plan-members: the gateways with
# an entry, and those that some entry names as a target.
plan_sampler()
{
    local i plan addrs

    for ((i = 0; i < 1500; i++)); do
        plan=$(redis_ikeshift GET ikeshift:plan 2>/dev/null)
        jq -r --arg t "$(date +%s%3N)" '"\($t) entries=\([.gateways[].gateway_id]
            | join(",")) targets=\([.gateways[].targets[].gateway_id] | unique
            | join(","))"' <<<"$plan" >>"$LAB_DIR/demo/plan-members" \
            2>/dev/null
        addrs=$(jq -r --argjson map "$(gw_addr_json)" '
            ([.gateways[].targets[] | {(.gateway_id): .address}] | add
                // {}) as $t |
            [.gateways[] | select(.accept_new and .admin == "active") |
                .gateway_id | ($t[.] // $map[.] // .)] | join(" ")' \
            <<<"$plan" 2>/dev/null)
        printf '%s %s\n' "$(date +%s%3N)" "$addrs" \
            >>"$LAB_DIR/demo/plan-samples"
        sleep 0.2
    done
}

# Prints GW_ADDR as a JSON object.
gw_addr_json()
{
    local gw

    for gw in "${!GW_ADDR[@]}"; do
        printf '{"%s":"%s"}\n' "$gw" "${GW_ADDR[$gw]}"
    done | jq -s 'add // {}'
}

# Stops the sampler and the captures.
view_stop()
{
    local cli pidfile=$LAB_DIR/demo/plan-sampler.pid

    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null
        wait "$(cat "$pidfile")" 2>/dev/null
        rm -f "$pidfile"
    fi
    for cli in "${CLIENTS[@]}"; do
        [ -f "$LAB_DIR/cap/$cli.pid" ] && cap_stop "$cli"
    done
    return 0
}

# Prints the IKE packets of client CLI's capture, decrypted, one per line:
# time in ms, source, destination, exchange type, response flag, SPIi,
# notify types, REDIRECT target (IPv4), Delete protocol ids, and the
# identities of the ID payloads (email, FQDN, IPv4, IPv6, key id).  In an
# IKE_AUTH request these are IDi and IDr.
view_packets()
{
    local cli=$1 line
    local -a opts=()

    while IFS= read -r line; do
        [ -n "$line" ] && opts+=(-o "uat:ikev2_decryption_table:$line")
    done <<<"$(cap_keys_from_charon "$cli" | awk 'NF && !seen[$0]++')"
    tshark -n -r "$(cap_file "$cli")" "${opts[@]}" -Y isakmp -T fields \
        -E separator='|' -E occurrence=a -E aggregator=, \
        -e frame.time_epoch -e ip.src -e ip.dst -e isakmp.exchangetype \
        -e isakmp.flag_r -e isakmp.ispi -e isakmp.notify.msgtype \
        -e isakmp.notify.data.redirect.new_resp_gw_ident.ipv4 \
        -e isakmp.delete.protoid -e isakmp.id.data.user_fqdn \
        -e isakmp.id.data.fqdn -e isakmp.id.data.ipv4_addr \
        -e isakmp.id.data.ipv6_addr -e isakmp.id.data.key_id 2>/dev/null |
        awk -F'|' -v OFS='|' '{ split($1, t, "."); $1 = t[1] substr(t[2] "000", 1, 3); print }'
}

# Succeeds if, in client CLI's capture, every mid-session REDIRECT was
# followed by an IKE_AUTH response from the named gateway, for an IKE SA
# whose IKE_SA_INIT carried REDIRECTED_FROM and whose identities are
# those of the redirected IKE SA, before the client sent the Delete of the
# redirected IKE SA.  Pairing by identity keeps two moves that overlap
# apart, because each connection has an identity of its own.
# Each IKE_AUTH response counts for one REDIRECT only.  Prints one line
# per REDIRECT.
check_view_mbb()
{
    local cli=$1

    view_packets "$cli" >"$LAB_DIR/demo/$cli.packets" || return 1
    awk -F'|' -v cli="$cli" -v gws=" ${GW_ADDR[*]} $ANYCAST ${DEMO_EXTRA_ADDRS:-} " '
    function from_gw() { return index(gws, " " $2 " ") > 0 }
    {
        n++; t[n] = $1; src[n] = $2; xt[n] = $4; r[n] = $5; spi[n] = $6
        nt[n] = "," $7 ","; tgt[n] = $8; del[n] = "," $9 ","
        gw[n] = from_gw()
        # IKE_SA_INIT request with REDIRECTED_FROM (16408).
        if (xt[n] == 34 && r[n] == 0 && !gw[n] && index(nt[n], ",16408,"))
            redirected[spi[n]] = 1
        # The identities of each IKE SA, from its IKE_AUTH request.
        if (xt[n] == 35 && r[n] == 0 && !gw[n])
            idi[spi[n]] = $10 "/" $11 "/" $12 "/" $13 "/" $14
    }
    END {
        bad = 0; moves = 0
        for (i = 1; i <= n; i++) {
            # A REDIRECT (16407) in an INFORMATIONAL request from a gateway.
            if (!(xt[i] == 37 && r[i] == 0 && gw[i] && index(nt[i], ",16407,")))
                continue
            moves++
            d = 0
            for (j = i + 1; j <= n; j++)
                if (xt[j] == 37 && r[j] == 0 && !gw[j] && spi[j] == spi[i] &&
                    index(del[j], ",1,")) { d = j; break }
            if (!d) {
                printf "%s: REDIRECT to %s in IKE SA %s at frame %d:" \
                    " no Delete of that IKE SA from the client\n",
                    cli, tgt[i], spi[i], i
                bad = 1; continue
            }
            a = 0
            want = idi[spi[i]] == "////" ? "" : idi[spi[i]]
            for (k = i + 1; k < d; k++)
                if (xt[k] == 35 && r[k] == 1 && src[k] == tgt[i] &&
                    redirected[spi[k]] && !used[k] &&
                    (want == "" || idi[spi[k]] == want)) { a = k; break }
            if (!a) {
                printf "%s: REDIRECT to %s in IKE SA %s: Delete sent %d ms" \
                    " later with no IKE_AUTH response from %s before it\n",
                    cli, tgt[i], spi[i], t[d] - t[i], tgt[i]
                bad = 1; continue
            }
            used[a] = 1
            printf "%s: IKE SA %s: REDIRECT to %s, IKE_AUTH response from" \
                " %s +%d ms (new IKE SA %s), Delete sent +%d ms\n",
                cli, spi[i], tgt[i], src[a], t[a] - t[i], spi[a], t[d] - t[i]
        }
        if (moves == 0) printf "%s: no mid-session REDIRECT captured\n", cli
        exit bad
    }' "$LAB_DIR/demo/$cli.packets"
}

# Succeeds if every REDIRECT in the clients' captures, in IKE_SA_INIT
# responses and INFORMATIONAL requests, named an address that accepted new
# clients in the plan sample taken last before it or first after it.  The
# agents apply a plan some time after it is stored, so either neighbour
# counts.  Prints a summary and every violation.
check_view_targets()
{
    local cli

    for cli in "${CLIENTS[@]}"; do
        [ -f "$LAB_DIR/demo/$cli.packets" ] ||
            view_packets "$cli" >"$LAB_DIR/demo/$cli.packets" || return 1
        awk -F'|' -v cli="$cli" -v OFS='|' \
            'index($7, "16407") && $8 != "" { print cli, $1, $4, $8 }' \
            "$LAB_DIR/demo/$cli.packets"
    done | awk -F'|' '
    FNR == NR {
        ts[++m] = substr($0, 1, index($0, " ") - 1)
        act[m] = substr($0, index($0, " ")) " "
        next
    }
    {
        cli = $1; t = $2; kind = ($3 == 34 ? "IKE_SA_INIT" : "INFORMATIONAL")
        target = $4; total++
        before = 0; after = 0
        for (i = 1; i <= m; i++) {
            if (ts[i] <= t) before = i
            else if (!after) after = i
        }
        ok = (before && index(act[before], " " target " ")) ||
            (after && index(act[after], " " target " "))
        count[kind]++
        if (!ok) {
            bad = 1
            printf "%s: %s REDIRECT to %s at %.0f ms is not active in the plan" \
                " (before:%s after:%s)\n", cli, kind, target, t,
                before ? act[before] : " none", after ? act[after] : " none"
        }
    }
    END {
        printf "%d REDIRECTs in the captures (%d IKE_SA_INIT, %d" \
            " INFORMATIONAL), %d plan samples, %s\n", total,
            count["IKE_SA_INIT"], count["INFORMATIONAL"], m,
            bad ? "some not active" : "each to an active gateway"
        exit (bad || total == 0 || m == 0)
    }' "$LAB_DIR/demo/plan-samples" /dev/stdin
}

# Succeeds if ROGUE had an entry in some sampled plan and no sampled
# plan named it as a target.
check_view_rogue()
{
    awk -v g="$ROGUE" '
    {
        e = "," substr($2, 9) ","; t = "," substr($3, 9) ","
        if (index(e, "," g ",")) member++
        if (index(t, "," g ",")) { named++; if (!first) first = $1 }
        n++
    }
    END {
        printf "%d plan samples, %d with an entry for %s, %d naming it as" \
            " a target%s\n", n, member, g, named,
            named ? " (first at " first " ms)" : ""
        exit (member == 0 || named > 0)
    }' "$LAB_DIR/demo/plan-members"
}

check_view_decrypted()
{
    local cli rc=0

    for cli in "${CLIENTS[@]}"; do
        cap_check_ike "$cli" --keys-from "$cli" || rc=1
        echo "$cli: $(grep -c . "$LAB_DIR/demo/$cli.packets" 2>/dev/null ||
            view_packets "$cli" | grep -c .) IKE packets, decoded with" \
            "$(cap_keys_from_charon "$cli" | grep -c .) IKE SA keys"
    done
    return "$rc"
}

step_client_view()
{
    local cli rc=0

    say "The clients' own view: tshark captured IKE on each client for the" \
        "whole run. The captures are decrypted with the keys that charon" \
        "logged, and checked against the plan that Redis held while the" \
        "REDIRECTs arrived."
    view_stop
    for cli in "${CLIENTS[@]}"; do
        view_packets "$cli" >"$LAB_DIR/demo/$cli.packets" || rc=1
    done
    check "the captures decode and decrypt without errors" \
        check_view_decrypted || rc=1
    for cli in "${CLIENTS[@]}"; do
        check "$cli had each new IKE SA up before it deleted the old one" \
            check_view_mbb "$cli" || rc=1
    done
    check "every REDIRECT the clients got named an active gateway" \
        check_view_targets || rc=1
    if [ "$DEMO_ROGUE" = 1 ]; then
        check "no plan of the whole run named $ROGUE as a target" \
            check_view_rogue || rc=1
    fi
    return "$rc"
}
