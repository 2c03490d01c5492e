# shellcheck shell=bash
# The cluster topology of scripts/services.sh (sourced by it, `--cluster`):
# three Kafka nodes in KRaft combined mode (each a controller and a broker,
# static quorum, same jars as the single node), topics with replication
# factor 3 and min.insync.replicas=2; one Redis primary, one replica and three
# Sentinels watching them under the name in GTP_CLUSTER_MASTER (default "gtp").
# State lives under .cache/cluster/<node>/. docs/scaling.md says what it is for.
#
# Ports (override to run a second cluster beside one; comma lists of 3, 2, 3):
#   GTP_CLUSTER_KAFKA_PORTS       9192,9292,9392     brokers
#   GTP_CLUSTER_CONTROLLER_PORTS  9193,9293,9393     controllers
#   GTP_CLUSTER_REDIS_PORTS       6380,6381          primary (at first), replica
#   GTP_CLUSTER_SENTINEL_PORTS    26380,26381,26382  sentinels
# Clients: brokers "127.0.0.1:9192,127.0.0.1:9292,127.0.0.1:9392" and
# redis-sentinel://127.0.0.1:26380,127.0.0.1:26381,127.0.0.1:26382/gtp
# (`services.sh --cluster env` prints both as GTP_BROKERS / GTP_REDIS_URL).

