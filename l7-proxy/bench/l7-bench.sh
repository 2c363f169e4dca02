#!/usr/bin/env bash
# HTTP/1.1 keep-alive req/s: wrk -t1 -c64 against the backend directly, through nginx (1 worker) and through the sluice
# L7 proxy (1 event loop), on loopback. Backend: nginx (1 worker) answering a fixed 2-byte body, pinned with the client
# to CPU 0; the proxy under test pinned to CPU 1. Usage: l7-proxy/bench/l7-bench.sh [duration_seconds] [transport]
set -euo pipefail
DURATION=${1:-10}
TRANSPORT=${2:-io_uring}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/l7bench.XXXXXX)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
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
taskset -c 1 nginx -c "$WORK/proxy.conf" -p "$WORK" & PIDS+=($!)
CP=$(cd "$ROOT" && ./mvnw -B -o -q -pl l7-proxy dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=test)
FLAGS="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"
taskset -c 1 "$JAVA_HOME/bin/java" $FLAGS -Xmx512m -cp "$ROOT/l7-proxy/target/classes:$ROOT/l7-proxy/target/test-classes:$CP" \
  io.sluice.l7.BenchProxyMain 127.0.0.1 $SLUICE_PORT 127.0.0.1 $BACKEND_PORT "$TRANSPORT" 1 >"$WORK/sluice.out" 2>&1 & PIDS+=($!)
for port in $BACKEND_PORT $NGINX_PORT $SLUICE_PORT; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
# warm the JIT before measuring
taskset -c 0 wrk -t1 -c64 -d5s "http://127.0.0.1:$SLUICE_PORT/" >/dev/null
for subject in direct:$BACKEND_PORT nginx:$NGINX_PORT sluice:$SLUICE_PORT; do
  name=${subject%%:*} port=${subject##*:}
  out=$(taskset -c 0 wrk -t1 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-7s %10s req/s   p50 %-8s p99 %s\n' "$name" "$rps" "$p50" "$p99"
done
