#!/usr/bin/env bash
# scripts/services.sh: make sure the PostgreSQL in DATABASE_URL and the Redis in
# REDIS_URL answer, starting (and if need be installing) local ones.
#
#   DATABASE_URL  default postgres://postgres@127.0.0.1:5432/hejie
#   REDIS_URL     default redis://127.0.0.1:6379
#
# For each service, in order:
#   1. It answers: use it (fast path, well under a second, one line of output).
#   2. It does not answer and its host is not local: wait up to
#      SERVICES_WAIT_SECS (30) for it, then fail.
#   3. Its host is local (127.x, localhost, ::1) and the port is free:
#      PostgreSQL: start the packaged cluster (/etc/postgresql/<ver>/<name>) that
#        is configured for that port (pg_ctlcluster); when there is none or it
#        cannot be used (not root and no sudo), run a private cluster in
#        .demo/pg (initdb, trust auth, superuser postgres) with pg_ctl on that
#        port, log in .demo/pg.log. If a packaged cluster this run started or
#        installed refuses the URL's user (Debian asks for a password over TCP),
#        the role is created and trusted from 127.0.0.1/::1 in its pg_hba.conf;
#        a cluster that was already running is never reconfigured.
#      Redis: redis-server --daemonize yes on that port, nothing kept on disk,
#        log in .demo/redis-<port>.log.
#      Missing server programs are installed with apt-get (postgresql,
#      redis-server), via sudo when not root.
#   4. The local port is held by something that is not that service (after a
#      5 s grace for a proxy in front of a starting server): fail.
# Then the database named in DATABASE_URL is created if it does not exist (with
# psql, or the pg package in node_modules when psql is missing).
# Concurrent runs are serialized by a lock in ${TMPDIR:-/tmp} (slow path only).
#
# Prints one line per service ("postgres: using 127.0.0.1:5432 (already
# running)", "... started ...", "... installed and started ..."); set
# SERVICES_QUIET=1 to print nothing unless something goes wrong. Exit status is
# non-zero, with the reason on stderr, when a service cannot be made to answer.
#
# Can be executed (bash scripts/services.sh) or sourced (. scripts/services.sh);
# when sourced it also exports DATABASE_URL and REDIS_URL with their defaults,
# and it runs in a child bash, so it changes no shell options of the caller.
#
# Stop what it started:
#   pg_ctl -D .demo/pg stop   (as user postgres when root: runuser -u postgres --)
#   redis-cli -p <port> shutdown nosave

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hejie}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  bash "${BASH_SOURCE[0]}" "$@" || return $?
  return 0
fi

set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hejie}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
WAIT_SECS="${SERVICES_WAIT_SECS:-30}"
QUIET="${SERVICES_QUIET:-0}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO_DIR="$REPO/.demo"
export LC_ALL=C

