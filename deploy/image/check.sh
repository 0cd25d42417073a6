#!/usr/bin/env bash
# Builds the image from the release binary (BINARY_FROM=prebuilt) on the
# local base images (make-base.sh) and checks it: `opsconductor --version`
# and `opsconductor server api --help` run in it, as uid 10001 with a
# read-only root filesystem and no capabilities, and it has no shell; the
# variant with a shell (for pools with local.exec) runs as 10001 too.
# Skips, saying why, with exit 0 when no Docker daemon is reachable.
#
# Environment: OPSC_IMAGE_BINARY (default $CARGO_TARGET_DIR/release/opsconductor,
# built when missing), OPSC_IMAGE_TAG (default opsconductor:check).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/lib/services.sh

docker=$(find_bin docker || true)
if [ -z "$docker" ]; then
  say "image check skipped: no docker client on this machine (apt-get install docker.io)"
  exit 0
fi
# A daemon that is installed but not running (no init system starts it on
# such machines) is started here, as root, and left running for later runs.
if ! "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ] && dockerd=$(find_bin dockerd); then
  say "starting the Docker daemon ($dockerd, log in /var/log/opsconductor-dockerd.log)"
  setsid nohup "$dockerd" >/var/log/opsconductor-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 60); do
    "$docker" version >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
if ! why=$("$docker" version --format '{{.Server.Version}}' 2>&1); then
  why=$(tail -n1 <<<"$why")
  say "image check skipped: no Docker daemon reachable through $docker: $why"
  exit 0
fi

bin="${OPSC_IMAGE_BINARY:-$CARGO_TARGET_DIR/release/opsconductor}"
if [ ! -x "$bin" ]; then
  say "no release binary at $bin: building it (cargo build --release --locked --bin opsconductor)"
  ensure_rust
  cargo build --release --locked --bin opsconductor
  bin="$CARGO_TARGET_DIR/release/opsconductor"
fi
OPSC_IMAGE_BINARY="$bin" ./deploy/image/make-base.sh

tag="${OPSC_IMAGE_TAG:-opsconductor:check}"
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/opsconductor"
build() { # <tag> <runtime base>
  say "docker build $1 (prebuilt binary, runtime base $2)"
  DOCKER_BUILDKIT=1 "$docker" build -q -f deploy/Dockerfile \
    --build-arg BINARY_FROM=prebuilt \
    --build-arg RUNTIME_IMAGE="$2" \
    -t "$1" "$ctx" >/dev/null
}
build "$tag" opsconductor-base/bookworm-runtime
build "$tag-shell" opsconductor-base/bookworm

# As the chart runs it: not root, read-only root filesystem, no capabilities.
run() { "$docker" run --rm --read-only --cap-drop ALL --security-opt no-new-privileges "$@"; }
want=$("$bin" --version)
got=$(run "$tag" --version) || die "opsconductor --version failed in $tag"
[ "$got" = "$want" ] || die "the image says '$got', the binary '$want'"
help=$(run "$tag" server api --help) || die "opsconductor server api --help failed in $tag"
grep -qi 'usage' <<<"$help" || die "server api --help printed no usage: $help"
user=$("$docker" image inspect -f '{{.Config.User}}' "$tag")
[ "$user" = "10001:10001" ] || die "$tag runs as '$user', not 10001:10001"
[ "$("$docker" image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$tag")" \
  = '["/usr/local/bin/opsconductor"] ["server","api"]' ] || die "$tag: unexpected entry point or command"
if run --entrypoint /bin/sh "$tag" -c true >/dev/null 2>&1; then
  die "$tag has a shell"
fi
uid=$(run --entrypoint /bin/sh "$tag-shell" -c 'id -u') || die "no shell in $tag-shell"
[ "$uid" = 10001 ] || die "$tag-shell runs as uid $uid"
run "$tag-shell" --version >/dev/null || die "opsconductor --version failed in $tag-shell"

size() { "$docker" image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f MB", $1 / 1000000}'; }
say "image $tag ok: $got, uid 10001, no shell, $(size "$tag") ($tag-shell: $(size "$tag-shell"))"
