#!/usr/bin/env bash
# Requests per CPU-second of a whole `sluice node` (not just the proxy's event loop) beside nginx (1 worker), per thread:
# where a node's CPU goes per request (event loops, C1/C2 compiler, access-log writer, conductor, GC). Everything runs
# unpinned in a namespace of its own (lp<pid>, lo only, VIP 198.18.0.10): a backend nginx on :8080, nginx proxying :81,
# the node's http listener on :80 (as the harness configures it: rr, no X-Forwarded-For, no health checks).
# After a warm-up of WARMUP seconds under load the node is measured ROUNDS times for SECONDS each (wrk -t1 -c64).
# The node runs with node.accessLog false (as the harness and the nginx here: access_log off) unless ACCESSLOG is true.
# Needs the distribution (./sluice builds it; SLUICE_DIST=DIR runs another one, e.g. an older build, to compare).
# Usage: l7-proxy/bench/l7-node-bench.sh [profile] [warmup] [seconds] [rounds] [accesslog: true|false]
set -euo pipefail
PROFILE=${1:-shared}
WARMUP=${2:-40}
SECONDS_PER_ROUND=${3:-5}
ROUNDS=${4:-3}
ACCESSLOG=${5:-false}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIST=${SLUICE_DIST:-$(ls -d "$ROOT"/control/target/sluice-*/sluice-*/ 2>/dev/null | head -1)}
[ -x "$DIST/bin/sluice" ] || { echo "no distribution under control/target: run ./sluice --help once to build it" >&2; exit 1; }
NS=lp$$
VIP=198.18.0.10
WORK=$(mktemp -d /tmp/l7nodebench.XXXXXX)
NODE_PID=
cleanup()
{
    [ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null || true
    for f in "$WORK"/backend.pid "$WORK"/proxy.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    sleep 1
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$VIP/32" dev lo
cat >"$WORK/backend.conf" <<CONF
worker_processes 1; daemon on; pid $WORK/backend.pid; error_log $WORK/backend.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen $VIP:8080; location / { return 200 "ok"; } } }
CONF
cat >"$WORK/proxy.conf" <<CONF
worker_processes 1; daemon on; pid $WORK/proxy.pid; error_log $WORK/proxy.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream app { server $VIP:8080; keepalive 64; }
  server { listen $VIP:81; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat >"$WORK/node.yaml" <<CONF
apiVersion: sluice/v1
node: {name: bench, stateDir: $WORK/state, drainTimeoutSeconds: 1$([ "$ACCESSLOG" = true ] || echo ', accessLog: false')}
loadBalancers:
  - name: bench
    vip: $VIP
    listeners:
      - {protocol: http, port: 80, serverGroup: app, scheduler: rr, xForwardedFor: false, healthCheck: {enabled: false}}
    serverGroups:
      - {name: app, servers: [{address: $VIP, port: 8080}]}
CONF
ip netns exec "$NS" nginx -c "$WORK/backend.conf" -p "$WORK"
ip netns exec "$NS" nginx -c "$WORK/proxy.conf" -p "$WORK"
ip netns exec "$NS" "$DIST/bin/sluice" node --config "$WORK/node.yaml" --profile "$PROFILE" >"$WORK/node.log" 2>&1 &
for _ in $(seq 150); do grep -q " ready: " "$WORK/node.log" 2>/dev/null && break; sleep 1; done
NODE_PID=$(grep -o " pid [0-9]*" "$WORK/node.log" | head -1 | awk '{print $2}')
[ -n "$NODE_PID" ] || { echo "node did not start:"; tail -20 "$WORK/node.log"; exit 1; }
sleep 1
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/proxy.pid")" | head -1)
# run time (ns, schedstat) of every live thread of a process, summed per thread name
snap() { for t in /proc/"$1"/task/*; do echo "$(tr ' ' '_' <"$t/comm") $(cut -d' ' -f1 "$t/schedstat")"; done |
    awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort; }
run() # name pid port
{
    snap "$2" >"$WORK/s0"
    out=$(ip netns exec "$NS" wrk -t1 -c64 -d"${SECONDS_PER_ROUND}s" --latency "http://$VIP:$3/")
    snap "$2" >"$WORK/s1"
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    join "$WORK/s0" "$WORK/s1" | awk -v name="$1" -v n="$n" -v s="$SECONDS_PER_ROUND" -v p50="$p50" -v p99="$p99" \
        -v load="$(cut -d' ' -f1 /proc/loadavg)" '
        { c = ($3 - $2) / 1e3 / n; all += c; if (c >= 0.05) detail = detail sprintf(" %s %.1f", $1, c) }
        END { printf "%-8s %7.0f req/s  p50 %-8s p99 %-9s %6.1f CPU-us/req  %6.0f req per CPU-s  load %s\n", name, n / s, p50, p99,
              all, 1e6 / all, load; if (name != "nginx") printf "         per thread (us/req):%s\n", detail }'
}
ip netns exec "$NS" wrk -t1 -c64 -d"${WARMUP}s" "http://$VIP:80/" >/dev/null
for _ in $(seq "$ROUNDS"); do
    run nginx "$NGINX_WORKER" 81
    run "sluice-$PROFILE" "$NODE_PID" 80
done
