#!/usr/bin/env bash
# Local services for development, the demo and the tests: a single-node Apache
# Kafka (KRaft combined mode, no Docker) on 127.0.0.1:9092 and Redis on
# 127.0.0.1:6379, with all their state under the git-ignored .cache/.
#
#   scripts/services.sh start            both servers + the topics; returns when they answer
#   scripts/services.sh stop             both servers (graceful, then forced)
#   scripts/services.sh status           exit 0 only when both answer
#   scripts/services.sh restart
#   scripts/services.sh start-kafka | stop-kafka | start-redis | stop-redis   (fault injection)
#   scripts/services.sh create-topic NAME PARTITIONS [key=value ...]          (idempotent)
#   scripts/services.sh delete-topic NAME                                     (idempotent)
#   scripts/services.sh logs [kafka|redis] [-f]
#   scripts/services.sh reset            stop and wipe Kafka's and Redis's data
#
#   scripts/services.sh --cluster start|stop|status|env|reset|...
#       three Kafka nodes (replication factor 3, min.insync.replicas=2), a Redis
#       primary + replica + three Sentinels instead: scripts/services_cluster.sh.
#
# Every command is idempotent: a second start is a no-op, a stale pid file is
# ignored, and an instance of this tree left running without its pid file is
# adopted. A server of another tree already answering on our port is used
# as it is (with a warning) and never stopped; a port taken by something that
# does not answer is an error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache"
kdir="$cache/kafka"
rdir="$cache/redis"

# The ports are part of the contract (docs/programs.md); the overrides exist to try a
# second instance beside a running one (the tests assume the defaults).
readonly KAFKA_HOST=127.0.0.1 KAFKA_PORT=${GTP_KAFKA_PORT:-9092}
readonly CONTROLLER_PORT=${GTP_KAFKA_CONTROLLER_PORT:-9093} REDIS_PORT=${GTP_REDIS_PORT:-6379}
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT" # the cluster's three in --cluster mode
# Replication of the topics created here (3, with min.insync.replicas=2, in --cluster mode).
replication=1
topic_configs=()
# The project's topics and their partition counts (docs/kafka.md).
readonly TOPICS=("job.postings.v1:6" "job.postings.dlq:3")
kafka_wait=${GTP_KAFKA_WAIT:-90}
redis_wait=${GTP_REDIS_WAIT:-30}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

say() { echo "services: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

# Serialize start/stop across concurrent callers (tests may run in parallel).
lock() {
    mkdir -p "$cache"
    exec 8>"$cache/services.lck"
    flock -w 300 8 || die "another services.sh has held $cache/services.lck for 300s"
}

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# pid of the process listening on TCP port $1 (empty when none or unknown).
port_owner() {
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true
}

port_taken() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null || true)" ]]; }

# Describe a foreign process for an error message.
describe_pid() {
    local pid=$1
    [[ -n "$pid" ]] || {
        echo "an unknown process"
        return
    }
    echo "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-160)," \
        "cwd $(readlink "/proc/$pid/cwd" 2>/dev/null || echo '?'))"
}

# ---- Kafka ---------------------------------------------------------------------------------------

# (Outputs are captured before matching: with pipefail, `cmd | grep -q` fails
# when grep exits early and cmd dies of SIGPIPE.)
kafka_is_ours() {
    local cmdline
    alive "$1" || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true)
    [[ "$cmdline" == *"$kdir/server.properties"* ]]
}

# pid of this tree's broker, adopting one whose pid file got lost; empty if none.
kafka_pid() {
    local pid
    pid=$(cat "$kdir/kafka.pid" 2>/dev/null || true)
    if kafka_is_ours "$pid"; then
        echo "$pid"
        return
    fi
    rm -f "$kdir/kafka.pid"
    for port in $KAFKA_PORT $CONTROLLER_PORT; do
        pid=$(port_owner "$port")
        if kafka_is_ours "$pid"; then
            say "adopting running kafka pid $pid (pid file was missing)"
            echo "$pid" >"$kdir/kafka.pid"
            echo "$pid"
            return
        fi
    done
}