say() { [[ "$QUIET" == 1 ]] || printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" >&2; }
die() {
  printf 'services.sh: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
# Display path relative to the repo.
rel() { printf '%s' "${1#"$REPO"/}"; }

# ---------------------------------------------------------------- URL parsing
# parse_url URL DEFAULT_PORT: sets U_USER U_PASS U_HOST (no brackets) U_PORT
# U_DB (percent-decoded path without the leading slash) and U_SCHEME.
urldecode() {
  local s=${1//\\/\\\\} # keep backslashes literal for %b
  printf '%b' "${s//%/\\x}"
}
parse_url() {
  local url=$1 rest authority userinfo hostport
  [[ "$url" == *://* ]] || die "not a URL: $url"
  U_SCHEME=${url%%://*}
  rest=${url#*://}
  authority=${rest%%[/?#]*}
  rest=${rest:${#authority}}
  U_USER='' U_PASS=''
  if [[ "$authority" == *@* ]]; then
    userinfo=${authority%@*}
    hostport=${authority##*@}
    U_USER=$(urldecode "${userinfo%%:*}")
    [[ "$userinfo" != *:* ]] || U_PASS=$(urldecode "${userinfo#*:}")
  else
    hostport=$authority
  fi
  if [[ "$hostport" == \[* ]]; then # [v6]:port
    U_HOST=${hostport%%]*}
    U_HOST=${U_HOST#[}
    hostport=${hostport#*]}
    U_PORT=${hostport#:}
  elif [[ "$hostport" == *:* ]]; then
    U_HOST=${hostport%%:*}
    U_PORT=${hostport#*:}
  else
    U_HOST=$hostport U_PORT=''
  fi
  U_HOST=${U_HOST:-localhost}
  U_PORT=${U_PORT:-$2}
  [[ "$U_PORT" =~ ^[0-9]+$ ]] || die "bad port in $url"
  rest=${rest#/}
  U_DB=$(urldecode "${rest%%[?#]*}")
}

is_local_host() {
  case "$1" in
  localhost | ::1 | 127.*) return 0 ;;
  *) return 1 ;;
  esac
}
hostport() { if [[ "$1" == *:* ]]; then printf '[%s]:%s' "$1" "$2"; else printf '%s:%s' "$1" "$2"; fi; }

# ---------------------------------------------------------------- probes
# Each probe prints one of: ready | starting | down | foreign | auth.
# shellcheck disable=SC2016 # the inner scripts get their values as arguments
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

who_listens() { # best effort: "users:(("nginx",pid=12,fd=6))"
  have ss || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n1 || true
}

# PostgreSQL wire protocol over bash /dev/tcp: send a StartupMessage (protocol
# 3.0, user=postgres database=postgres) and read the first reply byte: 'R' (auth
# request) or an 'E' other than 57P03 means it accepts connections (as
# pg_isready counts it), 'E' 57P03 means starting or shutting down.
pg_wire_probe() {
  # shellcheck disable=SC2016
  timeout 4 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || { echo down; exit 0; }
    printf "\x00\x00\x00\x29\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00\x00" >&3
    IFS= read -r -N1 -t 2 kind <&3 || { echo foreign; exit 0; }
    case $kind in
      R) printf "X\x00\x00\x00\x04" >&3; echo ready ;;
      E) if tr "\0" "\n" <&3 | grep -qx C57P03; then echo starting; else echo ready; fi ;;
      *) echo foreign ;;
    esac' "$1" "$2" 2>/dev/null || echo foreign
}

PG_BIN_LATEST='' # newest /usr/lib/postgresql/<ver>/bin (Debian/Ubuntu layout)
find_pg_bin() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [[ ! -x "$d/pg_ctl" && ! -x "$d/psql" ]] || PG_BIN_LATEST=$d
  done
}
find_pg_bin
pg_tool() { # path of a PostgreSQL client program, skipping Debian's slow pg_wrapper
  if [[ -n "$PG_BIN_LATEST" && -x "$PG_BIN_LATEST/$1" ]]; then
    printf '%s' "$PG_BIN_LATEST/$1"
  else
    command -v "$1" 2>/dev/null
  fi
}

pg_probe() { # host port
  local isready rc=0
  if isready=$(pg_tool pg_isready); then
    "$isready" -q -t 2 -h "$1" -p "$2" -U "${U_USER:-postgres}" -d postgres || rc=$?
    case $rc in
    0) echo ready ;;
    1) echo starting ;;
    *) if tcp_open "$1" "$2"; then echo foreign; else echo down; fi ;;
    esac
    return 0
  fi
  pg_wire_probe "$1" "$2"
}

redis_wire_probe() { # host port user pass
  local auth='' a args=()
  if [[ -n "$4" ]]; then # RESP: *<n> then $<len> <arg> for AUTH [user] pass
    args=(AUTH ${3:+"$3"} "$4")
    auth="*${#args[@]}"$'\r\n'
    for a in "${args[@]}"; do auth+="\$${#a}"$'\r\n'"$a"$'\r\n'; done
  fi
  # shellcheck disable=SC2016
  timeout 4 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || { echo down; exit 0; }
    if [[ -n $2 ]]; then
      printf "%s" "$2" >&3
      IFS= read -r -t 2 line <&3 || { echo foreign; exit 0; }
    fi
    printf "PING\r\n" >&3
    IFS= read -r -t 2 line <&3 || { echo foreign; exit 0; }
    case ${line%$'\''\r'\''} in
      +PONG) echo ready ;;
      -LOADING*) echo starting ;;
      -NOAUTH* | -WRONGPASS* | -ERR*AUTH* | -ERR*assword*) echo auth ;;
      *) echo foreign ;;
    esac' "$1" "$2" "$auth" 2>/dev/null || echo foreign
}

redis_probe() { # host port user pass
  local out
  if [[ "$U_SCHEME" == rediss ]]; then # TLS: only check that the port is open
    if tcp_open "$1" "$2"; then echo ready; else echo down; fi
    return
  fi
  if have redis-cli; then
    out=$(timeout 3 redis-cli -h "$1" -p "$2" ${3:+--user "$3"} ${4:+-a "$4"} --no-auth-warning ping 2>&1) || true
    case $out in
    PONG) echo ready && return ;;
    *LOADING*) echo starting && return ;;
    *NOAUTH* | *WRONGPASS* | *"AUTH failed"*) echo auth && return ;;
    *"Connection refused"* | *"Could not connect"*) echo down && return ;;
    esac
  fi
  redis_wire_probe "$@"
}

