#!/usr/bin/env bash
# The latency tail of a whole `sluice node` beside HAProxy (nbthread 1) and nginx (1 worker), alternating round by
# round in a namespace of its own (lt<pid>, lo only, VIP 198.18.0.10, everything unpinned): wrk -t1 -c64 (CONNS) keep-alive
# GET through each proxy to one backend nginx answering 100 bytes. Per round: req/s, p50/p90/p99/p99.9/max (wrk's own
# histogram, through a Lua done() hook), CPU-µs per request of the proxy process (schedstat of all its threads), and
# for the nodes the bytes their event loops allocated per request (jcmd Thread.print -e), the safepoints (stop-the-world
# pauses: count, total, longest; from the node's -Xlog:safepoint) the round saw, and the node's RSS.
# Two nodes can be compared in the same run: NODE_A_OPTS and NODE_B_OPTS are JVM options for node A (port 80) and
# node B (port 83, only started when NODE_B_OPTS is set; "default" = none). Both run the same distribution unless
# SLUICE_DIST_B names another one for node B (e.g. before/after a change: SLUICE_DIST=<main's> SLUICE_DIST_B=<yours>).
# NICE=-10 runs every process of the bench (load, backend, all proxies alike) at that nice value, so that on a VM shared
# with other work the tail is less about who else got the CPU (it does not change how the subjects compare otherwise).
# "runq" is the share of the round's wall time the proxy's serving threads (HAProxy's, the nodes' event loops) spent
# runnable but waiting for a CPU (schedstat), i.e. how long the other work on the machine held them up, then how many
# times they got a CPU in the round and the mean wait per time (the same wait in fewer, longer pieces stalls more).
# CONNS=N runs wrk with N connections instead of 64 (every subject alike); SKIP_NGINX=1 leaves the nginx proxy out of the
# rounds (more rounds of the others in the same time; not NGINX=, which nginx itself reads as inherited sockets).
# For the io_uring submission batching of the nodes (perf tracepoints, per node round): URING_STAT=1 prints
# io_uring_enter calls per request, SQEs per io_uring_enter and CQEs per request; URING_HIST=1 prints the percentiles of
# SQEs handed to each io_uring_enter that submitted any (its to_submit argument), i.e. how many operations a loop
# iteration queued before the kernel saw the first of them. Netty's ring size (-Dio.netty.iouring.ringSize=N, 16..)
# caps that batch: a full submission queue is submitted at once.
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
    # NODE_B_SLICE_NS: ask the scheduler (EEVDF, sched_setattr's sched_runtime, Linux 6.12+) for this time slice for node
    # B's event-loop threads instead of the default (se.slice in /proc/PID/sched, 1.4 ms here); nice stays as it was
    if [ -n "${NODE_B_SLICE_NS:-}" ]; then
        python3 - "$NODE_B" sluice-l7 "$NODE_B_SLICE_NS" <<'PY'
import ctypes, os, struct, sys
pid, prefix, slice_ns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
for tid in os.listdir(f"/proc/{pid}/task"):
    name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
    if name.startswith(prefix):
        nice = os.getpriority(os.PRIO_PROCESS, int(tid))
        # struct sched_attr (SCHED_ATTR_SIZE_VER0): size, policy SCHED_OTHER, flags, nice, priority, runtime, deadline, period
        attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQ", 48, 0, 0, nice, 0, slice_ns, 0, 0), 48)
        ok = libc.syscall(314, int(tid), attr, 0) == 0  # SYS_sched_setattr on x86_64
        print(f"node B thread {name}: slice {slice_ns} ns {'set' if ok else os.strerror(ctypes.get_errno())}")
PY
    fi