# The broker answers a metadata request and lists a broker (registered, unfenced).
kafka_ready() {
    local md
    md=$(timeout 15 kcat -L -b "$BOOTSTRAP" -m 5 2>/dev/null || true)
    [[ "$md" =~ broker\ [0-9]+\ at ]]
}

kafka_classpath() { echo "$kdir/libs/*"; }

# Fetch the broker jars with Maven once per version of scripts/kafka/pom.xml.
kafka_fetch() {
    local pom="$root/scripts/kafka/pom.xml" want
    want=$(sha256sum "$pom" | cut -d' ' -f1)
    if [[ -f "$kdir/libs/.pom.sha" && "$(cat "$kdir/libs/.pom.sha")" == "$want" ]]; then
        return
    fi
    command -v mvn >/dev/null || die "maven (mvn) not found: run scripts/setup.sh"
    # One fetcher at a time (parallel tests may create topics in a fresh tree).
    mkdir -p "$kdir"
    exec 7>"$kdir/fetch.lck"
    flock -w 600 7 || die "another maven fetch holds $kdir/fetch.lck"
    if [[ -f "$kdir/libs/.pom.sha" && "$(cat "$kdir/libs/.pom.sha")" == "$want" ]]; then
        exec 7>&-
        return
    fi
    say "fetching the kafka broker jars with maven into $kdir/libs"
    rm -rf "$kdir/libs" "$kdir/libs.tmp"
    mkdir -p "$kdir"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$kdir/libs.tmp" >"$kdir/maven.log" 2>&1 || {
        tail -n 30 "$kdir/maven.log" >&2
        die "maven could not fetch the kafka jars (see $kdir/maven.log)"
    }
    echo "$want" >"$kdir/libs.tmp/.pom.sha"
    mv "$kdir/libs.tmp" "$kdir/libs"
    exec 7>&-
}

java_check() {
    command -v "$java" >/dev/null || die "java not found: run scripts/setup.sh"
    local v
    v=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
    [[ -n "$v" && "$v" -ge 17 ]] || die "kafka needs java >= 17, found '${v:-?}': run scripts/setup.sh"
}

kafka_configure() {
    mkdir -p "$kdir/data" "$kdir/logs"
    sed -e "s|@DATA@|$kdir/data|g" -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CPORT@|$CONTROLLER_PORT|g" \
        "$root/scripts/kafka/server.properties.in" >"$kdir/server.properties"
    kafka_format "$kdir" "$kdir/cluster.id" "kafka" --standalone
}

# kafka_format DIR IDFILE LABEL [FORMAT-ARGS...]: the broker refuses to start on
# unformatted storage; format DIR/data once, with the cluster id kept in IDFILE
# (one id for all nodes of a cluster). DIR holds server.properties and logs/.
kafka_format() {
    local d=$1 idfile=$2 label=$3 id
    shift 3
    [[ -f "$d/data/meta.properties" ]] && return
    id=$(cat "$idfile" 2>/dev/null || true)
    if [[ -z "$id" ]]; then
        id=$("$java" -cp "$(kafka_classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null |
            tail -n1)
        [[ -n "$id" ]] || die "kafka StorageTool random-uuid failed"
        echo "$id" >"$idfile"
    fi
    say "formatting $label storage (cluster id $id)"
    "$java" -cp "$(kafka_classpath)" -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
        -Dkafka.logs.dir="$d/logs" kafka.tools.StorageTool format "$@" \
        -t "$id" -c "$d/server.properties" --ignore-formatted >>"$d/logs/format.out" 2>&1 ||
        {
            tail -n 20 "$d/logs/format.out" >&2
            die "$label storage format failed (see $d/logs/format.out)"
        }
}

