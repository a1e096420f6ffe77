# shellcheck shell=bash
# The controller story of deploy/lab/demo.sh (DEMO_CONTROLLER=1): a control
# node with Redis and ikeshift-controller, agents in cluster mode, and the
# steps that drive them through ikeshiftctl and the JSON API.  demo.sh
# sources this file after its own functions, which these use.

# shellcheck disable=SC2317

CTL_BIN_DIR=${IKESHIFT_BIN:-$TOP/build/bin}

# Prints the directory of the control node's files.
ctl_dir()
{
    printf '%s/ctl\n' "$LAB_DIR"
}

# Runs redis-cli in the control node as the ikeshift user.  The password
# goes through REDISCLI_AUTH, not the command line.
redis_ikeshift()
{
    REDISCLI_AUTH=$(cat "$(ctl_dir)/redis.password") lab_exec "$CTL_NODE" \
        redis-cli --no-auth-warning -h "$CTL_ADDR" -p "$REDIS_PORT" \
        --user "$REDIS_USER" "$@"
}

# Runs ikeshiftctl in the control node with the read-write token.
ikeshiftctl()
{
    lab_exec "$CTL_NODE" "$CTL_BIN_DIR/ikeshiftctl" --url "$API_URL" \
        --token-file "$(ctl_dir)/api-rw.token" "$@"
}

# Prints the response body of GET PATH on the API, fetched with curl in
# the control node, where the API listens on loopback.
api_get()
{
    lab_exec "$CTL_NODE" curl -sS --max-time 5 "$API_URL$1"
}