# wait_ready SECS PROBE ARGS...: poll until the probe says ready; prints the
# last state; fails when it is not ready after SECS. "foreign" is polled too: a
# proxy (docker-proxy, a load balancer) accepts connections before the server
# behind it answers.
wait_ready() {
  local state deadline=$((SECONDS + $1))
  shift
  while :; do
    state=$("$@")
    if [[ "$state" =~ ^(ready|auth|dead)$ ]] || ((SECONDS >= deadline)); then break; fi
    sleep 0.25
  done
  printf '%s' "$state"
  [[ "$state" == ready ]]
}

# ---------------------------------------------------------------- helpers
WHAT=''      # what a start function started, for the status line
PG_PRIVATE=0 # 1 once the private cluster in .demo/pg has been started
PG_CLUSTER='' # "<ver> <name>" of a packaged cluster this run started or installed
SUDO=()
need_root() { # need_root WHAT: set SUDO for a root-only command, or fail
  [[ $EUID -ne 0 ]] || return 0
  if have sudo && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  elif have sudo && [[ -t 0 ]]; then
    SUDO=(sudo)
  else
    return 1
  fi
}

apt_install() { # packages...
  local log rc=0
  have apt-get || die "$* not installed and no apt-get here; install $* yourself"
  need_root || die "$* not installed; need root or sudo to run apt-get install $*"
  log=$(mktemp)
  note "services.sh: installing $* with apt-get (log: $log)"
  nolock "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    rc=0
    nolock "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 || true
    nolock "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1 || rc=$?
  fi
  if [[ $rc -ne 0 ]]; then
    tail -n 15 "$log" >&2
    die "apt-get install $* failed (full log: $log)"
  fi
  rm -f "$log"
}

# Serialize the slow path between concurrent runs (test.sh and demo.sh at once).
# The lock is fd 9; nolock runs a command without it, so that daemons it
# leaves behind (postgres, redis-server, services started by apt) do not hold it.
nolock() { "$@" 9>&-; }
# take_lock returns 1 when it had to wait (so the caller should probe again).
LOCKED=0
take_lock() {
  local lock="${TMPDIR:-/tmp}/hejie-services.$EUID.lock"
  [[ $LOCKED == 0 ]] || return 0
  LOCKED=1
  have flock || return 0
  exec 9>"$lock"
  flock -n 9 && return 0
  note "services.sh: waiting for another services.sh run (lock $lock)"
  flock -w 300 9 || die "could not get the lock $lock in 300s"
  return 1
}

# ---------------------------------------------------------------- PostgreSQL
# Runs a command as the owner of the private cluster: ourselves, or user
# postgres when root (initdb and postgres refuse to run as root).
PG_RUNAS=''
as_pg_owner() {
  if [[ -z "$PG_RUNAS" ]]; then
    "$@"
  elif have runuser; then
    (cd / && runuser -u "$PG_RUNAS" -- "$@")
  else
    (cd / && su -s /bin/sh "$PG_RUNAS" -c "$(printf '%q ' "$@")")
  fi
}

