#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for tests: initdb in a folder, a server on a free loopback
# port with its Unix socket in that folder, a random password (never a default one).
#
#   scripts/pg-temp.sh start DIR   creates DIR (must not hold a server), starts the server and
#                                  prints its connection URI (also written to DIR/uri)
#   scripts/pg-temp.sh stop DIR    stops the server and removes DIR
#   scripts/pg-temp.sh uri DIR     prints the URI of the server running in DIR
#   scripts/pg-temp.sh replica PRIMARY_DIR DIR
#                                  a streaming replica (hot standby) of the server in PRIMARY_DIR,
#                                  made with pg_basebackup, started; prints its URI
#   scripts/pg-temp.sh halt DIR    stops the server in DIR, keeping its data (a primary "failing")
#   scripts/pg-temp.sh resume DIR  starts it again on the same port
#   scripts/pg-temp.sh promote DIR makes the replica in DIR a primary (failover)
#
# Works as root (the server runs as the unprivileged user "postgres", which Debian's package
# creates, or one made here) and as any other user (the server runs as that user). No system
# service is used or assumed; no standard input is read. See docs/postgres.md.
set -euo pipefail

usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}
[[ "${1:-}" == "--help" || "${1:-}" == "-h" || $# -lt 2 ]] && { usage; [[ $# -ge 2 ]]; exit $?; }

action="$1"
dir="$2"
pgbin="${PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)}"
if [[ -z "$pgbin" || ! -x "$pgbin/initdb" ]]; then
  echo "pg-temp: PostgreSQL 15 server binaries not found (install postgresql-15, or set PG_BIN)" >&2
  exit 2
fi

as_owner() {  # runs a command as the server's owner
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_on_free_port DIR URI_TEMPLATE WHAT: starts the server in DIR on a free loopback port (a
# few tries: another process may take the port between the probe and the bind), writes the URI
# (URI_TEMPLATE with PORT replaced) to DIR/uri and prints it; exits the script either way.
start_on_free_port() {
  local dir="$1" template="$2" what="$3" attempt port uri
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start >/dev/null; then
      uri="${template/:PORT\//:$port/}"
      printf '%s\n' "$uri" >"$dir/uri"
      chmod 600 "$dir/uri"
      printf '%s\n' "$uri"
      exit 0
    fi
    sleep 0.2
  done
  echo "pg-temp: the $what did not start; see $dir/server.log" >&2
  tail -20 "$dir/server.log" >&2 || true
  exit 1
}

case "$action" in
  start)
    if [[ -e "$dir/data/PG_VERSION" ]]; then
      echo "pg-temp: $dir already holds a server" >&2
      exit 1
    fi
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    chmod 700 "$dir"
    password="$(openssl rand -hex 16)"
    printf '%s\n' "$password" >"$dir/pwfile"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir/pwfile"
    user="$(as_owner id -un)"
    as_owner "$pgbin/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # Test settings: durability off (a crash loses a test database, nothing else), small memory.
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
CONF
    start_on_free_port "$dir" "postgresql://$user:$password@127.0.0.1:PORT/postgres" "server"
    ;;
  stop)
    if [[ -e "$dir/data/PG_VERSION" ]]; then
      as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  uri)
    cat "$dir/uri"
    ;;
  replica)
    primary="$(cd "$dir" && pwd)"
    dir="${3:?pg-temp: replica needs PRIMARY_DIR DIR}"
    if [[ -e "$dir/data/PG_VERSION" ]]; then
      echo "pg-temp: $dir already holds a server" >&2
      exit 1
    fi
    primary_uri="$(cat "$primary/uri")"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    chmod 700 "$dir"
    # -R writes primary_conninfo and standby.signal; -X stream copies the WAL made meanwhile.
    as_owner "$pgbin/pg_basebackup" -d "$primary_uri" -D "$dir/data" -R -X stream -c fast \
      --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
unix_socket_directories = '$dir'
hot_standby = on
hot_standby_feedback = on
CONF
    start_on_free_port "$dir" "$(printf '%s' "$primary_uri" | sed -E 's#@127\.0\.0\.1:[0-9]+/#@127.0.0.1:PORT/#')" "replica"
    ;;
  halt)
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    port="$(sed -E 's#.*@127\.0\.0\.1:([0-9]+)/.*#\1#' "$dir/uri")"
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start >/dev/null
    ;;
  promote)
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -w promote >/dev/null
    ;;
  *)
    usage
    exit 2
    ;;
esac