# kafka_spawn DIR XMS XMX: start the broker of DIR/server.properties in the
# background, its pid in DIR/kafka.pid. setsid: the broker outlives the shell
# (and a Ctrl-C in it) that started it; 8>&-: it must not inherit (and hold)
# the services lock.
kafka_spawn() {
    local d=$1
    setsid "$java" "-Xms$2" "-Xmx$3" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
        -Dkafka.logs.dir="$d/logs" \
        -cp "$(kafka_classpath)" kafka.Kafka "$d/server.properties" \
        >>"$d/logs/kafka.out" 2>&1 </dev/null 8>&- &
    echo "$!" >"$d/kafka.pid"
}

kafka_wait_ready() {
    local pid=$1 deadline=$((SECONDS + kafka_wait))
    while ((SECONDS < deadline)); do
        if ! alive "$pid"; then
            say "kafka exited during start-up; last lines of its logs:"
            tail -n 30 "$kdir/logs/kafka.out" "$kdir/logs/server.log" >&2 2>/dev/null || true
            rm -f "$kdir/kafka.pid"
            die "kafka did not start"
        fi
        if kafka_ready; then
            return 0
        fi
        sleep 0.5
    done
    tail -n 30 "$kdir/logs/server.log" >&2 2>/dev/null || true
    die "kafka (pid $pid) did not answer on $BOOTSTRAP within ${kafka_wait}s"
}

start_kafka() {
    local pid t0=$SECONDS
    pid=$(kafka_pid)
    if [[ -n "$pid" ]]; then
        kafka_wait_ready "$pid"
        say "kafka already running (pid $pid) on $BOOTSTRAP"
        return
    fi
    # Another tree's broker (or any Kafka) already answering on our port is used
    # as it is, with a warning: it may lack our settings (message.max.bytes).
    if port_taken $KAFKA_PORT && kafka_ready; then
        say "warning: using the kafka already on $BOOTSTRAP, not this tree's:" \
            "$(describe_pid "$(port_owner $KAFKA_PORT)")"
        return
    fi
    for port in $KAFKA_PORT $CONTROLLER_PORT; do
        if port_taken "$port"; then
            die "port $port is taken by $(describe_pid "$(port_owner "$port")"); stop it first"
        fi
    done
    command -v kcat >/dev/null || die "kcat not found: run scripts/setup.sh"
    java_check
    kafka_fetch
    kafka_configure
    say "starting kafka on $BOOTSTRAP (logs in $kdir/logs)"
    kafka_spawn "$kdir" 256m 512m
    pid=$(cat "$kdir/kafka.pid")
    kafka_wait_ready "$pid"
    say "kafka up (pid $pid) on $BOOTSTRAP after $((SECONDS - t0))s"
}

stop_pid() {
    local name=$1 pid=$2 wait=$3 deadline
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + wait))
    while alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if alive "$pid"; then
        say "$name (pid $pid) ignored SIGTERM for ${wait}s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do
            sleep 0.1
        done
    fi
}

stop_kafka() {
    local pid
    pid=$(kafka_pid)
    if [[ -z "$pid" ]]; then
        say "kafka: none of this tree's running"
        return
    fi
    say "stopping kafka (pid $pid)"
    stop_pid kafka "$pid" 60
    rm -f "$kdir/kafka.pid"
}

# "NAME PARTITIONS" of every existing topic.
list_topics() {
    timeout 20 kcat -L -b "$BOOTSTRAP" -m 10 2>/dev/null |
        sed -n 's/^  topic "\([^"]*\)" with \([0-9]*\) partitions:.*/\1 \2/p'
}

topic_partitions() {
    list_topics | awk -v t="$1" '$1 == t { print $2 }'
}

kafka_tool() {
    # The tools run from this tree's jars even when the broker is another tree's.
    java_check
    kafka_fetch
    "$java" -Xmx256m -cp "$(kafka_classpath)" \
        -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2-tools.properties" \
        org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" "$@"
}

