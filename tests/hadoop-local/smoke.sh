#!/usr/bin/env bash
# Smoke test of the jar-only Hadoop distribution on this machine's Java 17:
# NameNode, DataNode, ResourceManager and NodeManager started as plain
# `java ... -cp CLASSPATH MainClass` processes (no Hadoop shell scripts), all on
# loopback, with YARN's GPU plugin reading a fixture nvidia-smi (4 fake GPUs).
#
#   tests/hadoop-local/smoke.sh [TARBALL]
#
# TARBALL defaults to the output of tools/hadoop/build-dist.sh (built if needed).
# Env: JAVA_HOME (default: the JDK of `java` on PATH), SMOKE_USER (when run as
# root: the user the daemons run as, created as a system user if missing;
# default "hadoop"; "root" keeps root), SMOKE_KEEP=1 keeps the work dir,
# SMOKE_MR=1 also runs a MapReduce pi job.
# Ports (loopback only): 9000 NN RPC, 50070 NN HTTP, 9866/9864/9867 DN,
# 8030-8033 + 8088 RM, 8040/8042/45454 NM, 13562 shuffle (SMOKE_MR=1 only).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TGZ="${1:-}"
if [[ -z "$TGZ" ]]; then
  TGZ="$("$REPO/tools/hadoop/build-dist.sh" | tail -1)"
fi
[[ -f "$TGZ" ]] || { echo "no tarball: $TGZ" >&2; exit 1; }

: "${JAVA_HOME:=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"

log() { printf '[smoke] %s\n' "$*" >&2; }
fail() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }
PASSED=0
FAILED=0
check() {  # check NAME COMMAND... : records a pass/fail line
  local name="$1"; shift
  if "$@"; then PASSED=$((PASSED + 1)); log "ok   $name"
  else FAILED=$((FAILED + 1)); log "FAIL $name"; fi
}

# ---- ports must be free ------------------------------------------------------
for p in 9000 50070 9866 9864 9867 8030 8031 8032 8033 8088 8040 8042 45454; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    fail "port 127.0.0.1:$p is already in use"
  fi
done

# ---- user --------------------------------------------------------------------
RUN_AS=()
HUSER="$(id -un)"
if [[ "$(id -u)" == 0 && "${SMOKE_USER:-hadoop}" != root ]]; then
  HUSER="${SMOKE_USER:-hadoop}"
  if ! id "$HUSER" >/dev/null 2>&1; then
    log "creating system user $HUSER"
    useradd --system --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin "$HUSER"
  fi
  RUN_AS=(runuser -u "$HUSER" --)
fi

# ---- layout --------------------------------------------------------------------
BASE="$(mktemp -d /tmp/hadoop-smoke.XXXXXX)"
chmod 0755 "$BASE"
log "work dir $BASE (user $HUSER, java $("$JAVA" -version 2>&1 | head -1))"
tar -C "$BASE" -xzf "$TGZ"
HH="$(echo "$BASE"/hadoop-*)"
CONF="$BASE/conf"
LOGS="$BASE/logs"
GPUBIN="$BASE/gpu-bin"
mkdir -p "$CONF" "$LOGS" "$GPUBIN" "$BASE/data" "$BASE/tmp"
install -m 0755 "$HERE/fake-gpu/nvidia-smi" "$GPUBIN/nvidia-smi"
cp "$HH/etc/hadoop/log4j.properties" "$CONF/"

