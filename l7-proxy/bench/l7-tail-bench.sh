#!/usr/bin/env bash
# The latency tail of a whole `sluice node` beside HAProxy (nbthread 1) and nginx (1 worker), alternating round by
# round in a namespace of its own (lt<pid>, lo only, VIP 198.18.0.10, everything unpinned): wrk -t1 -c64 keep-alive GET
# through each proxy to one backend nginx answering 100 bytes. Per round: req/s, p50/p90/p99/p99.9/max (wrk's own
# histogram, through a Lua done() hook), CPU-µs per request of the proxy process (schedstat of all its threads), and
# for the nodes the bytes their event loops allocated per request (jcmd Thread.print -e), the safepoints (stop-the-world
# pauses: count, total, longest; from the node's -Xlog:safepoint) the round saw, and the node's RSS.
# Two nodes can be compared in the same run: NODE_A_OPTS and NODE_B_OPTS are JVM options for node A (port 80) and
# node B (port 83, only started when NODE_B_OPTS is set; "default" = none). Both run the same distribution unless
# SLUICE_DIST_B names another one for node B (e.g. before/after a change: SLUICE_DIST=<main's> SLUICE_DIST_B=<yours>).
# NICE=-10 runs every process of the bench (load, backend, all proxies alike) at that nice value, so that on a VM shared
# with other work the tail is less about who else got the CPU (it does not change how the subjects compare otherwise).
# Usage: l7-proxy/bench/l7-tail-bench.sh [profile] [warmup] [seconds] [rounds]
set -euo pipefail
PROFILE=${1:-shared}
WARMUP=${2:-30}
SECONDS_PER_ROUND=${3:-5}
ROUNDS=${4:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIST=${SLUICE_DIST:-$(ls -d "$ROOT"/control/target/sluice-*/sluice-*/ 2>/dev/null | head -1)}
[ -x "$DIST/bin/sluice" ] || { echo "no distribution under control/target: run ./sluice --help once to build it" >&2; exit 1; }
NS=lt$$
IN_NS=(nice -n "${NICE:-0}" ip netns exec "$NS")
VIP=198.18.0.10
WORK=$(mktemp -d /tmp/l7tailbench.XXXXXX)
PIDS=()
cleanup()
{
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for f in "$WORK"/backend.pid "$WORK"/proxy.pid "$WORK"/haproxy.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    sleep 1
    ip netns del "$NS" 2>/dev/null || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$VIP/32" dev lo
BODY=$(printf 'x%.0s' $(seq 100))
cat >"$WORK/backend.conf" <<CONF
worker_processes 1; daemon on; pid $WORK/backend.pid; error_log $WORK/backend.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen $VIP:8080; location / { return 200 "$BODY"; } } }
CONF
cat >"$WORK/proxy.conf" <<CONF
worker_processes 1; daemon on; pid $WORK/proxy.pid; error_log $WORK/proxy.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream app { server $VIP:8080; keepalive 64; }
  server { listen $VIP:81; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat >"$WORK/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn 4096
    pidfile $WORK/haproxy.pid
    daemon
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    maxconn 4096
frontend fe
    bind $VIP:82
    option http-keep-alive
    default_backend be
backend be
    balance roundrobin
    http-reuse always
    server s1 $VIP:8080
CONF
cat >"$WORK/pct.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("PCT %d %.0f %.0f %.0f %.0f %.0f %.0f\n", summary.requests,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, summary.duration))
end
LUA
node_yaml() # name port
{
    cat <<CONF
apiVersion: sluice/v1
node: {name: $1, stateDir: $WORK/state-$1, drainTimeoutSeconds: 1, accessLog: false, api: {listen: "127.0.0.1:$((9900 + $2))"}}
loadBalancers:
  - name: bench
    vip: $VIP
    listeners:
      - {protocol: http, port: $2, serverGroup: app, scheduler: rr, xForwardedFor: false, healthCheck: {enabled: false}}
    serverGroups:
      - {name: app, servers: [{address: $VIP, port: 8080}]}
CONF
}
start_node() # name port opts dist
{
    local opts=$3
    [ "$opts" = default ] && opts=
    node_yaml "$1" "$2" >"$WORK/$1.yaml"
    SLUICE_JAVA_OPTS="$opts -Xlog:gc,safepoint:file=$WORK/$1.gc:timemillis" "${IN_NS[@]}" "$4/bin/sluice" node \
        --config "$WORK/$1.yaml" --profile "$PROFILE" >"$WORK/$1.log" 2>&1 &
    for _ in $(seq 150); do grep -q " ready: " "$WORK/$1.log" 2>/dev/null && break; sleep 1; done
    local pid
    pid=$(grep -o " pid [0-9]*" "$WORK/$1.log" | head -1 | awk '{print $2}')
    [ -n "$pid" ] || { echo "node $1 did not start:"; tail -20 "$WORK/$1.log"; exit 1; }
    echo "$pid"
}
"${IN_NS[@]}" nginx -c "$WORK/backend.conf" -p "$WORK"
"${IN_NS[@]}" nginx -c "$WORK/proxy.conf" -p "$WORK"
"${IN_NS[@]}" haproxy -f "$WORK/haproxy.cfg"
# (start_node runs in a subshell: the cleanup's list of pids is filled here)
NODE_A=$(start_node a 80 "${NODE_A_OPTS:-default}" "$DIST")
PIDS+=("$NODE_A")
NODE_B=
if [ -n "${NODE_B_OPTS:-}" ]; then
    NODE_B=$(start_node b 83 "$NODE_B_OPTS" "${SLUICE_DIST_B:-$DIST}")
    PIDS+=("$NODE_B")
fi
sleep 1
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/proxy.pid")" | head -1)
HAPROXY=$(cat "$WORK/haproxy.pid")
cpu_ns() { local s=0; for t in /proc/"$1"/task/*; do s=$((s + $(cut -d' ' -f1 "$t/schedstat"))); done; echo "$s"; }
# stop-the-world time between two times (s): every safepoint the node's -Xlog:safepoint logged (GC pauses of any
# collector, and any other VM operation), counted from reaching it to leaving it
pauses() # log from-s to-s
{
    awk -v a="$2" -v b="$3" '/Safepoint "/ {
            t = $1; gsub(/[^0-9]/, "", t); t = t / 1e3; if (t < a || t > b) next
            for (i = 1; i <= NF; i++) if ($i == "Total:") ms = $(i + 1) / 1e6
            n++; sum += ms; if (ms > max) max = ms }
        END { printf "stw %d %.1f ms max %.2f ms", n, sum, max }' "$1"
}
now_s() { date +%s.%N; }
JCMD=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd
# bytes the node's event-loop threads allocated so far (jcmd Thread.print -e: "allocated=1059M" per thread)
loop_alloc()
{
    "$JCMD" "$1" Thread.print -e 2>/dev/null | awk '/^"sluice-l7-/ { for (i = 1; i <= NF; i++) if ($i ~ /^allocated=/) {
            v = substr($i, 11); m = 1; if (v ~ /K$/) m = 1024; else if (v ~ /M$/) m = 1048576; else if (v ~ /G$/) m = 1073741824
            gsub(/[KMGB]/, "", v); s += v * m } } END { printf "%.0f", s }'
}
run() # name pid port [gc-log]
{
    local c0 c1 t0 t1 out a0=0 a1=0
    [ -n "${4:-}" ] && a0=$(loop_alloc "$2")
    c0=$(cpu_ns "$2"); t0=$(now_s)
    out=$("${IN_NS[@]}" wrk -t1 -c64 -d"${SECONDS_PER_ROUND}s" -s "$WORK/pct.lua" "http://$VIP:$3/")
    c1=$(cpu_ns "$2"); t1=$(now_s)
    [ -n "${4:-}" ] && a1=$(loop_alloc "$2")
    local gc=""
    [ -n "${4:-}" ] && gc="alloc $(awk -v d="$((a1 - a0))" -v n="$(awk '$1 == "PCT" {print $2}' <<<"$out")" \
        'BEGIN {printf "%.0f", d / n}') B/req  $(pauses "$4" "$t0" "$t1")  rss $(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$2/status") MB"
    awk -v name="$1" -v c="$((c1 - c0))" -v s="$SECONDS_PER_ROUND" -v gc="$gc" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
        $1 == "PCT" { n = $2; printf "%-10s %6.0f req/s  p50 %5.2f p90 %5.2f p99 %5.2f p99.9 %6.2f max %6.1f ms  %5.1f CPU-us/req  %s  load %s\n",
            name, n / ($8 / 1e6), $3 / 1e3, $4 / 1e3, $5 / 1e3, $6 / 1e3, $7 / 1e3, c / 1e3 / n, gc, load }' <<<"$out"
}
echo "node A: ${NODE_A_OPTS:-default} ($DIST)${NODE_B:+; node B: $NODE_B_OPTS (${SLUICE_DIST_B:-$DIST})}; profile $PROFILE; $(date -u +%H:%M:%S) UTC"
"${IN_NS[@]}" wrk -t1 -c64 -d"${WARMUP}s" "http://$VIP:80/" >/dev/null
[ -n "$NODE_B" ] && "${IN_NS[@]}" wrk -t1 -c64 -d"${WARMUP}s" "http://$VIP:83/" >/dev/null
"${IN_NS[@]}" wrk -t1 -c64 -d2s "http://$VIP:82/" >/dev/null
for _ in $(seq "$ROUNDS"); do
    run haproxy "$HAPROXY" 82
    run sluice-A "$NODE_A" 80 "$WORK/a.gc"
    run nginx "$NGINX_WORKER" 81
    [ -n "$NODE_B" ] && run sluice-B "$NODE_B" 83 "$WORK/b.gc"
done
# JFR_DUMP=FILE: dump node A's flight recording (start it with NODE_A_OPTS=-XX:StartFlightRecording...) before it stops
[ -n "${JFR_DUMP:-}" ] && "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd" "$NODE_A" JFR.dump filename="$JFR_DUMP" >/dev/null
true