cdir="$cache/cluster"
IFS=, read -r -a C_KPORTS <<<"${GTP_CLUSTER_KAFKA_PORTS:-9192,9292,9392}"
IFS=, read -r -a C_CPORTS <<<"${GTP_CLUSTER_CONTROLLER_PORTS:-9193,9293,9393}"
IFS=, read -r -a C_RPORTS <<<"${GTP_CLUSTER_REDIS_PORTS:-6380,6381}"
IFS=, read -r -a C_SPORTS <<<"${GTP_CLUSTER_SENTINEL_PORTS:-26380,26381,26382}"
C_MASTER=${GTP_CLUSTER_MASTER:-gtp}
((${#C_KPORTS[@]} == 3 && ${#C_CPORTS[@]} == 3 && ${#C_RPORTS[@]} == 2 && ${#C_SPORTS[@]} == 3)) ||
    die "GTP_CLUSTER_*_PORTS: 3 kafka, 3 controller, 2 redis and 3 sentinel ports"
# Sentinel: a node unanswering this long is down; two of three must agree.
C_DOWN_MS=${GTP_CLUSTER_SENTINEL_DOWN_MS:-2000}

cluster_bootstrap() {
    local b="" p
    for p in "${C_KPORTS[@]}"; do
        b+="${b:+,}$KAFKA_HOST:$p"
    done
    echo "$b"
}

cluster_sentinel_url() {
    local s="" p
    for p in "${C_SPORTS[@]}"; do
        s+="${s:+,}127.0.0.1:$p"
    done
    echo "redis-sentinel://$s/$C_MASTER"
}

# ---- Kafka nodes (1..3) ------------------------------------------------------------------------

knode_dir() { echo "$cdir/kafka-$1"; }

knode_pid() {
    local d pid
    d=$(knode_dir "$1")
    pid=$(cat "$d/kafka.pid" 2>/dev/null || true)
    if alive "$pid" && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$d/server.properties"* ]]; then
        echo "$pid"
        return
    fi
    pid=$(port_owner "${C_KPORTS[$1 - 1]}")
    if alive "$pid" && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$d/server.properties"* ]]; then
        echo "$pid" >"$d/kafka.pid"
        echo "$pid"
    fi
}

# Node $1 answers a metadata request listing all three brokers.
knode_ready() {
    local md
    md=$(timeout 15 kcat -L -b "$KAFKA_HOST:${C_KPORTS[$1 - 1]}" -m 5 2>/dev/null || true)
    [[ $(grep -c '^  broker [0-9]* at' <<<"$md") -ge "${2:-1}" ]]
}

knode_configure() {
    local n=$1 d voters="" i
    d=$(knode_dir "$n")
    mkdir -p "$d/data" "$d/logs"
    for i in 1 2 3; do
        voters+="${voters:+,}$i@$KAFKA_HOST:${C_CPORTS[$i - 1]}"
    done
    # The single node's template, made a three-voter quorum with replicated
    # internal topics: a node may die and everything keeps a quorum (2 of 3).
    sed -e "s|@DATA@|$d/data|g" -e "s|@PORT@|${C_KPORTS[$n - 1]}|g" \
        -e "s|@CPORT@|${C_CPORTS[$n - 1]}|g" -e "s|^node.id=.*|node.id=$n|" \
        -e "s|^controller.quorum.bootstrap.servers=.*|controller.quorum.voters=$voters|" \
        -e "s|^default.replication.factor=.*|default.replication.factor=3|" \
        -e "s|^offsets.topic.replication.factor=.*|offsets.topic.replication.factor=3|" \
        -e "s|^transaction.state.log.replication.factor=.*|transaction.state.log.replication.factor=3|" \
        -e "s|^transaction.state.log.min.isr=.*|transaction.state.log.min.isr=2|" \
        -e "s|^share.coordinator.state.topic.replication.factor=.*|share.coordinator.state.topic.replication.factor=3|" \
        -e "s|^share.coordinator.state.topic.min.isr=.*|share.coordinator.state.topic.min.isr=2|" \
        -e "s|^min.insync.replicas=.*|min.insync.replicas=2|" \
        "$root/scripts/kafka/server.properties.in" >"$d/server.properties"
    cat >>"$d/server.properties" <<EOF

# cluster (scripts/services_cluster.sh): a restarted node catches up before it
# leads again; an out-of-sync replica never becomes leader (no lost writes).
unclean.leader.election.enable=false
auto.leader.rebalance.enable=true
EOF
    # static voters (controller.quorum.voters): no --standalone
    kafka_format "$d" "$cdir/cluster.id" "kafka node $n"
}

# Launch node $1 without waiting (the three must come up together to form a quorum).
knode_launch() {
    local n=$1 d pid port
    d=$(knode_dir "$n")
    pid=$(knode_pid "$n")
    if [[ -n "$pid" ]]; then
        return
    fi
    for port in "${C_KPORTS[$n - 1]}" "${C_CPORTS[$n - 1]}"; do
        port_taken "$port" && die "port $port is taken by $(describe_pid "$(port_owner "$port")"); stop it first"
    done
    knode_configure "$n"
    say "starting kafka node $n on $KAFKA_HOST:${C_KPORTS[$n - 1]} (logs in $d/logs)"
    kafka_spawn "$d" 128m 384m # three JVMs share the machine
}

# Wait until node $1 answers listing at least $2 brokers.
knode_wait() {
    local n=$1 want=${2:-3} deadline=$((SECONDS + kafka_wait)) pid d
    d=$(knode_dir "$n")
    while ((SECONDS < deadline)); do
        pid=$(cat "$d/kafka.pid" 2>/dev/null || true)
        if ! alive "$pid"; then
            tail -n 30 "$d/logs/kafka.out" "$d/logs/server.log" >&2 2>/dev/null || true
            die "kafka node $n exited during start-up"
        fi
        knode_ready "$n" "$want" && return 0
        sleep 0.5
    done
    tail -n 30 "$d/logs/server.log" >&2 2>/dev/null || true
    die "kafka node $n did not list $want brokers within ${kafka_wait}s"
}

knode_stop() {
    local pid
    pid=$(knode_pid "$1")
    [[ -n "$pid" ]] || return 0
    say "stopping kafka node $1 (pid $pid)"
    stop_pid "kafka node $1" "$pid" 60
    rm -f "$(knode_dir "$1")/kafka.pid"
}

# ---- Redis primary/replica (1..2) and Sentinels (1..3) ----------------------------------------

rnode_dir() { echo "$cdir/redis-$1"; }
snode_dir() { echo "$cdir/sentinel-$1"; }

# pid of a redis-server (data node or sentinel) running in directory $1.
cwd_pid() {
    local pid
    pid=$(cat "$1/redis.pid" 2>/dev/null || true)
    if alive "$pid" && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$1" ]]; then
        echo "$pid"
    fi
}

redis_ping() { [[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == "PONG" ]]; }

redis_wait_port() {
    local deadline=$((SECONDS + redis_wait))
    until redis_ping "$1"; do
        ((SECONDS < deadline)) || {
            tail -n 20 "$2/redis.log" >&2 2>/dev/null || true
            die "redis did not answer on 127.0.0.1:$1 within ${redis_wait}s"
        }
        sleep 0.1
    done
}

# "host port" of the primary as the first answering Sentinel names it; empty if none.
sentinel_primary() {
    local p out
    for p in "${C_SPORTS[@]}"; do
        out=$(timeout 5 redis-cli -h 127.0.0.1 -p "$p" sentinel get-master-addr-by-name "$C_MASTER" \
            2>/dev/null | tr '\n' ' ' || true)
        if [[ "$out" =~ ^([^ ]+)\ ([0-9]+)\ $ ]]; then
            echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
            return
        fi
    done
}

# need_start DIR PORT: false (after waiting for it to answer) when the server of
# DIR runs; true when it must be started, dying if another process has PORT.
need_start() {
    if [[ -n "$(cwd_pid "$1")" ]]; then
        redis_wait_port "$2" "$1"
        return 1
    fi
    port_taken "$2" && die "port $2 is taken by $(describe_pid "$(port_owner "$2")"); stop it first"
    mkdir -p "$1"
}

rnode_start() {
    local n=$1 d port primary
    d=$(rnode_dir "$n")
    port=${C_RPORTS[$n - 1]}
    need_start "$d" "$port" || return 0
    # Whom to follow: the primary the Sentinels name now (a restarted old
    # primary must not come back as a second primary, not even for the
    # seconds until a Sentinel reconfigures it); on a first start node 1.
    primary=$(sentinel_primary)
    [[ -n "$primary" ]] || primary="127.0.0.1 ${C_RPORTS[0]}"
    cat >"$d/redis.conf" <<EOF
# Generated by scripts/services_cluster.sh at each start; Sentinel may rewrite it.
bind 127.0.0.1
port $port
protected-mode yes
daemonize yes
pidfile $d/redis.pid
logfile $d/redis.log
dir $d
appendonly yes
appendfsync everysec
save ""
replica-announce-ip 127.0.0.1
EOF
    if [[ "$primary" != "127.0.0.1 $port" ]]; then
        echo "replicaof $primary" >>"$d/redis.conf"
    fi
    redis-server "$d/redis.conf" 8>&- || die "redis-server failed to start (see $d/redis.log)"
    redis_wait_port "$port" "$d"
    if [[ "$primary" == "127.0.0.1 $port" ]]; then
        say "redis node $n up on 127.0.0.1:$port (primary)"
    else
        say "redis node $n up on 127.0.0.1:$port (replica of ${primary/ /:})"
    fi
}

snode_start() {
    local n=$1 d port
    d=$(snode_dir "$n")
    port=${C_SPORTS[$n - 1]}
    need_start "$d" "$port" || return 0
    # Sentinel rewrites its file with what it learnt (the current primary,
    # the other sentinels, the epoch): written once, kept across restarts.
    if [[ ! -f "$d/sentinel.conf" ]]; then
        cat >"$d/sentinel.conf" <<EOF
# Generated once by scripts/services_cluster.sh; Sentinel rewrites it.
bind 127.0.0.1
port $port
daemonize yes
pidfile $d/redis.pid
logfile $d/redis.log
dir $d
sentinel announce-ip 127.0.0.1
sentinel monitor $C_MASTER 127.0.0.1 ${C_RPORTS[0]} 2
sentinel down-after-milliseconds $C_MASTER $C_DOWN_MS
sentinel failover-timeout $C_MASTER 10000
sentinel parallel-syncs $C_MASTER 1
EOF
    fi
    redis-server "$d/sentinel.conf" --sentinel 8>&- || die "sentinel failed to start (see $d/redis.log)"
    redis_wait_port "$port" "$d"
}

rnode_stop() {
    local d=$1 port=$2 pid
    pid=$(cwd_pid "$d")
    [[ -n "$pid" ]] || return 0
    timeout 10 redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
    stop_pid "redis in $d" "$pid" 20
}

# ---- commands ----------------------------------------------------------------------------------

cluster_start() {
    local n
    command -v redis-server >/dev/null || die "redis-server not found: run scripts/setup.sh"
    command -v kcat >/dev/null || die "kcat not found: run scripts/setup.sh"
    mkdir -p "$cdir"
    # Sentinels first: a restarted data node asks them whom to follow (after a
    # failover the primary is no longer node 1).
    for n in 1 2 3; do
        snode_start "$n"
    done
    rnode_start 1
    rnode_start 2
    java_check
    kafka_fetch
    for n in 1 2 3; do
        knode_launch "$n"
    done
    for n in 1 2 3; do
        knode_wait "$n" 3
    done
    say "cluster up: brokers $(cluster_bootstrap), redis $(cluster_sentinel_url)"
    BOOTSTRAP=$(cluster_bootstrap)
    create_default_topics
}

cluster_stop() {
    local n pid
    # All three at once: stopped one by one, the last ones lose their quorum
    # and hang in their controlled shutdown until killed.
    for n in 1 2 3; do
        pid=$(knode_pid "$n")
        [[ -z "$pid" ]] || kill -TERM "$pid" 2>/dev/null || true
    done
    for n in 1 2 3; do
        knode_stop "$n"
    done
    for n in 1 2 3; do
        rnode_stop "$(snode_dir "$n")" "${C_SPORTS[$n - 1]}"
    done
    for n in 2 1; do
        rnode_stop "$(rnode_dir "$n")" "${C_RPORTS[$n - 1]}"
    done
}

cluster_status() {
    local rc=0 n pid primary
    for n in 1 2 3; do
        pid=$(knode_pid "$n")
        if [[ -n "$pid" ]] && knode_ready "$n" 1; then
            echo "kafka node $n: up on $KAFKA_HOST:${C_KPORTS[$n - 1]} (pid $pid)"
        else
            echo "kafka node $n: down"
            rc=1
        fi
    done
    for n in 1 2; do
        if redis_ping "${C_RPORTS[$n - 1]}"; then
            echo "redis node $n: up on 127.0.0.1:${C_RPORTS[$n - 1]}," \
                "$(timeout 5 redis-cli -p "${C_RPORTS[$n - 1]}" role 2>/dev/null | head -n1)"
        else
            echo "redis node $n: down"
            rc=1
        fi
    done
    for n in 1 2 3; do
        if redis_ping "${C_SPORTS[$n - 1]}"; then
            echo "sentinel $n: up on 127.0.0.1:${C_SPORTS[$n - 1]}"
        else
            echo "sentinel $n: down"
            rc=1
        fi
    done
    primary=$(sentinel_primary)
    echo "primary: ${primary:-unknown}"
    return $rc
}

# pid of one cluster node (fault injection): kafka-N, redis-N, sentinel-N.
cluster_pid() {
    case "${1:-}" in
    kafka-[123]) knode_pid "${1#kafka-}" ;;
    redis-[12]) cwd_pid "$(rnode_dir "${1#redis-}")" ;;
    sentinel-[123]) cwd_pid "$(snode_dir "${1#sentinel-}")" ;;
    *) die "node names: kafka-1..3, redis-1..2, sentinel-1..3" ;;
    esac
}

# (Re)start one node that was killed; a kafka node waits to see all three brokers.
cluster_start_node() {
    case "${1:-}" in
    kafka-[123])
        java_check
        kafka_fetch
        knode_launch "${1#kafka-}"
        knode_wait "${1#kafka-}" 3
        ;;
    redis-[12]) rnode_start "${1#redis-}" ;;
    sentinel-[123]) snode_start "${1#sentinel-}" ;;
    *) die "node names: kafka-1..3, redis-1..2, sentinel-1..3" ;;
    esac
}

cluster_main() {
    local cmd=${1:-}
    shift || true
    case "$cmd" in
    start)
        lock
        cluster_start
        ;;
    stop)
        lock
        cluster_stop
        ;;
    status) cluster_status ;;
    env)
        echo "GTP_BROKERS=$(cluster_bootstrap)"
        echo "GTP_REDIS_URL=$(cluster_sentinel_url)"
        ;;
    pid) cluster_pid "$@" ;;
    start-node)
        lock
        cluster_start_node "$@"
        ;;
    create-topic)
        BOOTSTRAP=$(cluster_bootstrap)
        create_topic "$@"
        ;;
    delete-topic)
        BOOTSTRAP=$(cluster_bootstrap)
        delete_topic "$@"
        ;;
    reset)
        lock
        cluster_stop
        rm -rf "$cdir"
        say "cluster data wiped"
        ;;
    *) die "with --cluster: start, stop, status, env, pid NODE, start-node NODE, create-topic, delete-topic, reset" ;;
    esac
}