pg_server_bindir() { # [major]: directory with initdb, pg_ctl and postgres
  local d dirs=()
  if [[ -n "${1:-}" ]]; then
    dirs=("/usr/lib/postgresql/$1/bin")
  else
    mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
    d=$(command -v pg_ctl 2>/dev/null) && dirs+=("$(dirname "$(readlink -f "$d")")")
  fi
  for d in "${dirs[@]}"; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
      printf '%s' "$d"
      return 0
    fi
  done
  return 1
}

# The packaged cluster configured for port $1, as "<ver> <name>", if any.
pg_packaged_cluster() {
  local conf port ver name
  for conf in /etc/postgresql/*/*/postgresql.conf; do
    [[ -r "$conf" ]] || continue
    port=$(sed -n 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$conf" | tail -n1)
    [[ "${port:-5432}" == "$1" ]] || continue
    name=$(basename "$(dirname "$conf")")
    ver=$(basename "$(dirname "$(dirname "$conf")")")
    printf '%s %s' "$ver" "$name"
    return 0
  done
  return 1
}

# Start the packaged cluster for port $1; sets WHAT to "packaged cluster <ver>/<name>".
pg_start_packaged() {
  local cluster ver name
  cluster=$(pg_packaged_cluster "$1") || return 1
  have pg_ctlcluster || return 1
  read -r ver name <<<"$cluster"
  need_root || return 1
  nolock "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >/dev/null 2>&1 || return 1
  WHAT="packaged cluster $ver/$name"
  PG_CLUSTER="$ver $name"
}

# Runs a command as the system user postgres (root, or sudo set by need_root).
as_postgres_sys() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "${SUDO[@]}" -u postgres "$@")
  fi
}

# For a packaged cluster that this run started or installed (never one that was
# already running): Debian's pg_hba.conf wants a password over TCP and the URL's
# role may not exist, so the password-less default URL would be refused. Make it
# work as on the project's machines: create the role (over the socket, as
# postgres) and trust it from 127.0.0.1 and ::1 in that cluster's pg_hba.conf.
pg_packaged_access() { # host port
  local ver name hba out psql user=$U_USER q=\" a=\'
  out=$(pg_sql "$1" "$2" postgres 'select 1') && return 0
  case $out in
  *"authentication failed"* | *"no password supplied"* | *"no pg_hba.conf entry"* | *"role \"$user\" does not exist"*) ;;
  *) return 0 ;; # pg_ensure_db reports anything else
  esac
  read -r ver name <<<"$PG_CLUSTER"
  hba="/etc/postgresql/$ver/$name/pg_hba.conf"
  psql=$(pg_tool psql) || return 0
  need_root || return 0
  as_postgres_sys "$psql" -X -q -w -p "$2" -d postgres -c "do \$\$ begin if not exists (select from pg_roles where rolname = ${a}${user//$a/$a$a}${a}) then create role ${q}${user//$q/$q$q}${q} login superuser; end if; end \$\$" >/dev/null ||
    die "postgres: could not create role $user in packaged cluster $ver/$name"
  if ! "${SUDO[@]}" grep -qxF "host all \"$user\" 127.0.0.1/32 trust" "$hba"; then
    "${SUDO[@]}" sed -i "1i # added by scripts/services.sh (hejie): the password-less DATABASE_URL\nhost all \"$user\" 127.0.0.1/32 trust\nhost all \"$user\" ::1/128 trust" "$hba" ||
      die "postgres: could not edit $hba"
    "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >/dev/null 2>&1 ||
      die "postgres: pg_ctlcluster $ver $name reload failed"
    WHAT+="; trusts $user from 127.0.0.1 and ::1 in $hba"
  fi
  for _ in $(seq 20); do # the reload takes a moment
    out=$(pg_sql "$1" "$2" postgres 'select 1') && return 0
    sleep 0.25
  done
}