prop() { printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }
xml() {  # xml FILE then name/value pairs
  local f="$1"; shift
  { echo '<?xml version="1.0"?>'; echo '<configuration>'
    while [[ $# -gt 0 ]]; do prop "$1" "$2"; shift 2; done
    echo '</configuration>'; } > "$CONF/$f"
}

xml core-site.xml \
  fs.defaultFS hdfs://127.0.0.1:9000 \
  hadoop.tmp.dir "$BASE/tmp"

xml hdfs-site.xml \
  dfs.replication 1 \
  dfs.namenode.name.dir "file://$BASE/data/nn" \
  dfs.datanode.data.dir "file://$BASE/data/dn" \
  dfs.namenode.rpc-address 127.0.0.1:9000 \
  dfs.namenode.http-address 127.0.0.1:50070 \
  dfs.namenode.secondary.http-address 127.0.0.1:9868 \
  dfs.datanode.address 127.0.0.1:9866 \
  dfs.datanode.http.address 127.0.0.1:9864 \
  dfs.datanode.ipc.address 127.0.0.1:9867 \
  dfs.permissions.superusergroup "$HUSER"

# The MapReduce shuffle aux-service listens on 0.0.0.0:13562 (no bind-host
# setting), so it is configured only when the MapReduce check runs.
SHUFFLE=()
if [[ "${SMOKE_MR:-0}" == 1 ]]; then
  SHUFFLE=(yarn.nodemanager.aux-services mapreduce_shuffle
           yarn.nodemanager.aux-services.mapreduce_shuffle.class org.apache.hadoop.mapred.ShuffleHandler
           mapreduce.shuffle.port 13562)
fi
xml yarn-site.xml \
  yarn.resourcemanager.hostname 127.0.0.1 \
  yarn.resourcemanager.bind-host 127.0.0.1 \
  yarn.resourcemanager.webapp.address 127.0.0.1:8088 \
  yarn.nodemanager.hostname 127.0.0.1 \
  yarn.nodemanager.bind-host 127.0.0.1 \
  yarn.nodemanager.address 127.0.0.1:45454 \
  yarn.nodemanager.localizer.address 127.0.0.1:8040 \
  yarn.nodemanager.webapp.address 127.0.0.1:8042 \
  yarn.nodemanager.local-dirs "$BASE/data/nm-local" \
  yarn.nodemanager.log-dirs "$LOGS/userlogs" \
  yarn.nodemanager.resource.memory-mb 4096 \
  yarn.nodemanager.resource.cpu-vcores 4 \
  yarn.nodemanager.resource-plugins yarn.io/gpu \
  yarn.nodemanager.resource-plugins.gpu.path-to-discovery-executables "$GPUBIN/nvidia-smi" \
  yarn.nodemanager.resource-plugins.gpu.allowed-gpu-devices auto \
  yarn.nodemanager.vmem-check-enabled false \
  yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage 99.0 \
  yarn.nodemanager.env-whitelist JAVA_HOME,HADOOP_COMMON_HOME,HADOOP_HDFS_HOME,HADOOP_CONF_DIR,CLASSPATH_PREPEND_DISTCACHE,HADOOP_YARN_HOME,HADOOP_HOME,HADOOP_MAPRED_HOME,PATH,LANG,TZ \
  yarn.scheduler.minimum-allocation-mb 256 \
  yarn.scheduler.maximum-allocation-mb 4096 \
  yarn.scheduler.maximum-allocation-vcores 4 \
  yarn.log-aggregation-enable false \
  "${SHUFFLE[@]}"

cat > "$CONF/resource-types.xml" <<'EOF'
<?xml version="1.0"?>
<configuration>
  <property><name>yarn.resource-types</name><value>yarn.io/gpu</value></property>
</configuration>
EOF

xml capacity-scheduler.xml \
  yarn.scheduler.capacity.resource-calculator org.apache.hadoop.yarn.util.resource.DominantResourceCalculator \
  yarn.scheduler.capacity.maximum-am-resource-percent 0.5 \
  yarn.scheduler.capacity.root.queues default \
  yarn.scheduler.capacity.root.default.capacity 100 \
  yarn.scheduler.capacity.root.default.maximum-capacity 100 \
  yarn.scheduler.capacity.root.default.state RUNNING

xml mapred-site.xml \
  mapreduce.framework.name yarn \
  mapreduce.jobhistory.address 127.0.0.1:10020 \
  mapreduce.jobhistory.webapp.address 127.0.0.1:19888 \
  yarn.app.mapreduce.am.resource.mb 512 \
  mapreduce.map.memory.mb 512 \
  mapreduce.reduce.memory.mb 512 \
  yarn.app.mapreduce.am.env "HADOOP_MAPRED_HOME=$HH" \
  mapreduce.map.env "HADOOP_MAPRED_HOME=$HH" \
  mapreduce.reduce.env "HADOOP_MAPRED_HOME=$HH"

if [[ ${#RUN_AS[@]} -gt 0 ]]; then chown -R "$HUSER:" "$BASE"; fi

# ---- JVM command line ------------------------------------------------------------
S="$HH/share/hadoop"
# Order of hadoop-functions.sh; share/hadoop/hdfs (a directory) carries webapps/.
CP="$CONF:$S/common/lib/*:$S/common/*:$S/hdfs:$S/hdfs/lib/*:$S/hdfs/*:$S/mapreduce/*:$S/yarn:$S/yarn/lib/*:$S/yarn/*"
# The RM and NM also need the timeline service jars (bin/yarn adds them for
# both): without them the RM dies building its web app with
# NoClassDefFoundError: .../timelineservice/collector/TimelineCollectorManager.
CP_YARN_DAEMON="$CP:$S/yarn/timelineservice/*:$S/yarn/timelineservice/lib/*"
JAVA17_OPTS=(-XX:+IgnoreUnrecognizedVMOptions)
# SMOKE_JAVA17_OPENS=0 drops the --add-opens list (to see what breaks without it).
[[ "${SMOKE_JAVA17_OPENS:-1}" == 0 ]] || for pkg in java.io java.lang java.lang.reflect java.math java.net java.text java.util \
           java.util.concurrent java.util.zip sun.security.util sun.security.x509; do
  JAVA17_OPTS+=("--add-opens=java.base/$pkg=ALL-UNNAMED")
done
export HADOOP_HOME="$HH" HADOOP_COMMON_HOME="$HH" HADOOP_HDFS_HOME="$HH" \
       HADOOP_YARN_HOME="$HH" HADOOP_MAPRED_HOME="$HH" HADOOP_CONF_DIR="$CONF" \
       MALLOC_ARENA_MAX=4 PATH="$GPUBIN:$PATH"
jvm_opts() {  # jvm_opts NAME LOGGER
  echo -Xmx512m "${JAVA17_OPTS[@]}" -Djava.net.preferIPv4Stack=true \
    -Dhadoop.log.dir="$LOGS" -Dhadoop.log.file="$1.log" -Dhadoop.home.dir="$HH" \
    -Dhadoop.id.str="$HUSER" -Dhadoop.root.logger="$2" \
    -Dhadoop.policy.file=hadoop-policy.xml -Dhadoop.security.logger=INFO,NullAppender \
    -Dyarn.log.dir="$LOGS" -Dyarn.log.file="$1.log" -Dyarn.home.dir="$HH" \
    -Dyarn.root.logger="$2"
}
# shellcheck disable=SC2046
run_java() {  # run_java NAME MAINCLASS ARGS... (foreground, console logger)
  local name="$1"; shift
  "${RUN_AS[@]}" "$JAVA" $(jvm_opts "$name" WARN,console) -cp "$CP" "$@"
}
PIDS=()
NAMES=()
# shellcheck disable=SC2046
start_daemon() {  # start_daemon NAME MAINCLASS [CLASSPATH]
  local cmd=("$JAVA" $(jvm_opts "$1" INFO,RFA) -cp "${3:-$CP}" "$2")
  printf '%q ' "${cmd[@]}" > "$LOGS/$1.cmdline"
  "${RUN_AS[@]}" "${cmd[@]}" >"$LOGS/$1.out" 2>&1 &
  PIDS+=($!); NAMES+=("$1")
  log "started $1 (pid $!)"
}
stop_all() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[$i]}" 2>/dev/null && log "stopping ${NAMES[$i]} (pid ${PIDS[$i]})" || true
  done
  for i in "${!PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 1; done
    kill -9 "${PIDS[$i]}" 2>/dev/null || true
  done
  PIDS=()
}
MAIN_PID=$BASHPID
finish() {
  local rc=$?
  [[ $BASHPID == "$MAIN_PID" ]] || return 0
  stop_all
  if [[ $rc -ne 0 || $FAILED -ne 0 ]]; then
    log "logs kept in $LOGS"; tail -n 30 "$LOGS"/*.log 2>/dev/null | grep -E 'ERROR|FATAL|Exception|==>' | tail -40 >&2 || true
  elif [[ "${SMOKE_KEEP:-0}" != 1 ]]; then
    rm -rf "$BASE"
  else
    log "work dir kept: $BASE"
  fi
}
trap finish EXIT

http() { curl -sS --max-time 10 -H 'Accept: application/json' "$@"; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local t="$1" what="$2"; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[$i]}" 2>/dev/null || { tail -n 40 "$LOGS/${NAMES[$i]}.out" "$LOGS/${NAMES[$i]}.log" >&2 || true; fail "${NAMES[$i]} died while waiting for $what"; }
    done
    [[ $SECONDS -lt $end ]] || fail "timed out after ${t}s waiting for $what"
    sleep 2
  done
  log "ready: $what"
}

# ---- HDFS ------------------------------------------------------------------------
if [[ ! -f "$BASE/data/nn/current/VERSION" ]]; then
  log "formatting the NameNode"
  run_java namenode-format org.apache.hadoop.hdfs.server.namenode.NameNode \
    -format -nonInteractive -clusterid smoke >"$LOGS/namenode-format.out" 2>&1 \
    || { tail -20 "$LOGS/namenode-format.out" >&2; fail "NameNode format"; }
fi
start_daemon namenode org.apache.hadoop.hdfs.server.namenode.NameNode
start_daemon datanode org.apache.hadoop.hdfs.server.datanode.DataNode
JMX="http://127.0.0.1:50070/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"
live_dn() { [[ "$(http "$JMX" | jq -r '.beans[0].NumLiveDataNodes')" == 1 ]]; }
wait_for 120 "NameNode JMX NumLiveDataNodes == 1" live_dn
check "NameNode JMX NumLiveDataNodes == 1" live_dn
check "NameNode web UI /dfshealth.html" \
  bash -c '[[ $(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:50070/dfshealth.html) == 200 ]]'
check "DataNode web UI /datanode.html" \
  bash -c '[[ $(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:9864/datanode.html) == 200 ]]'
safemode_off() { run_java dfsadmin org.apache.hadoop.hdfs.tools.DFSAdmin -safemode get 2>/dev/null | grep -q 'OFF'; }
wait_for 60 "HDFS out of safemode" safemode_off

echo "hello from the openpai smoke test $$" > "$BASE/tmp/hello.txt"
chmod 0644 "$BASE/tmp/hello.txt"
roundtrip() {
  run_java fsshell org.apache.hadoop.fs.FsShell -mkdir -p /smoke &&
  run_java fsshell org.apache.hadoop.fs.FsShell -put -f "$BASE/tmp/hello.txt" /smoke/hello.txt &&
  [[ "$(run_java fsshell org.apache.hadoop.fs.FsShell -cat /smoke/hello.txt)" == "$(cat "$BASE/tmp/hello.txt")" ]]
}
check "hdfs dfs -put / -cat round trip" roundtrip

# ---- YARN ------------------------------------------------------------------------
start_daemon resourcemanager org.apache.hadoop.yarn.server.resourcemanager.ResourceManager "$CP_YARN_DAEMON"
start_daemon nodemanager org.apache.hadoop.yarn.server.nodemanager.NodeManager "$CP_YARN_DAEMON"
NODES=http://127.0.0.1:8088/ws/v1/cluster/nodes
node_running() { [[ "$(http "$NODES" | jq -r '.nodes.node[0].state')" == RUNNING ]]; }
wait_for 120 "NodeManager RUNNING in /ws/v1/cluster/nodes" node_running
http "$NODES" > "$LOGS/nodes.json"
log "node: $(jq -c '.nodes.node[0] | {state, id, totalResource: {memory: .totalResource.memory, vCores: .totalResource.vCores, gpu: [.totalResource.resourceInformations.resourceInformation[] | select(.name == "yarn.io/gpu") | .value][0]}}' "$LOGS/nodes.json")"
check "RM nodes: one node RUNNING" jq -e '.nodes.node | length == 1 and .[0].state == "RUNNING"' "$LOGS/nodes.json"
check "RM nodes: totalResource memory 4096" jq -e '.nodes.node[0].totalResource.memory == 4096' "$LOGS/nodes.json"
check "RM nodes: totalResource vCores 4" jq -e '.nodes.node[0].totalResource.vCores == 4' "$LOGS/nodes.json"
check "RM nodes: yarn.io/gpu 4" jq -e '[.nodes.node[0].totalResource.resourceInformations.resourceInformation[] | select(.name == "yarn.io/gpu") | .value][0] == 4' "$LOGS/nodes.json"
http http://127.0.0.1:8088/ws/v1/cluster/scheduler > "$LOGS/scheduler.json"
check "RM scheduler: capacityScheduler with queue default at 100" \
  jq -e '.scheduler.schedulerInfo.type == "capacityScheduler" and ([.scheduler.schedulerInfo.queues.queue[] | select(.queueName == "default" and .capacity == 100)] | length == 1)' "$LOGS/scheduler.json"
check "RM web UI /cluster" \
  bash -c '[[ $(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8088/cluster) == 200 ]]'
check "NM web UI /node" \
  bash -c '[[ $(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8042/node) == 200 ]]'

DSJAR="$(echo "$S"/yarn/hadoop-yarn-applications-distributedshell-*.jar)"
# Absolute path: DefaultContainerExecutor starts containers without the NM's
# environment, so bash's built-in default PATH wins over the whitelisted PATH
# (launch_container.sh has `export PATH=${PATH:-<NM PATH>}`, PATH already set).
log "running DistributedShell (yarn.io/gpu=1, $GPUBIN/nvidia-smi -L)"
ds() {
  run_java ds-client org.apache.hadoop.yarn.applications.distributedshell.Client \
    -jar "$DSJAR" -shell_command "$GPUBIN/nvidia-smi -L" -num_containers 1 \
    -master_memory 512 -container_resources memory-mb=512,vcores=1,yarn.io/gpu=1 \
    -timeout 300000 >"$LOGS/ds-client.out" 2>&1
}
check "DistributedShell client reports success" ds
http http://127.0.0.1:8088/ws/v1/cluster/apps > "$LOGS/apps.json"
check "RM apps: DistributedShell app FINISHED/SUCCEEDED" \
  jq -e '[.apps.app[] | select(.applicationType == "YARN" and .finalStatus == "SUCCEEDED" and .state == "FINISHED")] | length >= 1' "$LOGS/apps.json"
check "container stdout shows the 4 fake GPUs" \
  bash -c "cat '$LOGS'/userlogs/application_*/container_*/stdout 2>/dev/null | grep -c '^GPU [0-9]:' | grep -qx 4"

if [[ "${SMOKE_MR:-0}" == 1 ]]; then
  EXJAR="$(echo "$S"/mapreduce/hadoop-mapreduce-examples-*.jar)"
  check "MapReduce pi (2 maps)" run_java mr-pi org.apache.hadoop.util.RunJar "$EXJAR" pi 2 10
fi

log "$PASSED passed, $FAILED failed"
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
