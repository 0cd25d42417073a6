#!/usr/bin/env bash
# Makes the local base images deploy/Dockerfile builds on, for machines that
# cannot pull from a registry: Debian (bookworm, minbase) through debootstrap
# from this machine's apt mirror, then `docker import`.
#
#   opsconductor-base/bookworm          minbase Debian with a shell, ca-certificates,
#                                       tzdata and the user opsconductor (uid 10001):
#                                       the runtime base for pools with local.exec
#   opsconductor-base/bookworm-runtime  distroless-like: no shell, no package manager;
#                                       glibc and libgcc (the binary's only shared
#                                       libraries, see `ldd`), the CA bundle, tzdata,
#                                       passwd/group with opsconductor (10001), /tmp
#
# Usage: deploy/image/make-base.sh [--force]
# Environment: OPSC_DEBIAN_MIRROR (default: the first Debian URI in
# /etc/apt/sources.list*), OPSC_BASE_SUITE (default bookworm), DOCKER (the
# docker client). Skips an image that exists already unless --force.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/lib/services.sh

force=""
[ "${1:-}" = "--force" ] && force=1
suite="${OPSC_BASE_SUITE:-bookworm}"
shell_image="opsconductor-base/$suite"
runtime_image="opsconductor-base/$suite-runtime"
docker="${DOCKER:-$(find_bin docker || true)}"
[ -n "$docker" ] || die "docker not found: apt-get install docker.io"

has_image() { "$docker" image inspect "$1" >/dev/null 2>&1; }
if [ -z "$force" ] && has_image "$shell_image" && has_image "$runtime_image"; then
  say "base images $shell_image and $runtime_image exist (--force to remake them)"
  exit 0
fi

# The machine's Debian mirror: deb822 sources first, then one-line sources.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i ~ /debian\/?$/) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/ && $i ~ /debian\/?$/) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  return 1
}
mirror="${OPSC_DEBIAN_MIRROR:-$(debian_mirror || true)}"
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: set OPSC_DEBIAN_MIRROR"
find_bin debootstrap >/dev/null || apt_install debootstrap
debootstrap=$(find_bin debootstrap) || die "debootstrap not installed"
[ "$SUDO" = "__none__" ] && die "debootstrap needs root (or sudo)"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/opsc-base.XXXXXX")
trap '$SUDO rm -rf "$work"' EXIT
root="$work/rootfs"
say "debootstrap $suite (minbase) from $mirror"
$SUDO "$debootstrap" --variant=minbase --include=ca-certificates,tzdata \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
$SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

# The account the image runs as (uid/gid 10001, no login shell).
add_user() {
  local r=$1
  printf 'opsconductor:x:10001:10001:OpsConductor:/var/lib/opsconductor:/usr/sbin/nologin\n' | $SUDO tee -a "$r/etc/passwd" >/dev/null
  printf 'opsconductor:x:10001:\n' | $SUDO tee -a "$r/etc/group" >/dev/null
  $SUDO mkdir -p "$r/var/lib/opsconductor"
  $SUDO chown 10001:10001 "$r/var/lib/opsconductor"
  $SUDO chmod 0750 "$r/var/lib/opsconductor"
}

# The distroless-like tree: the files of the packages the binary needs at
# run time, taken from the debootstrapped tree (so they are Debian's own).
rt="$work/runtime"
$SUDO mkdir -p "$rt"
$SUDO chroot "$root" dpkg-query -L libc6 libgcc-s1 tzdata base-files 2>/dev/null \
  | grep -Ev '^/usr/share/(doc|lintian|man|info|locale|bug)/|/gconv/|^/usr/lib/x86_64-linux-gnu/audit/|^/\.$' \
  | sed 's|^/||; s|^lib/|usr/lib/|; s|^lib64/|usr/lib64/|; s|^lib$|usr/lib|; s|^lib64$|usr/lib64|' \
  | sort -u >"$work/files"
# Merged /usr: the packages name /lib paths; the tree has them under usr/.
(cd "$root" && $SUDO tar --no-recursion -cf - -T "$work/files") | $SUDO tar -C "$rt" -xf -
for link in lib lib64; do
  [ -L "$root/$link" ] && $SUDO cp -P "$root/$link" "$rt/$link"
done
$SUDO mkdir -p "$rt/etc/ssl/certs" "$rt/tmp" "$rt/root"
$SUDO cp "$root/etc/ssl/certs/ca-certificates.crt" "$rt/etc/ssl/certs/"
$SUDO chmod 1777 "$rt/tmp"
$SUDO chmod 0700 "$rt/root"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' | $SUDO tee "$rt/etc/passwd" >/dev/null
printf 'root:x:0:\nnogroup:x:65534:\n' | $SUDO tee "$rt/etc/group" >/dev/null
printf 'passwd: files\ngroup: files\nhosts: files dns\n' | $SUDO tee "$rt/etc/nsswitch.conf" >/dev/null
add_user "$root"
add_user "$rt"

# A binary at hand (OPSC_IMAGE_BINARY or the release build): every shared
# library it loads must be in the runtime tree.
bin="${OPSC_IMAGE_BINARY:-$CARGO_TARGET_DIR/release/opsconductor}"
if [ -x "$bin" ] && command -v ldd >/dev/null; then
  for lib in $(ldd "$bin" | awk '$2 == "=>" {print $3} $1 ~ /^\// {print $1}'); do
    [ -e "$rt$lib" ] || die "the runtime base lacks $lib, which $bin loads"
  done
  say "every shared library of $bin is in the runtime base"
fi

import() {
  say "docker import $2"
  $SUDO tar --numeric-owner -C "$1" -cf - . | "$docker" import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    - "$2" >/dev/null
}
{ [ -n "$force" ] || ! has_image "$shell_image"; } && import "$root" "$shell_image"
{ [ -n "$force" ] || ! has_image "$runtime_image"; } && import "$rt" "$runtime_image"
"$docker" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^opsconductor-base/' >&2
