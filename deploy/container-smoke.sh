#!/bin/sh
# Build the image and smoke-test it: the web container answers /healthz, /readyz turns ready
# after one sweep by a scheduler container on the same volume, /metrics needs the token and
# counts the requests. For CI with podman (or docker: CONTAINER=docker).
#   deploy/container-smoke.sh [extra build arguments, e.g. --build-arg PYTHON_IMAGE=…]
set -eu
ENGINE=${CONTAINER:-podman}
IMAGE=${IMAGE:-localhost/aftaleflow:smoke}
PORT=${PORT:-18080}
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
NAME=aftaleflow-smoke-$$
RENDER_PDF="from workflow.documents import pdf
data = pdf.render_pdf('documents/base.html', title='Prøve', author='Aftaleflow', running_header='Prøve')
assert data.startswith(b'%PDF-1.7'), data[:16]"

"$ENGINE" build --format docker -t "$IMAGE" -f Containerfile "$@" .
"$ENGINE" volume create "$NAME" >/dev/null
cleanup() {
    "$ENGINE" rm -f "$NAME-web" >/dev/null 2>&1 || true
    "$ENGINE" volume rm -f "$NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT
run() { "$ENGINE" run --rm -v "$NAME:/var/lib/aftaleflow/var" "$IMAGE" "$@"; }

run aftaleflow init-db
# The documents render in the image (WeasyPrint finds pango and the templates' fonts).
run python -c "$RENDER_PDF"
"$ENGINE" run -d --name "$NAME-web" -p "127.0.0.1:$PORT:8000" \
    -e AFTALEFLOW_METRICS_TOKEN="$TOKEN" -v "$NAME:/var/lib/aftaleflow/var" "$IMAGE" >/dev/null
for _ in $(seq 60); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 1
done
test "$(curl -fsS "http://127.0.0.1:$PORT/healthz")" = ok
test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 503
run aftaleflow scheduler --once
test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200
test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")" = 401
curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" \
    | grep -q '^aftaleflow_http_requests_total{endpoint="healthz",method="GET",status="200"}'
test "$("$ENGINE" exec "$NAME-web" id -u)" = 10001
echo "container smoke test passed"
