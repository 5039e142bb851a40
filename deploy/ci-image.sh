#!/usr/bin/env bash
# CI: build the container image and smoke-test it, on a machine that may have no registry to pull
# a base image from and whose podman may not be able to start containers.
#
#  1. podman and debootstrap are installed with apt when missing (if apt cannot, the step is
#     skipped with a message: the issue asks for it only where they are installable);
#  2. the base image ($BASE_IMAGE, default localhost/aftaleflow-base:bookworm: Debian bookworm with
#     python3, python3-venv, python-is-python3 and ca-certificates) is made with debootstrap and
#     `podman import` when absent, and kept in podman's storage as the cache for the next run;
#  3. the image is built with --build-arg PYTHON_IMAGE=$BASE_IMAGE --isolation=chroot;
#  4. if `podman run --rm IMAGE true` works, deploy/container-smoke.sh runs with real containers
#     (mode "containers"); otherwise the same checks run in the image's filesystem under
#     `chroot --userspec=10001:10001` (mode "chroot"): init-db, gunicorn with the shipped config on
#     a loopback port, /healthz 200, /readyz 503 then 200 after `aftaleflow scheduler --once`,
#     /metrics 401 without the token and counting requests with it, the processes as uid 10001.
#
# Any failure to build or to pass the smoke test fails the script (and CI).
#   AFTALEFLOW_CI_CONTAINER=0   skip the whole step (e.g. locally)
#   AFTALEFLOW_CI_MODE=chroot   force the chroot smoke even where containers start
#   BUILD_CA_BUNDLE             CA bundle mounted for the build's downloads (empty: none)
#   BASE_IMAGE, IMAGE, PORT, DEBIAN_MIRROR, DEBIAN_SUITE   override the defaults
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/.."