# Start (initializing it first if needed) the private cluster in .demo/pg on
# port $1; sets WHAT to a description. Returns 1 when there are no server
# programs; dies on any other failure.
PG_DIR="$DEMO_DIR/pg"
PG_LOG="$DEMO_DIR/pg.log"
pg_start_private() {
  local port=$1 bindir major='' running_port
  if [[ -s "$PG_DIR/PG_VERSION" ]]; then
    major=$(<"$PG_DIR/PG_VERSION")
    bindir=$(pg_server_bindir "$major") || die "$(rel "$PG_DIR") was made by PostgreSQL $major, whose server programs are not installed; remove $(rel "$PG_DIR")"
  else
    bindir=$(pg_server_bindir) || return 1
  fi
  if [[ $EUID -eq 0 ]]; then
    getent passwd postgres >/dev/null || die "running as root and there is no user postgres to own the private cluster (initdb refuses root)"
    PG_RUNAS=postgres
  fi
  mkdir -p "$DEMO_DIR"
  if [[ -z "$major" ]]; then
    if [[ -d "$PG_DIR" && -n "$(ls -A "$PG_DIR")" ]]; then
      die "$(rel "$PG_DIR") exists but holds no cluster (a failed initdb?); remove it and rerun"
    fi
    mkdir -p "$PG_DIR"
    chmod 700 "$PG_DIR"
    [[ -z "$PG_RUNAS" ]] || chown "$PG_RUNAS" "$PG_DIR"
    as_pg_owner test -w "$PG_DIR" ||
      die "user $PG_RUNAS cannot write $(rel "$PG_DIR") (is $REPO readable by it?)"
    as_pg_owner "$bindir/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
      >"$DEMO_DIR/initdb.log" 2>&1 || {
      tail -n 15 "$DEMO_DIR/initdb.log" >&2
      die "initdb $(rel "$PG_DIR") failed (log: $(rel "$DEMO_DIR/initdb.log"))"
    }
  fi
  touch "$PG_LOG"
  [[ -z "$PG_RUNAS" ]] || chown "$PG_RUNAS" "$PG_LOG"
  if as_pg_owner "$bindir/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    running_port=$(sed -n 4p "$PG_DIR/postmaster.pid" 2>/dev/null || true)
    die "the private cluster $(rel "$PG_DIR") already runs, on port ${running_port:-?}, not $port; stop it: pg_ctl -D $(rel "$PG_DIR") stop"
  fi
  # The default listen_addresses (localhost) covers 127.0.0.1 and ::1.
  local opts="-p $port -k /tmp"
  [[ "$U_HOST" == 127.0.0.1 || ! "$U_HOST" =~ ^127\. ]] || opts+=" -h $U_HOST"
  nolock as_pg_owner "$bindir/pg_ctl" -D "$PG_DIR" -o "$opts" -l "$PG_LOG" -w -t "$WAIT_SECS" start >/dev/null 2>&1 || {
    tail -n 15 "$PG_LOG" >&2
    die "postgres: pg_ctl start of $(rel "$PG_DIR") on port $port failed (log: $(rel "$PG_LOG"))"
  }
  WHAT="private cluster $(rel "$PG_DIR"), log $(rel "$PG_LOG")"
  PG_PRIVATE=1
}

# The private cluster's superuser is postgres; give the URL's user a role.
pg_private_role() {
  local user=$U_USER out q=\" a=\'
  U_USER=postgres
  out=$(pg_sql "$U_HOST" "$U_PORT" postgres "do \$\$ begin if not exists (select from pg_roles where rolname = ${a}${user//$a/$a$a}${a}) then create role ${q}${user//$q/$q$q}${q} login superuser; end if; end \$\$") ||
    die "postgres: could not create role $user in the private cluster: $out"
  U_USER=$user
}

# Run SQL ($4) against database $3 as the URL's user; prints the output, or
# the error on failure. Uses psql, else node with the pg package.
pg_sql() { # host port db sql
  local psql
  if psql=$(pg_tool psql); then
    PGPASSWORD="$U_PASS" PGCONNECT_TIMEOUT=5 "$psql" -X -q -w -A -t -v ON_ERROR_STOP=1 \
      -h "$1" -p "$2" -U "$U_USER" -d "$3" -c "$4" 2>&1
  elif have node && [[ -d "$REPO/node_modules/pg" ]]; then
    # shellcheck disable=SC2016 # JavaScript template string, not shell
    H="$1" P="$2" D="$3" Q="$4" PGU="$U_USER" PGW="$U_PASS" NODE_PATH="$REPO/node_modules" node -e '
      const { Client } = require("pg");
      const e = process.env;
      const c = new Client({ host: e.H, port: +e.P, database: e.D, user: e.PGU, password: e.PGW, connectionTimeoutMillis: 5000 });
      c.connect().then(() => c.query(e.Q)).then((r) => { for (const row of r.rows || []) console.log(Object.values(row).join("|")); return c.end(); })
        .catch((err) => { console.log(`${err.code || ""} ${err.message}`); process.exit(1); });' 2>&1
  else
    return 99
  fi
}

