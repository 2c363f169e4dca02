#!/usr/bin/env bash
# HTTP/1.1 keep-alive req/s and requests per proxy CPU-second: wrk -t1 -c64 against the backend directly, through nginx
# (1 worker) and through the sluice L7 proxy (1 event loop), on loopback, after a 30 s warm-up of sluice. Backend: nginx (1 worker) answering a fixed 2-byte body, pinned with the client
# to CPU 0; the proxy under test pinned to CPU 1. Usage: l7-proxy/bench/l7-bench.sh [duration_seconds] [transport]
set -euo pipefail
DURATION=${1:-10}
TRANSPORT=${2:-io_uring}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/l7bench.XXXXXX)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
BACKEND_PORT=18081 NGINX_PORT=18082 SLUICE_PORT=18083
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cat >"$WORK/backend.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/backend.pid; error_log $WORK/backend.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACKEND_PORT; location / { return 200 "ok"; } } }
CONF
cat >"$WORK/proxy.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/proxy.pid; error_log $WORK/proxy.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
CONF
taskset -c 0 nginx -c "$WORK/backend.conf" -p "$WORK" & PIDS+=($!)
taskset -c 1 nginx -c "$WORK/proxy.conf" -p "$WORK" & PIDS+=($!); NGINX_MASTER=$!
CP=$(cd "$ROOT" && ./mvnw -B -o -q -pl l7-proxy dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=test)
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"
taskset -c 1 "$JAVA_HOME/bin/java" $FLAGS -Xmx512m -cp "$ROOT/l7-proxy/target/classes:$ROOT/l7-proxy/target/test-classes:$CP" \
  io.sluice.l7.BenchProxyMain 127.0.0.1 $SLUICE_PORT 127.0.0.1 $BACKEND_PORT "$TRANSPORT" 1 >"$WORK/sluice.out" 2>&1 & PIDS+=($!)
SLUICE_PID=$!
# CPU seconds (user + system) a process and its threads have used so far
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# the same for the proxy's event-loop thread alone (JIT and GC threads excluded)
loop_cpu() { for t in /proc/$1/task/*; do [ "$(cat "$t/comm")" = sluice-l7-1-1 ] && cpu "$1/task/${t##*/}"; done; }
for port in $BACKEND_PORT $NGINX_PORT $SLUICE_PORT; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
# warm the JIT before measuring
taskset -c 0 wrk -t1 -c64 -d30s "http://127.0.0.1:$SLUICE_PORT/" >/dev/null
NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -1)
for subject in direct:$BACKEND_PORT:0 nginx:$NGINX_PORT:$NGINX_WORKER sluice:$SLUICE_PORT:$SLUICE_PID; do
  IFS=: read -r name port pid <<<"$subject"
  before=0; [ "$pid" != 0 ] && before=$(cpu "$pid")
  [ "$name" = sluice ] && loop_before=$(loop_cpu "$pid")
  out=$(taskset -c 0 wrk -t1 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
  after=0; [ "$pid" != 0 ] && after=$(cpu "$pid")
  [ "$name" = sluice ] && loop_after=$(loop_cpu "$pid")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  per_cpu=-; [ "$pid" != 0 ] && per_cpu=$(awk -v n="$total" -v c="$(echo "$after - $before" | bc)" 'BEGIN {printf "%.0f", n / c}')
  printf '%-7s %10s req/s   p50 %-8s p99 %-9s req per proxy CPU-s %s\n' "$name" "$rps" "$p50" "$p99" "$per_cpu"
done
awk -v n="$total" -v c="$(echo "$loop_after - $loop_before" | bc)" \
  'BEGIN {printf "sluice event-loop thread alone: %.0f req per CPU-s (process figure above includes JIT and GC threads)\n", n / c}' 