create_topic() {
    local name=${1:-} parts=${2:-} have deadline
    [[ -n "$name" && "$parts" =~ ^[1-9][0-9]*$ ]] ||
        die "usage: services.sh create-topic NAME PARTITIONS [key=value ...]"
    shift 2
    kafka_ready || die "kafka is not running on $BOOTSTRAP (scripts/services.sh start)"
    have=$(topic_partitions "$name")
    if [[ -n "$have" ]]; then
        [[ "$have" == "$parts" ]] ||
            say "warning: topic $name exists with $have partitions (asked for $parts)"
        return
    fi
    local args=(--create --if-not-exists --topic "$name" --partitions "$parts"
        --replication-factor "$replication")
    for kv in "${topic_configs[@]}" "$@"; do
        args+=(--config "$kv")
    done
    local err
    err=$(kafka_tool "${args[@]}" 2>&1 >/dev/null) || {
        # A concurrent creator may have won the race; anything else is an error.
        [[ -n "$(topic_partitions "$name")" ]] || {
            echo "$err" >&2
            die "could not create topic $name"
        }
    }
    # The topic is usable once its metadata (all partitions) is visible; a
    # freshly started broker on a busy machine can take a while.
    deadline=$((SECONDS + ${GTP_KAFKA_WAIT:-90}))
    until [[ "$(topic_partitions "$name")" == "$parts" ]]; do
        ((SECONDS < deadline)) || die "topic $name did not appear in the metadata"
        sleep 0.2
    done
    say "created topic $name ($parts partitions)"
}

delete_topic() {
    local name=${1:-} deadline
    [[ -n "$name" ]] || die "usage: services.sh delete-topic NAME"
    kafka_ready || die "kafka is not running on $BOOTSTRAP (scripts/services.sh start)"
    [[ -n "$(topic_partitions "$name")" ]] || return 0
    kafka_tool --delete --if-exists --topic "$name" >/dev/null
    deadline=$((SECONDS + 30))
    while [[ -n "$(topic_partitions "$name")" ]]; do
        ((SECONDS < deadline)) || die "topic $name is still listed after deletion"
        sleep 0.2
    done
    say "deleted topic $name"
}

create_default_topics() {
    local t
    for t in "${TOPICS[@]}"; do
        create_topic "${t%%:*}" "${t##*:}"
    done
}

# ---- Redis ---------------------------------------------------------------------------------------

redis_is_ours() {
    alive "$1" && [[ "$(readlink "/proc/$1/cwd" 2>/dev/null)" == "$rdir/data" ]]
}

redis_pid() {
    local pid
    pid=$(cat "$rdir/redis.pid" 2>/dev/null || true)
    if redis_is_ours "$pid"; then
        echo "$pid"
        return
    fi
    pid=$(port_owner $REDIS_PORT)
    if redis_is_ours "$pid"; then
        echo "$pid"
    fi
}

redis_ready() {
    [[ "$(timeout 5 redis-cli -h 127.0.0.1 -p $REDIS_PORT ping 2>/dev/null)" == "PONG" ]]
}

redis_wait_ready() {
    local deadline=$((SECONDS + redis_wait))
    until redis_ready; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$rdir/redis.log" >&2 2>/dev/null || true
            die "redis did not answer on 127.0.0.1:$REDIS_PORT within ${redis_wait}s"
        fi
        sleep 0.1
    done
}

start_redis() {
    local pid
    pid=$(redis_pid)
    if [[ -n "$pid" ]]; then
        redis_wait_ready
        say "redis already running (pid $pid) on 127.0.0.1:$REDIS_PORT"
        return
    fi
    if port_taken $REDIS_PORT && redis_ready; then
        say "warning: using the redis already on 127.0.0.1:$REDIS_PORT, not this tree's:" \
            "$(describe_pid "$(port_owner $REDIS_PORT)")"
        return
    fi
    if port_taken $REDIS_PORT; then
        die "port $REDIS_PORT is taken by $(describe_pid "$(port_owner $REDIS_PORT)"); stop it first" \
            "(a system redis: systemctl stop redis-server / service redis-server stop)"
    fi
    command -v redis-server >/dev/null || die "redis-server not found: run scripts/setup.sh"
    mkdir -p "$rdir/data"
    rm -f "$rdir/redis.pid"
    # AOF with fsync every second: a stop/start (or a crash) keeps the data;
    # no RDB snapshots.
    cat >"$rdir/redis.conf" <<EOF
# Generated by scripts/services.sh; edits are overwritten.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $rdir/redis.pid
logfile $rdir/redis.log
dir $rdir/data
appendonly yes
appendfsync everysec
save ""
EOF
    # 8>&-: the daemon must not inherit (and hold) the services lock.
    redis-server "$rdir/redis.conf" 8>&- || die "redis-server failed to start (see $rdir/redis.log)"
    redis_wait_ready
    say "redis up (pid $(cat "$rdir/redis.pid" 2>/dev/null || echo '?')) on 127.0.0.1:$REDIS_PORT"
}