# Create the URL's database when it does not exist. Prints a note for the
# status line ("created database hejie") or nothing.
pg_ensure_db() { # host port
  local out rc=0 q=\" a=\'
  [[ -n "$U_DB" ]] || return 0
  out=$(pg_sql "$1" "$2" "$U_DB" 'select 1') || rc=$?
  [[ $rc -ne 0 ]] || return 0
  [[ $rc -ne 99 ]] || return 0 # neither psql nor node+pg: cannot check
  if [[ "$out" != *"database \"$U_DB\" does not exist"* ]]; then
    [[ "$out" != *password* && "$out" != *pg_hba* ]] ||
      out+=" (put the password in DATABASE_URL, or allow ${U_USER} in that server's pg_hba.conf)"
    die "postgres: $(hostport "$1" "$2") answers but connecting as ${U_USER} to database $U_DB fails: $out"
  fi
  out=$(pg_sql "$1" "$2" postgres "create database ${q}${U_DB//$q/$q$q}${q}") ||
    out=$(pg_sql "$1" "$2" postgres "select 1 from pg_database where datname = ${a}${U_DB//$a/$a$a}${a}") ||
    die "postgres: database $U_DB does not exist and creating it failed: $out"
  printf '; created database %s' "$U_DB"
}

ensure_postgres() {
  local host port state how='' installed='' shown created detail
  parse_url "$DATABASE_URL" 5432
  U_USER=${U_USER:-postgres}
  host=$U_HOST port=$U_PORT
  shown=$(hostport "$host" "$port")

  state=$(pg_probe "$host" "$port")
  if [[ "$state" == ready ]]; then
    created=$(pg_ensure_db "$host" "$port")
    say "postgres: using $shown (already running$created)"
    return 0
  fi
  if ! is_local_host "$host"; then
    state=$(wait_ready "$WAIT_SECS" pg_probe "$host" "$port") ||
      die "postgres: $shown (from DATABASE_URL) does not answer ($state) after ${WAIT_SECS}s; it is not local, so not starting one"
    created=$(pg_ensure_db "$host" "$port")
    say "postgres: using $shown (answered after waiting$created)"
    return 0
  fi

  take_lock || state=$(pg_probe "$host" "$port") # another run may have started it
  case $state in
  ready | starting) how="already running" ;;
  foreign) # give a proxy in front of a starting server a few seconds
    state=$(wait_ready 5 pg_probe "$host" "$port") ||
      die "postgres: $shown is in use by something that is not PostgreSQL $(who_listens "$port"); free the port or change DATABASE_URL"
    how="already running"
    ;;
  down)
    if pg_start_packaged "$port" || pg_start_private "$port"; then
      how=started
    else
      apt_install postgresql
      find_pg_bin
      installed="installed and "
      if [[ "$(pg_probe "$host" "$port")" =~ ^(ready|starting)$ ]]; then
        WHAT="packaged cluster, started by the package"
        PG_CLUSTER=$(pg_packaged_cluster "$port") || PG_CLUSTER=''
      elif ! pg_start_packaged "$port" && ! pg_start_private "$port"; then
        die "postgres: installed postgresql but found no initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin"
      fi
      how="${installed}started"
    fi
    ;;
  esac
  state=$(wait_ready "$WAIT_SECS" pg_probe "$host" "$port") || {
    [[ "$PG_PRIVATE" == 0 ]] || tail -n 15 "$PG_LOG" >&2
    die "postgres: $how ${WHAT:+($WHAT) }but $shown does not answer after ${WAIT_SECS}s (state: $state)"
  }
  [[ "$PG_PRIVATE" == 0 || "$U_USER" == postgres ]] || pg_private_role
  [[ -z "$PG_CLUSTER" ]] || pg_packaged_access "$host" "$port"
  created=$(pg_ensure_db "$host" "$port")
  if [[ "$how" == "already running" ]]; then # started meanwhile by another run
    say "postgres: using $shown (already running$created)"
  else
    detail="$WHAT$created"
    say "postgres: $how $shown${detail:+ ($detail)}"
  fi
}