fi
sleep 1
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/proxy.pid")" | head -1)
HAPROXY=$(cat "$WORK/haproxy.pid")
cpu_ns() { local s=0; for t in /proc/"$1"/task/*; do s=$((s + $(cut -d' ' -f1 "$t/schedstat"))); done; echo "$s"; }
# time runnable but waiting for a CPU (schedstat's second field, ns) of the process's threads named PREFIX* (all: ""), and
# how many times they were put on a CPU (its third field)
wait_ns() # pid prefix
{
    local s=0 n=0 t w c
    for t in /proc/"$1"/task/*; do
        case "$(cat "$t/comm" 2>/dev/null)" in "$2"*)
            read -r _ w c <"$t/schedstat" || continue
            s=$((s + w)); n=$((n + c)) ;;
        esac
    done
    echo "$s $n"
}
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
    local c0 c1 w0 w1 t0 t1 out a0=0 a1=0
    [ -n "${4:-}" ] && a0=$(loop_alloc "$2")
    local perfpid=
    if [ -n "${URING_STAT:-}" ] && [ -n "${4:-}" ]; then
        perf stat -x, -e syscalls:sys_enter_io_uring_enter,io_uring:io_uring_submit_req,io_uring:io_uring_complete \
            -p "$2" -o "$WORK/uring.stat" 2>/dev/null &
        perfpid=$!
    elif [ -n "${URING_HIST:-}" ] && [ -n "${4:-}" ]; then
        perf record -q -e syscalls:sys_enter_io_uring_enter -p "$2" -o "$WORK/uring.data" >/dev/null 2>&1 &
        perfpid=$!
    fi
    local prefix=""; [ -n "${4:-}" ] && prefix=sluice-l7
    c0=$(cpu_ns "$2"); w0=$(wait_ns "$2" "$prefix"); t0=$(now_s)
    out=$("${IN_NS[@]}" wrk -t1 -c"${CONNS:-64}" -d"${SECONDS_PER_ROUND}s" -s "$WORK/pct.lua" "http://$VIP:$3/")
    c1=$(cpu_ns "$2"); w1=$(wait_ns "$2" "$prefix"); t1=$(now_s)
    [ -n "${4:-}" ] && a1=$(loop_alloc "$2")
    local uring=""
    if [ -n "$perfpid" ]; then
        kill -INT "$perfpid"; wait "$perfpid" 2>/dev/null || true
        [ -n "${URING_STAT:-}" ] && uring=$(awk -F, -v n="$(awk '$1 == "PCT" {print $2}' <<<"$out")" '$3 ~ /io_uring_enter/ {e = $1} $3 ~ /submit_req/ {s = $1}
            $3 ~ /io_uring_complete/ {c = $1} END {printf "  enter/req %.2f SQE/enter %.1f CQE/req %.1f", e / n, s / e, c / n}' \
            "$WORK/uring.stat")
        # URING_HIST: SQEs handed to each io_uring_enter that submitted any (to_submit), as percentiles
        [ -n "${URING_HIST:-}" ] && uring=$(perf script -i "$WORK/uring.data" -F trace 2>/dev/null | python3 -c '
import re, sys
v = sorted(n for n in (int(m.group(1), 16) for m in re.finditer(r"to_submit: 0x([0-9a-f]+)", sys.stdin.read())) if n > 0)
if v:
    print("  SQE per submitting enter: n %d p50 %d p90 %d p99 %d max %d" % (len(v), v[len(v) // 2], v[int(len(v) * .9)],
        v[int(len(v) * .99)], v[-1]))')
    fi
    local gc=""
    [ -n "${4:-}" ] && gc="alloc $(awk -v d="$((a1 - a0))" -v n="$(awk '$1 == "PCT" {print $2}' <<<"$out")" \
        'BEGIN {printf "%.0f", d / n}') B/req  $(pauses "$4" "$t0" "$t1")  rss $(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$2/status") MB$uring"
    local wd=$(( ${w1% *} - ${w0% *} )) wn=$(( ${w1#* } - ${w0#* } ))
    awk -v name="$1" -v c="$((c1 - c0))" -v w="$wd" -v wn="$wn" -v s="$SECONDS_PER_ROUND" -v gc="$gc" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
        $1 == "PCT" { n = $2; printf "%-10s %6.0f req/s  p50 %5.2f p90 %5.2f p99 %5.2f p99.9 %6.2f max %6.1f ms  %5.1f CPU-us/req  runq %4.1f%% %6d x %4.0f us  %s  load %s\n",
            name, n / ($8 / 1e6), $3 / 1e3, $4 / 1e3, $5 / 1e3, $6 / 1e3, $7 / 1e3, c / 1e3 / n, w / 1e7 / s, wn,
            wn ? w / 1e3 / wn : 0, gc, load }' <<<"$out"
}
echo "node A: ${NODE_A_OPTS:-default} ($DIST)${NODE_B:+; node B: $NODE_B_OPTS (${SLUICE_DIST_B:-$DIST})}; profile $PROFILE; wrk -c${CONNS:-64}; $(date -u +%H:%M:%S) UTC"
"${IN_NS[@]}" wrk -t1 -c"${CONNS:-64}" -d"${WARMUP}s" "http://$VIP:80/" >/dev/null
[ -n "$NODE_B" ] && "${IN_NS[@]}" wrk -t1 -c"${CONNS:-64}" -d"${WARMUP}s" "http://$VIP:83/" >/dev/null
"${IN_NS[@]}" wrk -t1 -c"${CONNS:-64}" -d2s "http://$VIP:82/" >/dev/null
for _ in $(seq "$ROUNDS"); do
    run haproxy "$HAPROXY" 82
    run sluice-A "$NODE_A" 80 "$WORK/a.gc"
    [ -n "${SKIP_NGINX:-}" ] || run nginx "$NGINX_WORKER" 81
    [ -n "$NODE_B" ] && run sluice-B "$NODE_B" 83 "$WORK/b.gc"
done
# JFR_DUMP=FILE: dump node A's flight recording (start it with NODE_A_OPTS=-XX:StartFlightRecording...) before it stops
[ -n "${JFR_DUMP:-}" ] && "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd" "$NODE_A" JFR.dump filename="$JFR_DUMP" >/dev/null
true