# Prints a random hex secret of 32 bytes.
ctl_secret()
{
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

# Writes DIR/redis.conf and DIR/users.acl for DEMO_REDIS_ACL=shipped:
# the lab's redis.conf with an aclfile, and a copy of the shipped
# deploy/redis/users.acl with the run's password (">" and the plain text,
# as docs/operations.md describes) added to the end of the controller and
# agent user lines, after their resetpass.
redis_conf_shipped()
{
    local dir=$1 ctl_pw agent_pw

    ctl_pw=$(cat "$dir/redis.password") || return 1
    agent_pw=$(cat "$dir/redis-agent.password") || return 1
    (umask 077 && awk -v c="$ctl_pw" -v a="$agent_pw" '
        $1 == "user" && $2 == "ikeshift-controller" { $0 = $0 " >" c }
        $1 == "user" && $2 == "ikeshift-agent" { $0 = $0 " >" a }
        { print }' "$TOP/deploy/redis/users.acl" >"$dir/users.acl") ||
        return 1
    grep -q "^user ikeshift-controller on .*>$ctl_pw\$" "$dir/users.acl" &&
        grep -q "^user ikeshift-agent on .*>$agent_pw\$" "$dir/users.acl" ||
        lab_err "deploy/redis/users.acl has no 'user ikeshift-controller on'" \
            "or 'user ikeshift-agent on' line" || return
    {
        cat "$HERE/redis.conf"
        printf 'bind %s\ndir %s\naclfile %s\n' "$CTL_ADDR" "$dir/redis" \
            "$dir/users.acl"
    } >"$dir/redis.conf"
}

# Builds the control node: Redis with appendonly and an ACL user limited
# to the ikeshift: keys and channels, and one ikeshift-controller whose
# API listens on the node's loopback.  Waits until both respond.
control_start()
{
    local dir i

    dir=$(ctl_dir)
    mkdir -p "$dir/redis" || return 1
    lab_node_add "$CTL_NODE" "$CTL_ADDR/24" || return 1
    (umask 077 && ctl_secret >"$dir/redis.password" &&
        ctl_secret >"$dir/redis-agent.password" &&
        ctl_secret >"$dir/api-rw.token") || return 1
    if [ "$DEMO_REDIS_ACL" = shipped ]; then
        redis_conf_shipped "$dir" || return 1
    else
        {
            cat "$HERE/redis.conf"
            printf 'user default off\n'
            printf 'bind %s\ndir %s\n' "$CTL_ADDR" "$dir/redis"
            printf 'user %s on >%s ~ikeshift:* &ikeshift:* +@all -@dangerous\n' \
                "$REDIS_USER" "$(cat "$dir/redis.password")"
        } >"$dir/redis.conf" || return 1
        cp "$dir/redis.password" "$dir/redis-agent.password" || return 1
    fi
    chmod 600 "$dir/redis.conf"
    lab_spawn_in "$CTL_NODE" "$dir/redis.log" redis-server "$dir/redis.conf" ||
        return 1
    echo "$LAB_SPAWNED_PID" >"$dir/redis.pid"
    for ((i = 0; i < 50; i++)); do
        [ "$(redis_ikeshift PING 2>/dev/null)" = PONG ] && break
        sleep 0.1
    done
    [ "$(redis_ikeshift PING 2>/dev/null)" = PONG ] ||
        lab_err "redis-server did not answer PING; log $dir/redis.log" ||
        return
    jq -n --arg redis "$CTL_ADDR:$REDIS_PORT" --arg user "$REDIS_USER" \
        --arg pw "$dir/redis.password" --arg rw "$dir/api-rw.token" \
        --arg slow "$SLOW_START" --argjson id "$(jq .identity "$TEMPLATE")" '{
        controller_id: "ctl-a", log_level: "info", loop_interval: "250ms",
        identity: $id,
        redis: { address: $redis, user: $user, password_file: $pw },
        lease: { ttl: "3s", renew_interval: "1s" },
        api: { listen: "127.0.0.1:8680", read_write_token_file: $rw },
        planner: { slow_start: $slow, plan_ttl: "30s" },
        registry: { expire_after: "2500ms" } }' >"$dir/controller.json" ||
        return 1
    if ! "$CTL_BIN_DIR/ikeshift-controller" -c "$dir/controller.json" -t \
        >"$dir/check.out" 2>&1; then
        lab_err "controller configuration invalid: $(cat "$dir/check.out")"
        return 1
    fi
    # The standby differs in its id and API port only.
    jq --arg url "${STANDBY_URL#http://}" \
        '.controller_id = "ctl-b" | .api.listen = $url' \
        "$dir/controller.json" >"$dir/controller-b.json" || return 1
    lab_spawn_in "$CTL_NODE" "$dir/controller.log" \
        "$CTL_BIN_DIR/ikeshift-controller" -c "$dir/controller.json" ||
        return 1
    echo "$LAB_SPAWNED_PID" >"$dir/controller.pid"
    for ((i = 0; i < 50; i++)); do
        api_get /healthz >/dev/null 2>&1 && break
        sleep 0.1
    done
    api_get /healthz >/dev/null 2>&1 ||
        lab_err "the controller API did not respond; log $dir/controller.log" ||
        return
    [ "$DEMO_FAILOVER" = 1 ] || return 0
    # The standby starts once ctl-a leads, so that ctl-a is the leader.
    for ((i = 0; i < 50; i++)); do
        [ "$(api_get /v1/cluster 2>/dev/null | jq -r .leader)" = true ] &&
            break
        sleep 0.1
    done
    lab_spawn_in "$CTL_NODE" "$dir/controller-b.log" \
        "$CTL_BIN_DIR/ikeshift-controller" -c "$dir/controller-b.json" ||
        return 1
    echo "$LAB_SPAWNED_PID" >"$dir/controller-b.pid"
    for ((i = 0; i < 50; i++)); do
        API_URL=$STANDBY_URL api_get /healthz >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    lab_err "the standby API did not respond; log $dir/controller-b.log"
    return 1
}

# Starts the agent of gateway GW in cluster mode like ag_start, but with
# a frozen copy of /proc/stat bind-mounted over /proc/stat in a mount
# namespace of its own.
# NOTE: an agent reports the busiest CPU core of the whole host as part of
# its load.  The lab's gateways share one host with unrelated work, and one
# busy process there (a build, a fuzzer) lifts every gateway's load above
# the accept threshold, so the planner lists no targets and refuses drains
# with no_room.  The frozen copy makes the CPU dimension read 0, so the
# load comes from SAs, pool and half-open SAs only.
cluster_agent_start()
{
    local gw=$1 dir pid i stat

    dir=$(ag_dir "$gw")
    stat=$(ctl_dir)/proc-stat
    [ -f "$stat" ] || cp /proc/stat "$stat" || return 1
    : >"$dir/agent.log"
    # shellcheck disable=SC2016 # $1-$3 expand in the inner shell
    lab_spawn_in "$gw" "$dir/agent.log" unshare --mount --propagation private \
        sh -c 'mount --bind "$1" /proc/stat && exec "$2" -c "$3"' sh \
        "$stat" "$(ag_bin)" "$dir/agent.json" || return 1
    pid=$LAB_SPAWNED_PID
    echo "$pid" >"$dir/pid"
    for ((i = 0; i < 100; i++)); do
        if ! ag_alive "$gw"; then
            lab_err "agent '$gw' (PID $pid) exited during start-up:"
            tail -n 20 "$dir/agent.log" >&2
            return 1
        fi
        grep -q 'started;' "$dir/agent.log" && return 0
        sleep 0.05
    done
    lab_err "agent '$gw' (PID $pid) did not log 'started;' within 5 s;" \
        "log $dir/agent.log"
    return 1
}

# Prints one line per gateway from GET /v1/gateways: id, live, admin
# state, agent state, IKE SAs, load and drain state.
api_gateways()
{
    api_get /v1/gateways | jq -r '.gateways[] |
        "GET /v1/gateways: \(.gateway_id) live=\(.live)" +
        " admin=\(.admin) state=\(.state // "-") ike_sas=\(.ike_sas // "-")" +
        " load=\((.load * 1000 | round) / 1000) drain=\(.drain.state // "-")"'
}

# Prints the weight of gateway GW in the current plan.
plan_weight()
{
    api_get /v1/plan | jq -r --arg g "$1" \
        '.gateways[] | select(.gateway_id == $g) | .weight'
}

check_redis_acl()
{
    local out

    out=$(lab_exec "$CTL_NODE" redis-cli -h "$CTL_ADDR" -p "$REDIS_PORT" \
        PING 2>&1)
    echo "redis-cli PING without AUTH: $out"
    [[ $out == *NOAUTH* ]] || return 1
    out=$(redis_ikeshift SET other:key x 2>&1)
    echo "$REDIS_USER user, SET other:key: $out"
    [[ $out == *NOPERM* ]] || return 1
    out=$(redis_ikeshift FLUSHALL 2>&1)
    echo "$REDIS_USER user, FLUSHALL: $out"
    [[ $out == *NOPERM* ]] || return 1
    out=$(redis_ikeshift CONFIG GET appendonly 2>&1 | paste -sd' ')
    echo "$REDIS_USER user, CONFIG GET appendonly: $out"
    grep -q '^appendonly yes' "$(ctl_dir)/redis.conf" || return 1
    echo "redis.conf: $(grep -E '^(appendonly|user|aclfile)' \
        "$(ctl_dir)/redis.conf" | sed 's/>[0-9a-f]*/>(password)/' |
        paste -sd';')"
    [ "$DEMO_REDIS_ACL" = shipped ] || return 0
    # The agent user may read the plan but not write it.
    out=$(REDISCLI_AUTH=$(cat "$(ctl_dir)/redis-agent.password") \
        lab_exec "$CTL_NODE" redis-cli --no-auth-warning -h "$CTL_ADDR" \
        -p "$REDIS_PORT" --user "$REDIS_AGENT_USER" SET ikeshift:plan x 2>&1)
    echo "$REDIS_AGENT_USER user, SET ikeshift:plan: $out"
    [[ $out == *NOPERM* ]] || return 1
    echo "users.acl: $(grep -c '^user ' "$(ctl_dir)/users.acl") users from" \
        "deploy/redis/users.acl, passwords added for this run"
}