stop_redis() {
    local pid
    pid=$(redis_pid)
    if [[ -z "$pid" ]]; then
        say "redis: none of this tree's running"
        rm -f "$rdir/redis.pid"
        return
    fi
    say "stopping redis (pid $pid)"
    # SHUTDOWN flushes the AOF; the connection closing is its success reply.
    timeout 10 redis-cli -h 127.0.0.1 -p $REDIS_PORT shutdown >/dev/null 2>&1 || true
    stop_pid redis "$pid" 20
    rm -f "$rdir/redis.pid"
}

# ---- commands ------------------------------------------------------------------------------------

status() {
    local rc=0 pid
    pid=$(kafka_pid)
    if kafka_ready; then
        echo "kafka: up on $BOOTSTRAP (pid ${pid:-not ours})"
        list_topics | while read -r t p; do
            [[ "$t" == __* ]] || echo "  topic $t ($p partitions)"
        done
    else
        echo "kafka: down${pid:+ (pid $pid alive but not answering)}"
        rc=1
    fi
    pid=$(redis_pid)
    if redis_ready; then
        echo "redis: up on 127.0.0.1:$REDIS_PORT (pid ${pid:-not ours})"
    else
        echo "redis: down"
        rc=1
    fi
    return $rc
}

logs() {
    local which=${1:-all} follow=
    [[ "${2:-}" == "-f" || "${1:-}" == "-f" ]] && follow=1
    [[ "$which" == "-f" ]] && which=all
    local files=()
    [[ "$which" == all || "$which" == kafka ]] && files+=("$kdir/logs/server.log" "$kdir/logs/kafka.out")
    [[ "$which" == all || "$which" == redis ]] && files+=("$rdir/redis.log")
    if [[ -n "$follow" ]]; then
        exec tail -n 20 -F "${files[@]}"
    fi
    tail -n 40 "${files[@]}" 2>/dev/null || true
}

# --cluster (anywhere among the arguments) selects the cluster topology.
args=()
cluster=${GTP_CLUSTER:-}
for a in "$@"; do
    if [[ "$a" == --cluster ]]; then
        cluster=1
    else
        args+=("$a")
    fi
done
set -- "${args[@]}"
if [[ -n "$cluster" && "$cluster" != 0 ]]; then
    # shellcheck source=scripts/services_cluster.sh
    source "$root/scripts/services_cluster.sh"
    replication=3
    topic_configs=(min.insync.replicas=2)
    cluster_main "$@"
    exit
fi

cmd=${1:-}
shift || true
case "$cmd" in
start)
    lock
    start_redis
    start_kafka
    create_default_topics
    ;;
stop)
    lock
    stop_kafka
    stop_redis
    ;;
restart)
    lock
    stop_kafka
    stop_redis
    start_redis
    start_kafka
    create_default_topics
    ;;
status) status ;;
start-kafka)
    lock
    start_kafka
    ;;
stop-kafka)
    lock
    stop_kafka
    ;;
start-redis)
    lock
    start_redis
    ;;
stop-redis)
    lock
    stop_redis
    ;;
create-topic) create_topic "$@" ;;
delete-topic) delete_topic "$@" ;;
logs) logs "$@" ;;
reset)
    lock
    stop_kafka
    stop_redis
    rm -rf "$kdir/data" "$kdir/cluster.id" "$rdir/data"
    say "kafka and redis data wiped"
    ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 64
    ;;
esac
