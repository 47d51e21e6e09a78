#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests.
#
# Usage: scripts/postgres.sh start DIR   initializes a cluster in DIR (which must not exist or
#                                         be empty) and starts it; prints one line on stdout,
#                                         the libpq connection string, e.g.
#                                         host=127.0.0.1 port=55432 dbname=capstan_test user=postgres
#        scripts/postgres.sh stop DIR    stops that server and removes DIR
#
# The server listens on 127.0.0.1 only, on the first free port from 55432 up, with its unix
# socket in DIR and no password (trust); database capstan_test, superuser postgres. fsync is
# off: nothing here is meant to survive a crash. Everything but the connection string goes to
# stderr; the server log is DIR/server.log.
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` system user
# (from Debian's postgresql package) and the commands run through runuser. Binaries come from
# /usr/lib/postgresql/15/bin unless PG_BIN says otherwise.
#
# Example:  export CAPSTAN_TEST_POSTGRES="$(scripts/postgres.sh start /tmp/capstan-pg)"
#           ...; scripts/postgres.sh stop /tmp/capstan-pg
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
FIRST_PORT=55432
PORT_TRIES=100
TIMEOUT=30  # seconds pg_ctl waits for start or stop
MARKER=.capstan-postgres  # only a folder holding this is ever removed by stop

die() { echo "postgres.sh: $*" >&2; exit 1; }

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }

# Runs a command as the cluster's owner.
as_owner() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
  # Without ss: something accepting connections there.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local dir=$1
  [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
    die "no PostgreSQL in $PG_BIN (install the postgresql package: scripts/install-deps.sh)"
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir" 2>/dev/null) ]]; then
    die "$dir exists and is not empty (stop it first: $0 stop $dir)"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  touch "$dir/$MARKER"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres system user (postgresql package)"
    chown postgres: "$dir" "$dir/$MARKER"
    runuser -u postgres -- test -w "$dir" ||
      die "user postgres cannot write to $dir (a parent folder is closed to it); use e.g. /tmp/capstan-pg"
  fi
  cd /  # the owner may not be allowed into the current folder

  as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >&2 ||
    die "initdb failed"
  cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/postgres.sh: a throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
timezone = 'UTC'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  local port started=""
  for ((port = FIRST_PORT; port < FIRST_PORT + PORT_TRIES; port++)); do
    port_in_use "$port" && continue
    rm -f "$dir/server.log"  # one attempt's log, read below
    if as_owner "$PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t "$TIMEOUT" \
      -o "-p $port" >&2; then
      started=$port
      break
    fi
    # Taken between the check and the bind (another server starting): try the next port.
    if grep -q "could not bind\|could not create any TCP/IP sockets" "$dir/server.log" 2>/dev/null; then
      as_owner "$PG_BIN/pg_ctl" stop -D "$dir/data" -m immediate -w -t "$TIMEOUT" >/dev/null 2>&1 || true
      continue
    fi
    tail -n 20 "$dir/server.log" >&2 || true
    die "the server did not start (log: $dir/server.log)"
  done
  [[ -n $started ]] || die "no free port in $FIRST_PORT..$((FIRST_PORT + PORT_TRIES - 1))"
  echo "$started" >"$dir/port"

  as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$started" -U postgres capstan_test >&2 ||
    die "createdb failed (the server is running: $0 stop $dir)"
  echo "host=127.0.0.1 port=$started dbname=capstan_test user=postgres"
}

stop() {
  local dir=$1
  [[ -e $dir ]] || return 0  # nothing to stop
  [[ -f $dir/$MARKER ]] || die "$dir was not made by $0 start: not touching it"
  dir=$(cd "$dir" && pwd)
  cd /
  if [[ -f $dir/data/postmaster.pid ]]; then
    if ! as_owner "$PG_BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t "$TIMEOUT" >&2; then
      echo "postgres.sh: fast stop timed out, stopping immediately" >&2
      as_owner "$PG_BIN/pg_ctl" stop -D "$dir/data" -m immediate -w -t "$TIMEOUT" >&2 || true
    fi
  fi
  rm -rf "$dir"
}

[[ $# -eq 2 && -n $2 ]] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