# Waits up to TIMEOUT seconds until the controller leads and every gateway
# in GWS (default all) is live and active in the plan.
wait_cluster()
{
    local timeout=${1:-15} gws=${2:-${GATEWAYS[*]}} i gw ok

    for ((i = 0; i < timeout * 4; i++)); do
        ok=1
        [ "$(api_get /v1/cluster | jq -r .leader)" = true ] || ok=0
        for gw in $gws; do
            [ "$(api_get "/v1/gateways/$gw" | jq -r .live)" = true ] || ok=0
            [ "$(api_get /v1/plan | jq -r --arg g "$gw" \
                '.gateways[] | select(.gateway_id == $g) |
                .accept_new')" = true ] || ok=0
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.25
    done
    return 1
}

check_cluster_live()
{
    local rc=0

    wait_cluster 20 || rc=1
    ikeshiftctl status
    api_gateways
    return "$rc"
}

# Prints how many IKE SAs the API reports for gateway GW.
api_sas()
{
    api_get "/v1/gateways/$1" | jq -r .ike_sas
}

# Succeeds if the session counts per gateway from the agents and from the
# API agree (waiting up to 5 s for a report) and differ by at most
# BALANCE_TOLERANCE.
check_balanced()
{
    local gw i n a min=999999 max=0 same

    for ((i = 0; i < 20; i++)); do
        same=1
        for gw in "${GATEWAYS[@]}"; do
            [ "$(agent_count "$gw")" = "$(api_sas "$gw")" ] || same=0
        done
        [ "$same" = 1 ] && break
        sleep 0.25
    done
    api_gateways
    for gw in "${GATEWAYS[@]}"; do
        n=$(agent_count "$gw")
        a=$(api_sas "$gw")
        echo "$gw: ctl list $n SAs, API ike_sas $a"
        [ "$n" = "$a" ] || return 1
        [ "$n" -lt "$min" ] && min=$n
        [ "$n" -gt "$max" ] && max=$n
    done
    echo "spread: max $max - min $min = $((max - min))," \
        "tolerance $BALANCE_TOLERANCE"
    [ $((max - min)) -le "$BALANCE_TOLERANCE" ]
}

# Succeeds if every connection of every client is established with a
# gateway, with CHILD SA and a virtual IP from that gateway's pool.
check_all_established()
{
    local cli conn gw rc=0

    for cli in "${CLIENTS[@]}"; do
        for conn in ${CLI_CONNS[$cli]}; do
            gw=$(gw_of_addr "$(conn_remote "$cli" "$conn")") ||
                { lab_err "$cli/$conn has no SA"; rc=1; continue; }
            check_conn_on "$cli" "$conn" "$gw" || rc=1
        done
    done
    return "$rc"
}

# Succeeds if the gateways together sent one IKE_SA_INIT REDIRECT per
# connection, each to a gateway's unicast address.
check_plan_redirects()
{
    local gw n total=0 want=0 cli

    for cli in "${CLIENTS[@]}"; do
        want=$((want + $(wc -w <<<"${CLI_CONNS[$cli]}")))
    done
    for gw in "${GATEWAYS[@]}"; do
        n=$(ag_counter "$gw" redirects_sent_init) || return 1
        echo "$gw: ctl counters redirects_sent_init=$n"
        total=$((total + n))
    done
    ag_log_grep gw1 "redirecting peer; stage=ike_sa_init" | head -n 1 |
        sed -E 's/^[0-9-]+T([0-9:.]+)Z [^ ]+ [a-z]+ [a-z]+: /\1 /' |
        sed 's/^/gw1 log: /'
    echo "total $total, one per connection: $want"
    [ "$total" = "$want" ]
}

step_plan_arrival()
{
    local rc=0

    say "The agents report to Redis and the controller publishes a plan" \
        "(ikeshiftctl plan). Every connection dials $ANYCAST; the gateway" \
        "that receives it follows the plan: it takes the client and" \
        "redirects it to its own unicast address, or sends it to a" \
        "target of the plan."
    check "the plan lists every gateway as active and accepting" \
        ikeshiftctl plan || rc=1
    initiate_all || rc=1
    check "every connection is established with a CHILD SA and a virtual IP" \
        check_all_established || rc=1
    check "the gateways redirected each anycast arrival to a unicast address" \
        check_plan_redirects || rc=1
    check "sessions per gateway are balanced (agents and API agree)" \
        check_balanced || rc=1
    if [ "$DEMO_DNAT" = 1 ]; then
        check "the plan names $DNAT_GW by its public address ${GW_ADDR[$DNAT_GW]}, and its clients reach it through the NAT" \
            check_dnat_planned || rc=1
    fi
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

# Succeeds if the API and every plan target give the DNAT gateway its
# public address, never the inside one its agent listens on, and a client
# with an SA there saw the gateway's NAT (RFC 7296 2.23).
check_dnat_planned()
{
    local gw=$DNAT_GW pub=${GW_ADDR[$DNAT_GW]} addrs cli

    echo "GET /v1/gateways/$gw: address=$(api_get "/v1/gateways/$gw" |
        jq -r .address)"
    addrs=$(api_get /v1/plan | jq -r --arg g "$gw" \
        '[.gateways[].targets[] | select(.gateway_id == $g) | .address] |
        unique | join(" ")')
    echo "GET /v1/plan: targets for $gw name '$addrs'"
    [ "$(api_get "/v1/gateways/$gw" | jq -r .address)" = "$pub" ] || return 1
    [ "$addrs" = "$pub" ] || return 1
    for cli in "${CLIENTS[@]}"; do
        sw_list_sas "$cli" | grep -q "remote=$pub " || continue
        sw_log_grep "$cli" "remote host is behind NAT" | head -n 1 |
            sed -E "s/^[0-9:]+ [0-9]+\[IKE\] /$cli log: /"
        ag_list_sas "$gw" | head -n 1 | sed "s/^/$gw ctl list: /"
        sw_log_grep "$cli" "remote host is behind NAT" >/dev/null
        return
    done
    lab_err "no client has an IKE SA with $gw ($pub)"
}

# ---------------------------------------------------------------------------
# The negative case: a gateway that presents another identity

# Starts ROGUE: MODE "standalone" without a cluster section, "cluster"
# as a member of the cluster.  The node is made on the first call.
rogue_start()
{
    if ! lab_node_exists "$ROGUE"; then
        lab_node_add "$ROGUE" "${GW_ADDR[$ROGUE]}/24" || return 1
        lab_addr_add "$ROGUE" "$ANYCAST/32" lo || return 1
    fi
    GW_STANDALONE[$ROGUE]=0
    [ "$1" = standalone ] && GW_STANDALONE[$ROGUE]=1
    gateway_config "$ROGUE" || return 1
    if [ "$1" = standalone ]; then
        ag_start "$ROGUE"
    else
        cluster_agent_start "$ROGUE"
    fi
}

rogue_stop()
{
    lab_kill "$(cat "$(ag_dir "$ROGUE")/pid")" INT 5
}

# Prints why client 1's charon gave up on the probe connection.
probe_failure_lines()
{
    sw_log_grep cli1 "constraint check failed|does not match|AUTHENTICATION_FAILED|authentication of .* failed|no trusted .* public key" |
        sed -E 's/^[0-9:]+ [0-9]+\[[A-Z]+\] /cli1 log: /' | head -n 3
}

check_probe_refused()
{
    local out

    if sw_initiate cli1 "$ROGUE_CONN" 8 >/dev/null 2>&1; then
        lab_err "cli1 established $ROGUE_CONN with $ROGUE"
        return 1
    fi
    out=$(probe_failure_lines)
    printf '%s\n' "$out"
    sw_log_grep cli1 "received .*IDr|IDr '${GW_IDENTITY[$ROGUE]}'" |
        head -n 1 | sed -E 's/^[0-9:]+ [0-9]+\[[A-Z]+\] /cli1 log: /'
    echo "cli1 SAs of $ROGUE_CONN: $(sw_list_sas cli1 "$ROGUE_CONN" | wc -l)"
    [ -n "$out" ] && [ "$(sw_list_sas cli1 "$ROGUE_CONN" | wc -l)" = 0 ]
}

# Waits until the controller lists ROGUE as live, then prints its
# identity as the API, ikeshiftctl and the controller's log show it.
check_rogue_listed()
{
    local i j

    for ((i = 0; i < 40; i++)); do
        [ "$(api_get "/v1/gateways/$ROGUE" | jq -r .live)" = true ] && break
        sleep 0.25
    done
    j=$(api_get "/v1/gateways/$ROGUE")
    echo "GET /v1/gateways/$ROGUE: $(jq -c '{live, identity, identity_ok,
        address}' <<<"$j")"
    ikeshiftctl gateways | grep -E "^(GATEWAY|$ROGUE) "
    grep "another identity" "$(ctl_dir)/controller.log" | head -n 1 |
        sed -E 's/^[0-9-]+T([0-9:.]+)Z /controller log: \1 /'
    [ "$(jq -r .live <<<"$j")" = true ] &&
        [ "$(jq -r .identity_ok <<<"$j")" = false ] &&
        [ "$(jq -r .identity <<<"$j")" = "fqdn:${GW_IDENTITY[$ROGUE]}" ] &&
        grep -q "another identity.*gateway=$ROGUE" \
            "$(ctl_dir)/controller.log"
}

# Succeeds if no plan entry names ROGUE as a target and its own entry
# accepts no client.  Waits first, up to 10 s, until ROGUE reports that
# it applied a plan that has its entry, so that it follows that entry.
check_rogue_not_planned()
{
    local plan named i epoch

    for ((i = 0; i < 40; i++)); do
        plan=$(api_get /v1/plan)
        epoch=$(api_get "/v1/gateways/$ROGUE" | jq -r .plan_epoch)
        jq -e --arg g "$ROGUE" --argjson e "${epoch:-0}" \
            'any(.gateways[]; .gateway_id == $g) and .epoch <= $e' \
            <<<"$plan" >/dev/null 2>&1 && break
        sleep 0.25
    done
    echo "$ROGUE applied plan epoch $epoch; current plan epoch" \
        "$(jq -r .epoch <<<"$plan")"
    named=$(jq -r --arg g "$ROGUE" --arg a "${GW_ADDR[$ROGUE]}" \
        '[.gateways[] | .gateway_id as $o | .targets[] |
        select(.gateway_id == $g or .address == $a) | $o] | join(" ")' \
        <<<"$plan")
    echo "GET /v1/plan: $ROGUE's entry $(jq -c --arg g "$ROGUE" \
        '.gateways[] | select(.gateway_id == $g) | {accept_new, weight,
        targets: [.targets[].gateway_id]}' <<<"$plan")"
    echo "entries that name $ROGUE as a target: ${named:-none}"
    [ -z "$named" ] &&
        [ "$(jq -r --arg g "$ROGUE" '.gateways[] | select(.gateway_id == $g)
            | .accept_new' <<<"$plan")" = false ]
}

check_probe_redirected()
{
    local to gw

    sw_initiate cli1 "$ROGUE_CONN" 10 net || return 1
    to=$(conn_remote cli1 "$ROGUE_CONN")
    gw=$(gw_of_addr "$to") ||
        { lab_err "cli1/$ROGUE_CONN ended on $to, not a cluster gateway"; return 1; }
    ag_log_grep "$ROGUE" "redirecting peer; stage=ike_sa_init" | tail -n 1 |
        sed -E "s/^[0-9-]+T([0-9:.]+)Z [^ ]+ [a-z]+ [a-z]+: /$ROGUE log: \1 /"
    check_conn_on cli1 "$ROGUE_CONN" "$gw" || return 1
    # The probe leaves, so that the later steps count the same sessions.
    sw_swanctl cli1 --terminate --ike "$ROGUE_CONN" --timeout 5 >/dev/null
}

step_ctl_identity()
{
    local rc=0 id

    id=$(jq -r .identity.value "$TEMPLATE")
    say "A fourth gateway, $ROGUE (${GW_ADDR[$ROGUE]}), presents the" \
        "identity ${GW_IDENTITY[$ROGUE]} instead of the cluster's $id, as" \
        "after a configuration change that reached one host only. First" \
        "it runs outside the cluster, and a client that dials it refuses" \
        "it. Then it joins the cluster: the controller reads the wrong" \
        "identity in its report, keeps it out of every plan, and $ROGUE" \
        "itself redirects a client that dials it to a gateway with the" \
        "right identity."
    rogue_start standalone || return 1
    sw_conn cli1 "$ROGUE_CONN" remote_addrs="${GW_ADDR[$ROGUE]}" \
        local_id="$ROGUE_CONN@example.net" remote_id="$id" \
        secret="$(template_psk "$ROGUE_CONN@example.net")" vips=0.0.0.0 \
        child=net remote_ts="$INNER" proposals="$IKE_PROPOSAL" \
        esp="$ESP_PROPOSAL" || return 1
    sw_load cli1 || return 1
    check "cli1 refuses $ROGUE, which presents ${GW_IDENTITY[$ROGUE]}" \
        check_probe_refused || rc=1
    rogue_stop || return 1
    rogue_start cluster || return 1
    check "the controller lists $ROGUE as live with the wrong identity" \
        check_rogue_listed || rc=1
    check "the plan names $ROGUE as nobody's target and it takes no client" \
        check_rogue_not_planned || rc=1
    check "cli1 dials $ROGUE and is redirected to a gateway of the cluster" \
        check_probe_redirected || rc=1
    return "$rc"
}

# Records every IKE SA of every client with gateway GW in OLD_IDS.
record_all_ids()
{
    local cli

    OLD_IDS=()
    for cli in "${CLIENTS[@]}"; do
        record_ids "$cli" "$1"
    done
}

# Succeeds if each connection in OLD_IDS now has a new IKE SA with a
# gateway other than FROM_GW (CHILD SA, virtual IP from that gateway's
# pool), no SA with FROM_GW, and a log that shows make-before-break.
check_moved_off()
{
    local from_gw=$1 key cli conn to to_gw new_id rc=0 i

    for key in "${!OLD_IDS[@]}"; do
        cli=${key%%/*}
        conn=${key#*/}
        for ((i = 0; i < 100; i++)); do
            to=$(sw_list_sas "$cli" "$conn" | sw_sa_field remote |
                grep -v -x "${GW_ADDR[$from_gw]}" | head -n 1)
            [ -n "$to" ] && break
            sleep 0.1
        done
        to_gw=$(gw_of_addr "$to") ||
            { lab_err "$cli/$conn has no SA off $from_gw"; rc=1; continue; }
        check_conn_on "$cli" "$conn" "$to_gw" || { rc=1; continue; }
        for ((i = 0; i < 50; i++)); do
            sw_list_sas "$cli" "$conn" |
                grep -q "remote=${GW_ADDR[$from_gw]} " || break
            sleep 0.1
        done
        if sw_list_sas "$cli" "$conn" | grep -q "remote=${GW_ADDR[$from_gw]} "; then
            lab_err "$cli/$conn still has an SA with $from_gw"
            rc=1
        fi
        new_id=$(sw_list_sas "$cli" "$conn" | grep "remote=$to " |
            sw_sa_field id | head -n 1)
        check_make_before_break "$cli" "$conn" "${OLD_IDS[$key]}" \
            "$new_id" "$to" || rc=1
    done
    return "$rc"
}

# Runs ikeshiftctl drain gw1 --wait, bounded to 60 s.
check_ctl_drain()
{
    local rc

    lab_exec "$CTL_NODE" timeout 60 "$CTL_BIN_DIR/ikeshiftctl" \
        --url "$API_URL" --token-file "$(ctl_dir)/api-rw.token" \
        drain gw1 --pace 2 --deadline 60s --wait --interval 500
    rc=$?
    echo "ikeshiftctl exit status $rc"
    return "$rc"
}

check_gw1_drained()
{
    local st

    api_gateways
    st=$(api_get /v1/gateways/gw1 | jq -r .drain.state)
    echo "GET /v1/gateways/gw1: drain.state=$st"
    echo "gw1 ctl list: $(agent_count gw1) SAs"
    [ "$st" = drained ] && [ "$(agent_count gw1)" = 0 ]
}

# Succeeds if alice on cli1, whose anycast route leads to gw1, reconnects
# and lands on a gateway in WANT (space-separated).
check_alice_lands()
{
    local want=$1 gw

    sw_terminate cli1 alice 5 || return 1
    sw_initiate cli1 alice 10 net || return 1
    gw=$(gw_of_addr "$(conn_remote cli1 alice)") ||
        lab_err "cli1/alice has no SA" || return
    echo "cli1: alice reconnected through $ANYCAST and is on $gw"
    check_conn_on cli1 alice "$gw" || return 1
    [[ " $want " == *" $gw "* ]]
}

step_ctl_drain()
{
    local rc=0

    say "'ikeshiftctl drain gw1 --wait' asks the controller to empty" \
        "gateway 1 at 2 REDIRECTs per second. gw1 first takes no new" \
        "clients for 3 s (state no_new_clients, rate 0), then sends each" \
        "of its clients an INFORMATIONAL REDIRECT to a target of the" \
        "plan (state evacuating). Each client builds its new IKE SA" \
        "there before it deletes the old one. The progress lines show" \
        "the SAs left and the measured rate."
    record_all_ids gw1
    check "ikeshiftctl drain gw1 --wait ends with the gateway drained" \
        check_ctl_drain || rc=1
    check "every session of gw1 moved, new IKE SA before old deleted" \
        check_moved_off gw1 || rc=1
    check "the API reports gw1 drained and gw1 lists no SA" \
        check_gw1_drained || rc=1
    check "a new client dialling $ANYCAST via gw1 lands elsewhere" \
        check_alice_lands "gw2 gw3" || rc=1
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

check_gw1_restart()
{
    check_agent_stopped || return 1
    check_agent_restarted
}

check_resume()
{
    ikeshiftctl resume gw1 || return 1
    wait_cluster 15 gw1 || return 1
    ikeshiftctl gateway gw1
}

# Succeeds if gw1's weight in the plan starts below half of the largest
# weight and grows over the next seconds.  Prints the weights.
check_slow_start()
{
    local w0 w1 i max

    w0=$(plan_weight gw1)
    max=$(api_get /v1/plan | jq '[.gateways[].weight] | max')
    echo "plan: gw1 weight $w0 of max $max right after resume"
    ikeshiftctl plan
    for ((i = 0; i < 40; i++)); do
        sleep 0.25
        w1=$(plan_weight gw1)
        [ "$w1" -gt "$w0" ] && break
    done
    echo "plan: gw1 weight $w1 $(( i / 4 )) s later"
    [ "$w0" -lt $((max / 2)) ] && [ "$w1" -gt "$w0" ]
}

step_ctl_resume()
{
    local rc=0

    say "Gateway 1's agent is stopped and started again, as for a" \
        "software update, and 'ikeshiftctl resume gw1' returns it to" \
        "active. The plan ramps its weight up from a low floor (slow" \
        "start, $SLOW_START), and it takes new clients again."
    check "gw1's agent stops, starts again with no SA" check_gw1_restart ||
        return 1
    check "ikeshiftctl resume gw1 makes it active and accepting" \
        check_resume || rc=1
    check "gw1's weight in the plan starts low and grows (slow start)" \
        check_slow_start || rc=1
    check "a new client dialling $ANYCAST via gw1 lands on gw1" \
        check_alice_lands gw1 || rc=1
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

# Succeeds once the controller no longer lists gw3 as live: an active
# gateway whose report expired leaves the registry, so its GET gets 404.
check_gw3_left()
{
    local i code

    for ((i = 0; i < 40; i++)); do
        code=$(lab_exec "$CTL_NODE" curl -s -o "$LAB_DIR/demo/gw3.json" \
            -w '%{http_code}' "$API_URL/v1/gateways/gw3")
        [ "$code" = 404 ] && break
        [ "$code" = 200 ] &&
            [ "$(jq -r .live "$LAB_DIR/demo/gw3.json")" = false ] && break
        sleep 0.25
    done
    echo "GET /v1/gateways/gw3: HTTP $code $(jq -c . "$LAB_DIR/demo/gw3.json")"
    api_gateways
    [ "$code" = 404 ] || [ "$(jq -r .live "$LAB_DIR/demo/gw3.json")" = false ]
}

# Appends the state that the API shows for gw3 to gw3-states every
# 200 ms, for at most 40 s.  Runs in the background during the drain.
watch_gw3_state()
{
    local i

    # It ends on its own once the run's directory is gone.
    for ((i = 0; i < 200; i++)); do
        [ -d "$LAB_DIR/demo" ] || return 0
        api_get /v1/gateways/gw3 2>/dev/null | jq -r '.state // "gone"' \
            >>"$LAB_DIR/demo/gw3-states" 2>/dev/null
        sleep 0.2
    done
}

check_gw3_reported_draining()
{
    echo "states of gw3 in GET /v1/gateways/gw3 during the drain:" \
        "$(uniq "$LAB_DIR/demo/gw3-states" | paste -sd' ')"
    grep -qx draining "$LAB_DIR/demo/gw3-states"
}

step_ctl_sigterm()
{
    local rc=0 watcher

    say "Gateway 3's agent gets SIGTERM. Its configuration names no drain" \
        "target, so it drains itself to the targets of its plan entry," \
        "reports 'draining' meanwhile, and exits 0 once no SA is left;" \
        "the controller then drops it from the plan."
    record_all_ids gw3
    watch_gw3_state &
    watcher=$!
    echo "$watcher" >"$LAB_DIR/demo/gw3-watcher.pid"
    check "gw3's agent drains and exits 0" check_drain_exit || rc=1
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    check "the controller saw gw3 report 'draining' during its drain" \
        check_gw3_reported_draining || rc=1
    check "the drain REDIRECTs are paced (1 per 500 ms)" check_drain_paced ||
        rc=1
    check "each drain REDIRECT named a gateway of the plan, never gw3 or $ROGUE" \
        check_sigterm_targets || rc=1
    check "every session of gw3 moved, new IKE SA before old deleted" \
        check_moved_off gw3 || rc=1
    check "the controller sees gw3 gone" check_gw3_left || rc=1
    say "Sessions per gateway:"
    print_sessions | sed 's/^/    /'
    return "$rc"
}

# Succeeds if gw3's log has drain REDIRECTs and each names the address
# of gw1 or gw2.
check_sigterm_targets()
{
    local addrs a gw bad=0

    addrs=$(ag_log_grep gw3 "redirecting peer; stage=informational" |
        sed -n 's/.* gw=\([^ ]*\).*/\1/p')
    for a in $(sort -u <<<"$addrs"); do
        gw=$(gw_of_addr "$a") || gw=none
        echo "$(grep -c -x "$a" <<<"$addrs") REDIRECTs to $a ($gw)"
        case $gw in gw1 | gw2) ;; *) bad=1 ;; esac
    done
    [ -n "$addrs" ] && [ "$bad" = 0 ]
}

check_api_curl()
{
    local path

    for path in /healthz /v1/cluster /v1/gateways/gw1; do
        echo "curl $API_URL$path:"
        api_get "$path" | jq -c . | fold -w 70 | sed 's/^/  /'
        [ "${PIPESTATUS[0]}" = 0 ] || return 1
    done
    [ "$(api_get /healthz | jq -r .status)" = ok ]
}

check_api_auth()
{
    local code

    code=$(lab_exec "$CTL_NODE" curl -s -o /dev/null -w '%{http_code}' \
        -X POST -H 'Content-Type: application/json' -d '{}' \
        "$API_URL/v1/gateways/gw2/drain")
    echo "POST /v1/gateways/gw2/drain without a token: HTTP $code"
    [ "$code" = 401 ]
}

step_ctl_api()
{
    local rc=0

    say "The API is plain JSON over HTTP on the control node's loopback;" \
        "curl reads it there. Changes need the read-write token."
    check "GET /healthz, /v1/cluster and /v1/gateways/gw1 answer JSON" \
        check_api_curl || rc=1
    check "a POST without a token gets 401" check_api_auth || rc=1
    return "$rc"
}

# Prints "leader=BOOL ID term=N plan_epoch=N" from GET /v1/cluster at the
# API at URL.
cluster_role()
{
    API_URL=$1 api_get /v1/cluster | jq -r '"leader=\(.leader) \(.controller_id) term=\(.term) plan_epoch=\(.plan_epoch)"'
}

check_standby()
{
    echo "ctl-a $API_URL: $(cluster_role "$API_URL")"
    echo "ctl-b $STANDBY_URL: $(cluster_role "$STANDBY_URL")"
    [[ $(cluster_role "$API_URL") == "leader=true "* ]] &&
        [[ $(cluster_role "$STANDBY_URL") == "leader=false "* ]]
}

# Stops ctl-a with SIGTERM and waits up to 5 s until ctl-b leads.
check_takeover()
{
    local pid i t0 t1

    pid=$(cat "$(ctl_dir)/controller.pid") || return 1
    t0=$(date +%s%N)
    lab_kill "$pid" TERM 5 || return 1
    echo "ctl-a (PID $pid) stopped with SIGTERM"
    grep -E 'released the lease|stopped' "$(ctl_dir)/controller.log" |
        sed -E 's/^[0-9-]+T([0-9:.]+)Z [^ ]+ [a-z]+ /\1 /; s/^/ctl-a log: /'
    for ((i = 0; i < 50; i++)); do
        [[ $(cluster_role "$STANDBY_URL") == "leader=true "* ]] && break
        sleep 0.1
    done
    t1=$(date +%s%N)
    echo "ctl-b $STANDBY_URL: $(cluster_role "$STANDBY_URL")," \
        "$(((t1 - t0) / 1000000)) ms after SIGTERM"
    [[ $(cluster_role "$STANDBY_URL") == "leader=true "* ]]
}

# Succeeds once ctl-b's plan names ctl-b as leader and gw1 and gw2 report
# that plan's epoch as applied.  Waits up to 10 s.
check_agents_follow()
{
    local i plan epoch term gw ok

    for ((i = 0; i < 40; i++)); do
        ok=1
        plan=$(API_URL=$STANDBY_URL api_get /v1/plan)
        epoch=$(jq -r .epoch <<<"$plan")
        term=$(jq -r .leader_term <<<"$plan")
        [ "$(jq -r .leader_id <<<"$plan")" = ctl-b ] || ok=0
        for gw in gw1 gw2; do
            [ "$(API_URL=$STANDBY_URL api_get "/v1/gateways/$gw" |
                jq -r .plan_epoch)" = "$epoch" ] || ok=0
        done
        [ "$ok" = 1 ] && break
        sleep 0.25
    done
    echo "GET $STANDBY_URL/v1/plan: leader_id=$(jq -r .leader_id <<<"$plan")" \
        "leader_term=$term epoch=$epoch"
    for gw in gw1 gw2; do
        echo "$gw: plan_epoch $(API_URL=$STANDBY_URL api_get \
            "/v1/gateways/$gw" | jq -r .plan_epoch) in its report"
    done
    [ "$ok" = 1 ]
}

# Succeeds if ctl-b, still standby, returns from GET /v1/plan the epoch
# that ctl-a serves (or the next one, which ctl-a may write meanwhile).
check_standby_plan()
{
    local a b i

    for ((i = 0; i < 20; i++)); do
        a=$(api_get /v1/plan | jq -r .epoch)
        b=$(API_URL=$STANDBY_URL api_get /v1/plan | jq -r .epoch 2>/dev/null)
        [[ $b =~ ^[0-9]+$ ]] && [ "$b" -ge $((a - 1)) ] && break
        sleep 0.25
    done
    echo "GET /v1/plan: ctl-a epoch $a, ctl-b (standby) epoch $b," \
        "leader_id $(API_URL=$STANDBY_URL api_get /v1/plan | jq -r .leader_id)"
    [[ $b =~ ^[0-9]+$ ]] && [ "$b" -ge $((a - 1)) ] && [ "$b" -le "$a" ]
}

step_ctl_failover()
{
    local rc=0

    say "A second controller, ctl-b, runs as standby with its API on" \
        "${STANDBY_URL#http://}. ctl-a stops with SIGTERM and releases the" \
        "lease; ctl-b takes it with a higher term, publishes its own plan," \
        "and the agents apply it."
    check "ctl-a leads and ctl-b is standby" check_standby || rc=1
    check "the standby answers GET /v1/plan with the stored plan" \
        check_standby_plan || rc=1
    check "ctl-b leads within 5 s of ctl-a's SIGTERM" check_takeover ||
        return 1
    check "the agents apply ctl-b's plan" check_agents_follow || rc=1
    API_URL=$STANDBY_URL
    return "$rc"
}