BASE_IMAGE=${BASE_IMAGE:-localhost/aftaleflow-base:bookworm}
IMAGE=${IMAGE:-localhost/aftaleflow:ci}
PORT=${PORT:-18081}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BUILD_CA_BUNDLE=${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
say() { printf 'ci-image: %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# The chroot smoke (run as root, or inside `podman unshare` for a rootless engine).
# ---------------------------------------------------------------------------------------------
chroot_smoke() {
    # Globals, not locals: the EXIT trap that cleans up runs after this function has returned.
    local image=$1 token status=0
    gpid=""
    ctr=$(podman create "$image" true)
    root=$(podman mount "$ctr")
    rundir=$(mktemp -d)
    token=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    cleanup_chroot() {
        if [ -n "$gpid" ]; then kill "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; fi
        gpid=""
        umount "$root/proc" 2>/dev/null || true
        umount -R "$root/dev" 2>/dev/null || true
        podman umount "$ctr" >/dev/null 2>&1 || true
        podman rm -f "$ctr" >/dev/null 2>&1 || true
        rm -rf "$rundir"
    }
    trap cleanup_chroot EXIT
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"

    # The image's own environment, user and working directory, from its configuration.
    local -a envs=()
    mapfile -t envs < <(podman image inspect "$image" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
    local user workdir
    user=$(podman image inspect "$image" --format '{{.Config.User}}')
    workdir=$(podman image inspect "$image" --format '{{.Config.WorkingDir}}')
    [ "$user" = 10001:10001 ] || { say "FAIL: the image's user is '$user', not 10001:10001"; return 1; }
    envs+=("HOME=$workdir" "AFTALEFLOW_BIND=127.0.0.1:$PORT" "AFTALEFLOW_WORKERS=2"
           "AFTALEFLOW_METRICS_TOKEN=$token")
    in_image() {
        env -i "${envs[@]}" chroot --userspec="$user" "$root" /bin/sh -c "cd '$workdir' && exec \"\$@\"" sh "$@"
    }

    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
        say "FAIL: something already listens on 127.0.0.1:$PORT (set PORT=…)"; return 1
    fi
    in_image aftaleflow init-db
    # A simple command in the background, each step exec'ing the next: $! is gunicorn's master.
    env -i "${envs[@]}" chroot --userspec="$user" "$root" /bin/sh -c \
        "cd '$workdir' && exec gunicorn --config /etc/aftaleflow/gunicorn.conf.py workflow.wsgi:app" \
        >"$rundir/web.log" 2>&1 &
    gpid=$!
    local ok=""
    for _ in $(seq 90); do
        if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then ok=1; break; fi
        kill -0 "$gpid" 2>/dev/null || break
        sleep 1
    done
    check() {  # check DESCRIPTION COMMAND...
        if "${@:2}"; then say "ok: $1"; else say "FAIL: $1"; status=1; fi
    }
    if [ -z "$ok" ]; then
        say "FAIL: gunicorn did not answer /healthz; its log:"; cat "$rundir/web.log"; return 1
    fi
    check "the server's master process is gunicorn" grep -q gunicorn "/proc/$gpid/cmdline"
    check "the image renders a PDF document (WeasyPrint finds pango and the fonts)" \
        in_image python -c "from workflow.documents import pdf
data = pdf.render_pdf('documents/base.html', title='Prøve', author='Aftaleflow', running_header='Prøve')
assert data.startswith(b'%PDF-1.7'), data[:16]"
    check "the image has xmlsec1 for SAML single sign-on" in_image xmlsec1 --version
    code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
    check "/healthz answers ok" test "$(curl -fsS "http://127.0.0.1:$PORT/healthz")" = ok
    check "/readyz is 503 before the scheduler's first sweep" \
        test "$(code "http://127.0.0.1:$PORT/readyz")" = 503
    in_image aftaleflow scheduler --once
    check "/readyz is 200 after aftaleflow scheduler --once" \
        test "$(code "http://127.0.0.1:$PORT/readyz")" = 200
    check "/metrics is 401 without the token" test "$(code "http://127.0.0.1:$PORT/metrics")" = 401
    curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/metrics" >"$rundir/metrics" || true
    check "/metrics with the token counts the /healthz requests" \
        grep -q '^aftaleflow_http_requests_total{endpoint="healthz",method="GET",status="200"}' \
        "$rundir/metrics"
    # The master and its workers all run as 10001.
    local uids
    uids=$(for p in "$gpid" $(pgrep -P "$gpid" || true); do awk '/^Uid:/ {print $2}' "/proc/$p/status"; done \
        | sort -u | paste -sd, -) || true
    check "gunicorn's master and workers run as uid 10001 (found: ${uids:-none})" test "$uids" = 10001
    if [ "$status" != 0 ]; then say "the server's log:"; cat "$rundir/web.log"; fi
    return "$status"
}

if [ "${1:-}" = --chroot-smoke ]; then
    chroot_smoke "$2"
    exit $?
fi

# ---------------------------------------------------------------------------------------------
if [ "${AFTALEFLOW_CI_CONTAINER:-1}" = 0 ]; then
    say "skipped: AFTALEFLOW_CI_CONTAINER=0"
    exit 0
fi
start=$SECONDS

# 1. The tools.
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} with apt"
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
        || ! command -v podman >/dev/null; then
        say "SKIPPED: ${missing[*]} could not be installed with apt here; the image is not built or tested"
        exit 0
    fi
fi

# 2. The base image (cached in podman's storage across runs).
if podman image exists "$BASE_IMAGE"; then
    say "base image $BASE_IMAGE: cached"
else
    command -v debootstrap >/dev/null || { say "FAIL: no base image and no debootstrap"; exit 1; }
    say "base image $BASE_IMAGE: absent; making it with debootstrap ($DEBIAN_SUITE from $DEBIAN_MIRROR)"
    rootfs=$(mktemp -d /var/tmp/aftaleflow-base.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python-is-python3,ca-certificates \
        "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 \
        || { cat "$rootfs.log"; rm -f "$rootfs.log"; say "FAIL: debootstrap"; exit 1; }
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    say "base image made in $((SECONDS - start)) s"
fi

# 3. The image.
built=$SECONDS
build_args=(--build-arg "PYTHON_IMAGE=$BASE_IMAGE" --isolation=chroot)
# The build's downloads (pip) trust what this machine trusts (e.g. an egress proxy's CA): the
# host's CA bundle is mounted over the image's during the RUN steps only, never copied into it.
if [ -n "$BUILD_CA_BUNDLE" ] && [ -f "$BUILD_CA_BUNDLE" ]; then
    build_args+=(--volume "$BUILD_CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro")
fi
podman build --format docker -t "$IMAGE" -f Containerfile "${build_args[@]}" . >/tmp/ci-image-build.$$ 2>&1 \
    || { cat /tmp/ci-image-build.$$; rm -f /tmp/ci-image-build.$$; say "FAIL: the image did not build"; exit 1; }
rm -f /tmp/ci-image-build.$$
say "image $IMAGE built in $((SECONDS - built)) s"
# Every build whose sources changed leaves the previous image and build stage untagged (~1 GB);
# those older than a day go, so the runs on this machine do not fill its disk.
podman image prune -f --filter "until=${PRUNE_AFTER:-24h}" >/dev/null 2>&1 || true

# 4. The smoke test: real containers if the engine can start them, the chroot otherwise.
if [ "${AFTALEFLOW_CI_MODE:-}" != chroot ] && podman run --rm "$IMAGE" true >/dev/null 2>&1; then
    say "mode: containers (deploy/container-smoke.sh)"
    IMAGE=$IMAGE deploy/container-smoke.sh "${build_args[@]}"
else
    if [ "${AFTALEFLOW_CI_MODE:-}" = chroot ]; then
        say "mode: chroot (AFTALEFLOW_CI_MODE=chroot)"
    else
        say "mode: chroot (podman cannot start containers here: 'podman run --rm $IMAGE true' failed)"
    fi
    if [ "$(id -u)" = 0 ]; then
        "$SELF" --chroot-smoke "$IMAGE"
    else
        podman unshare "$SELF" --chroot-smoke "$IMAGE"
    fi
    say "container image smoke test passed (chroot mode: the image's filesystem as uid 10001)"
fi
say "done in $((SECONDS - start)) s"