# ---------------------------------------------------------------- Redis
redis_start() { # host port
  local host=$1 port=$2 bind=() log="$DEMO_DIR/redis-$2.log" major
  case $host in
  localhost)
    bind=(127.0.0.1)
    major=$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9]*\).*/\1/p')
    [[ "${major:-0}" -lt 7 ]] || bind+=(-::1) # "-": optional, if IPv6 is there
    ;;
  *) bind=("$host") ;;
  esac
  mkdir -p "$DEMO_DIR"
  local args=(--daemonize yes --bind "${bind[@]}" --port "$port" --save "" --appendonly no
    --dir "$DEMO_DIR" --logfile "$log" --pidfile "$DEMO_DIR/redis-$port.pid")
  [[ -z "$U_PASS" ]] || args+=(--requirepass "$U_PASS")
  : >"$log"
  REDIS_LOG=$log
  nolock redis-server "${args[@]}" >/dev/null 2>&1 || {
    [[ ! -s "$log" ]] || tail -n 15 "$log" >&2
    die "redis: redis-server on port $port failed to start (log: $(rel "$log"))"
  }
  WHAT="redis-server, log $(rel "$log")"
}

# Like redis_probe, but "dead" once the redis-server we started logged that it
# gave up (it daemonizes before it binds, so its exit status tells nothing).
REDIS_LOG=''
redis_started_probe() {
  if [[ -n "$REDIS_LOG" ]] && grep -qE 'aborting|Fatal|FATAL|Bad directive' "$REDIS_LOG" 2>/dev/null; then
    echo dead
  else
    redis_probe "$@"
  fi
}

ensure_redis() {
  local host port state how='' shown
  parse_url "$REDIS_URL" 6379
  host=$U_HOST port=$U_PORT
  shown=$(hostport "$host" "$port")
  local probe=(redis_probe "$host" "$port" "$U_USER" "$U_PASS")

  state=$("${probe[@]}")
  case $state in
  ready)
    say "redis: using $shown (already running)"
    return 0
    ;;
  auth) die "redis: $shown answers but refuses the credentials in REDIS_URL" ;;
  esac
  if ! is_local_host "$host"; then
    state=$(wait_ready "$WAIT_SECS" "${probe[@]}") ||
      die "redis: $shown (from REDIS_URL) does not answer ($state) after ${WAIT_SECS}s; it is not local, so not starting one"
    say "redis: using $shown (answered after waiting)"
    return 0
  fi

  take_lock || state=$("${probe[@]}")
  case $state in
  ready | starting) how="already running" ;;
  auth) die "redis: $shown answers but refuses the credentials in REDIS_URL" ;;
  foreign)
    state=$(wait_ready 5 "${probe[@]}") ||
      die "redis: $shown is in use by something that is not Redis $(who_listens "$port"); free the port or change REDIS_URL"
    how="already running"
    ;;
  down)
    how=started
    if ! have redis-server; then
      apt_install redis-server
      how="installed and started"
    fi
    # The package may have started its own server on this port.
    if [[ "$how" == started || ! "$("${probe[@]}")" =~ ^(ready|starting)$ ]]; then
      redis_start "$host" "$port"
    else
      WHAT="started by the package"
    fi
    ;;
  esac
  state=$(wait_ready "$WAIT_SECS" redis_started_probe "${probe[@]:1}") || {
    [[ -z "$REDIS_LOG" ]] || tail -n 5 "$REDIS_LOG" >&2
    [[ "$state" != dead ]] || die "redis: redis-server on $shown exited at once (log: $(rel "$REDIS_LOG"))"
    die "redis: $how ${WHAT:+($WHAT) }but $shown does not answer after ${WAIT_SECS}s (state: $state)"
  }
  if [[ "$how" == "already running" ]]; then
    say "redis: using $shown (already running)"
  else
    say "redis: $how $shown${WHAT:+ ($WHAT)}"
  fi
}

ensure_postgres
ensure_redis
