#!/usr/bin/env bash
# testssl.sh (Debian package `testssl.sh`, command `testssl`) against a sluice https listener with the
# tls_1_2_strict_with_1_3 policy, keyless through a real key server process: one RSA-2048 and one ECDSA P-256
# certificate on the listener, SNI picks. Fails when testssl reports any HIGH or CRITICAL finding. Not run in CI (it
# takes minutes); docs/testssl.md keeps the last summary.
#
#   sudo scripts/testssl.sh [OUT_DIR]        # root: it makes a network namespace of its own
#
# Needs: testssl, openssl, curl, python3, iproute2, a JDK >= 25 (./sluice builds the distribution when it is stale).
# Everything lives in the namespace hs-tls-PID (198.18.0.0/15 addresses only) and OUT_DIR; both go away on exit
# except OUT_DIR, which keeps testssl's text and JSON output and the summary.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
OUT=${1:-$(mktemp -d /tmp/sluice-testssl.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
NS="hs-tls-$$"
VIP=198.18.0.100
BACKEND=198.18.10.2

for tool in testssl openssl curl python3 ip; do
  command -v "$tool" >/dev/null || { echo "testssl.sh: $tool is missing (apt-get install testssl.sh openssl curl python3 iproute2)" >&2; exit 2; }
done

"$ROOT/sluice" --help >/dev/null   # builds the distribution when it is missing or stale
VERSION=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$ROOT/pom.xml" | head -n 1)
SLUICE="$ROOT/control/target/sluice-$VERSION/sluice-$VERSION/bin/sluice"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "/etc/netns/$NS"
}
trap cleanup EXIT

in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS"
in_ns ip link set lo up
in_ns ip addr add "$BACKEND/32" dev lo
# ip netns exec bind-mounts /etc/netns/NS/hosts over /etc/hosts: the test names resolve to the VIP inside only
mkdir -p "/etc/netns/$NS"
printf '127.0.0.1 localhost\n%s rsa.example.test ec.example.test\n' "$VIP" > "/etc/netns/$NS/hosts"

# --- PKI: a test CA, an RSA-2048 and an ECDSA P-256 leaf -------------------------------------------------------------
PKI="$OUT/pki"
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.pem" \
  -days 730 -subj "/CN=sluice testssl CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() {  # name keyspec...
  local name=$1; shift
  openssl req "$@" -nodes -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$name.example.test" 2>/dev/null
  # a year's validity and a CRL URI: testssl rates a certificate expiring within 30 days or without any revocation
  # pointer HIGH, which is about the test certificate, not the listener (the URI is never fetched: it is not resolvable)
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s.example.test\ncrlDistributionPoints=URI:http://ca.example.test/ca.crl\n' \
    "$name" > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial -days 365 \
    -out "$PKI/$name.pem" -extfile "$PKI/$name.ext" 2>/dev/null
}
leaf rsa -newkey rsa:2048
leaf ec -newkey ec -pkeyopt ec_paramgen_curve:P-256

# --- key server ------------------------------------------------------------------------------------------------------
KEYS="$OUT/keys"; SHM="$OUT/shm"; MASTER="$OUT/master.key"
for name in rsa ec; do
  "$SLUICE" keyserver import --dir "$KEYS" --master-key-file "$MASTER" --name "$name" \
    --cert "$PKI/$name.pem" --key "$PKI/$name.key" --chain "$PKI/ca.pem" > "$OUT/import-$name.log" 2>&1
done
"$SLUICE" keyserver --dir "$KEYS" --shm "$SHM" --master-key-file "$MASTER" --workers 2 > "$OUT/keyserver.log" 2>&1 &
PIDS+=($!)

# --- backend and node ------------------------------------------------------------------------------------------------
mkdir -p "$OUT/www" && echo ok > "$OUT/www/index.html"
in_ns python3 -m http.server 8080 --bind "$BACKEND" --directory "$OUT/www" > "$OUT/backend.log" 2>&1 &
PIDS+=($!)
cat > "$OUT/node.yaml" <<YAML
apiVersion: sluice/v1
node: {name: testssl, stateDir: $OUT/state, profile: shared, drainTimeoutSeconds: 1, keyserver: $SHM}
loadBalancers:
  - name: web
    vip: $VIP
    listeners:
      - {protocol: https, port: 443, serverGroup: app, certificates: [rsa, ec], tlsPolicy: tls_1_2_strict_with_1_3,
         http2: true}
    serverGroups: [{name: app, servers: [{address: $BACKEND, port: 8080}]}]
YAML
in_ns "$SLUICE" node --config "$OUT/node.yaml" > "$OUT/node.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do
  if in_ns curl -sf --max-time 2 http://127.0.0.1:9900/healthz >/dev/null 2>&1; then break; fi
  sleep 0.5
done
in_ns curl -s --max-time 2 http://127.0.0.1:9900/healthz | tee "$OUT/healthz.json" | grep -q '"ready"' \
  || { echo "testssl.sh: node not ready: $(cat "$OUT/healthz.json")" >&2; tail -n 30 "$OUT/node.log" >&2; exit 1; }
in_ns curl -sf --max-time 5 --cacert "$PKI/ca.pem" https://rsa.example.test/ >/dev/null

# --- testssl, once per certificate (SNI) -----------------------------------------------------------------------------
status=0
for name in rsa ec; do
  rm -f "$OUT/testssl-$name.json"
  in_ns testssl --quiet --color 0 --warnings off --add-ca "$PKI/ca.pem" --ip "$VIP" \
    --jsonfile "$OUT/testssl-$name.json" "https://$name.example.test/" > "$OUT/testssl-$name.txt" 2>&1 || true
  python3 - "$OUT/testssl-$name.json" "$name" > "$OUT/summary-$name.txt" <<'PY' || status=1
import json, sys, collections
findings = json.load(open(sys.argv[1]))
by = collections.Counter(f.get("severity", "?") for f in findings)
print(f"{sys.argv[2]}: {len(findings)} findings: " + ", ".join(f"{k} {by[k]}" for k in
      ["CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "INFO", "OK"] if by[k]))
bad = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL")]
for f in findings:
    if f.get("severity") in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN"):
        print(f"  {f['severity']:8} {f['id']}: {f['finding']}")
sys.exit(1 if bad else 0)
PY
  cat "$OUT/summary-$name.txt"
done
echo "testssl.sh: output in $OUT"
exit $status
