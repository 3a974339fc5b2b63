#!/usr/bin/env bash
# scripts/topology.sh up|down|env DIR — the multi-machine topology of DESIGN.md ("Scale"), on one
# machine, with Debian's packages, on free local ports:
#   - PostgreSQL primary + a streaming replica (pg_basebackup -R), two clusters on two ports;
#   - Redis Cluster: three masters and three replicas (cluster-replicas 1), so a master can be
#     killed and its replica fails over;
#   - HAProxy in front of two API processes (the API processes are started by the caller: the
#     test suite spawns them on the ports written to DIR/env as API1_PORT / API2_PORT).
# `up` writes DIR/env (shell variables: ports, URLs) and prints it; `down` stops everything that
# `up` started in DIR and removes DIR. Nothing is kept outside DIR. Runs as root (servers run as
# the `postgres` / `redis` users, DIR is made world-traversable) or as an ordinary user.
set -euo pipefail
cmd=${1:?usage: topology.sh up|down|env DIR}
DIR=${2:?usage: topology.sh up|down|env DIR}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_redis() { if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then runuser -u redis -- "$@"; else "$@"; fi; }

# A free TCP port on 127.0.0.1 below 55000 (a Redis Cluster node also listens on port + 10000).
free_port() {
  node -e 'const net=require("net");(function t(){const p=20000+Math.floor(Math.random()*35000);
    const s=net.createServer().once("error",t).listen(p,"127.0.0.1",()=>{s.close(()=>console.log(p))})})()'
}

need() {
  local missing=()
  [ -x "$PGBIN/pg_basebackup" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  command -v haproxy >/dev/null || missing+=(haproxy)
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q "${missing[@]}" >/dev/null
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
}

up() {
  need
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  local pg1 pg2 r ports=() api1 api2 lb
  pg1=$(free_port) pg2=$(free_port)
  for _ in 1 2 3 4 5 6; do ports+=("$(free_port)"); done
  api1=$(free_port) api2=$(free_port) lb=$(free_port)

  # PostgreSQL primary: trust on loopback (a throwaway test cluster), replication allowed.
  mkdir -p "$DIR/pg1" "$DIR/pg2" "$DIR/pglog" "$DIR/redis"
  [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg1" "$DIR/pg2" "$DIR/pglog"
  as_pg "$PGBIN/initdb" -D "$DIR/pg1" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$DIR/pg1/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg1
unix_socket_directories = '$DIR/pglog'
wal_level = replica
max_wal_senders = 5
hot_standby = on
max_connections = 200
fsync = off
EOF
  echo "host replication postgres 127.0.0.1/32 trust" >> "$DIR/pg1/pg_hba.conf"
  as_pg "$PGBIN/pg_ctl" -D "$DIR/pg1" -l "$DIR/pglog/pg1.log" -w start >/dev/null
  # The replica: a base backup that writes standby.signal and primary_conninfo (-R).
  as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$pg1" -U postgres -D "$DIR/pg2" -R -X stream >/dev/null
  sed -i "s/^port = $pg1/port = $pg2/" "$DIR/pg2/postgresql.conf"
  chmod 700 "$DIR/pg2"
  as_pg "$PGBIN/pg_ctl" -D "$DIR/pg2" -l "$DIR/pglog/pg2.log" -w start >/dev/null

  # Redis Cluster: six nodes, nothing persisted but the cluster config (in DIR).
  [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1 && chown redis: "$DIR/redis"
  for p in "${ports[@]}"; do
    as_redis redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$DIR/redis/nodes-$p.conf" --cluster-node-timeout 2000 \
      --save '' --appendonly no --dir "$DIR/redis" --daemonize yes \
      --pidfile "$DIR/redis/$p.pid" --logfile "$DIR/redis/$p.log"
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 \
    --cluster-yes >"$DIR/redis/create.log"
  for _ in $(seq 1 100); do
    redis-cli -p "${ports[0]}" cluster info | grep -q 'cluster_state:ok' && break
    sleep 0.1
  done

  # HAProxy: round robin over the two API processes, health-checked on /health.
  cat > "$DIR/haproxy.cfg" <<EOF
global
  pidfile $DIR/haproxy.pid
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch
frontend api
  bind 127.0.0.1:$lb
  default_backend apis
backend apis
  balance roundrobin
  option httpchk GET /health
  default-server inter 500ms fall 2 rise 1
  server api1 127.0.0.1:$api1 check
  server api2 127.0.0.1:$api2 check
EOF
  haproxy -f "$DIR/haproxy.cfg" -D

  cat > "$DIR/env" <<EOF
PRIMARY_PORT=$pg1
REPLICA_PORT=$pg2
DATABASE_URL=postgres://postgres@127.0.0.1:$pg1/postgres
DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:$pg2/postgres
REDIS_CLUSTER_NODES=$(IFS=,; printf '127.0.0.1:%s' "${ports[0]}"; for p in "${ports[@]:1}"; do printf ',127.0.0.1:%s' "$p"; done)
REDIS_PORTS="${ports[*]}"
API1_PORT=$api1
API2_PORT=$api2
LB_PORT=$lb
PGBIN=$PGBIN
EOF
  cat "$DIR/env"
}

down() {
  [ -d "$DIR" ] || return 0
  [ -f "$DIR/haproxy.pid" ] && kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
  for f in "$DIR"/redis/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  for d in pg2 pg1; do
    [ -f "$DIR/$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$DIR/$d" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$DIR"
}

case "$cmd" in
up) up ;;
down) down ;;
env) cat "$DIR/env" ;;
*) echo "usage: topology.sh up|down|env DIR" >&2; exit 2 ;;
esac
