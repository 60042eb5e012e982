#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for benchmarks and manual runs: the shell twin of
# tests/integration/pg_server.{h,cc}, with the same settings. initdb + pg_ctl (Debian's
# /usr/lib/postgresql/15/bin) in DIR, listening on 127.0.0.1 only, unix socket in DIR (never the
# system's /var/run/postgresql, never the Debian "main" cluster); wal_level=logical,
# max_wal_senders=10, max_replication_slots=10, fsync on, shared_buffers=32MB,
# max_connections=50; trust for local socket connections, scram-sha-256 over TCP; superuser
# postgres / secret; a database `dataforge`. As root the server runs as the `postgres` user.
#
#   pg_throwaway.sh start DIR [PORT]   create DIR, start a server in it (PORT: a free one),
#                                      print its URL postgresql://postgres:secret@127.0.0.1:PORT/dataforge
#   pg_throwaway.sh stop DIR           stop it (pg_ctl stop -m immediate) and remove DIR
#   pg_throwaway.sh psql DIR SQL...    run each SQL (psql -c; "-" reads a script from stdin)
#                                      against `dataforge` over TCP as postgres; -A -t output
#
# PG_THROWAWAY_CONF: extra postgresql.conf lines for `start` (newline-separated).
# DIR's parents must be traversable by the postgres user (e.g. under /tmp, not under /root).
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
PASSWORD=secret

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR | psql DIR SQL..." >&2
  exit 2
}

die() {
  echo "pg_throwaway: $*" >&2
  exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a server tool as the cluster's owner, in DIR (the tools complain about an unreadable cwd).
as_owner() {
  if is_root; then
    runuser -u postgres -- env -C "$DIR" "$@"
  else
    env -C "$DIR" "$@"
  fi
}

# A port that was free on 127.0.0.1 a moment ago.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    local p
    for _ in $(seq 1 50); do
      p=$((20000 + RANDOM % 12000))
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "$p"
        return
      fi
    done
    die "no free port found"
  fi
}

# The settings; `port` last. Included from postgresql.conf, rewritten on every start attempt.
write_conf() {
  {
    echo "# the throwaway server's settings (tests/tools/pg_throwaway.sh)"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$DIR'"
    echo "wal_level = logical"
    echo "max_wal_senders = 10"
    echo "max_replication_slots = 10"
    echo "fsync = on"
    echo "shared_buffers = 32MB"
    echo "max_connections = 50"
    if [[ -n ${PG_THROWAWAY_CONF:-} ]]; then printf '%s\n' "$PG_THROWAWAY_CONF"; fi
    echo "port = $1"
  } >"$DIR/data/throwaway.conf"
  chmod 0644 "$DIR/data/throwaway.conf"
}

cmd_start() {
  local want_port=${1:-}
  if [[ -n $want_port && ! $want_port =~ ^[0-9]+$ ]]; then usage; fi
  if [[ -e $DIR && -n $(ls -A "$DIR") ]]; then die "$DIR exists and is not empty"; fi
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  chmod 0755 "$DIR"
  if is_root; then
    chown postgres:postgres "$DIR"
    runuser -u postgres -- test -w "$DIR" ||
      die "the postgres user cannot reach $DIR (put it under /tmp)"
  fi

  # initdb insists on a superuser password when TCP connections use scram-sha-256.
  echo "$PASSWORD" >"$DIR/pwfile"
  chmod 0644 "$DIR/pwfile"
  if ! as_owner "$BIN/initdb" -D "$DIR/data" --no-sync -U postgres --pwfile="$DIR/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1; then
    rm -f "$DIR/pwfile"
    cat "$DIR/initdb.log" >&2
    die "initdb failed in $DIR"
  fi
  rm -f "$DIR/pwfile"
  echo "include 'throwaway.conf'" >>"$DIR/data/postgresql.conf"

  # A free port may be taken before the postmaster binds it: retry (only when we chose it).
  local port attempts=1 log_lines new_log
  if [[ -z $want_port ]]; then attempts=3; fi
  for ((i = 1; i <= attempts; i++)); do
    port=${want_port:-$(free_port)}
    write_conf "$port"
    log_lines=0
    if [[ -f $DIR/server.log ]]; then log_lines=$(wc -l <"$DIR/server.log"); fi
    if as_owner "$BIN/pg_ctl" start -w -t 60 -s -D "$DIR/data" -l "$DIR/server.log" >&2; then
      break
    fi
    new_log=$(tail -n +"$((log_lines + 1))" "$DIR/server.log" 2>/dev/null || true)
    if ((i == attempts)) || [[ $new_log != *"Address already in use"* ]]; then
      echo "--- $DIR/server.log (tail):" >&2
      printf '%s\n' "$new_log" | tail -n 40 >&2
      die "PostgreSQL did not start on port $port in $DIR"
    fi
  done
  echo "$port" >"$DIR/port"

  "$BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE dataforge" >&2
  echo "postgresql://postgres:$PASSWORD@127.0.0.1:$port/dataforge"
}

cmd_stop() {
  if [[ ! -e $DIR ]]; then
    echo "pg_throwaway: $DIR does not exist; nothing to stop" >&2
    return 0
  fi
  # Never rm -rf a directory that is not one of ours.
  [[ -f $DIR/data/throwaway.conf || -f $DIR/initdb.log ]] ||
    die "$DIR is not a pg_throwaway.sh directory; not removing it"
  DIR=$(cd "$DIR" && pwd)
  if [[ -f $DIR/data/postmaster.pid ]]; then
    if ! as_owner "$BIN/pg_ctl" stop -m immediate -w -t 30 -s -D "$DIR/data" >&2; then
      # Not running (it crashed): remove its SysV shared memory segment (line 7 of
      # postmaster.pid: key and id) if nothing is attached, or it leaks.
      local shmid
      shmid=$(sed -n '7{s/^ *[0-9]* *//;p}' "$DIR/data/postmaster.pid")
      if [[ $shmid =~ ^[0-9]+$ && $(ipcs -m -i "$shmid" 2>/dev/null || true) == *"nattch=0"* ]]; then
        ipcrm -m "$shmid" || true
      fi
    fi
  fi
  rm -rf "$DIR"
}

cmd_psql() {
  [[ -f $DIR/port ]] || die "no server in $DIR (pg_throwaway.sh start it first)"
  local args=()
  for sql in "$@"; do
    if [[ $sql == - ]]; then args+=(-f -); else args+=(-c "$sql"); fi
  done
  PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=10 "$BIN/psql" -X -q -A -t -w -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$(cat "$DIR/port")" -U postgres -d dataforge "${args[@]}"
}

(($# >= 2)) || usage
CMD=$1
DIR=$2
[[ -n $DIR ]] || usage
shift 2
case $CMD in
  start)
    (($# <= 1)) || usage
    cmd_start "$@"
    ;;
  stop)
    (($# == 0)) || usage
    cmd_stop
    ;;
  psql)
    (($# >= 1)) || usage
    cmd_psql "$@"
    ;;
  *) usage ;;
esac
