# Shared by the bench scripts (sourced, not run): the carechart binary, tool checks, a temporary
# folder, servers started in the background, a throw-away PostgreSQL with production durability,
# CPU accounting from /proc, and small number formatters. Each function says what it needs.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_init NAME [HELP]   sets HERE, REPO, BIN (from $CARECHART_BIN or build/), KEEP=0; HELP:
#                            the lines of the script's header --help prints ("2,16"), when it
#                            has no usage function
#   bench_option "$@"        in the script's option loop, after its own options: --bin PATH,
#                            --keep, -h/--help, and an unknown option (exit 2); sets BENCH_SHIFT
#   bench_require TOOL...    exits 2 naming the first tool not installed
#   bench_check_bin          exits 2 unless $BIN is executable; makes it absolute
#   bench_tmp                creates $TMP (removed at exit unless KEEP=1); stops what was started
#   bench_pg_start           a PostgreSQL 15 in $TMP/pg, fsync and synchronous_commit on: PGURI, POSTMASTER
#   bench_start_node NAME ARGS...   carechart serve ARGS in the background: NODE_URL, NODE_PID
#   bench_token ARGS...      a backend client's (system/*.cruds) access token for that database
#   cpu_of_tree PID          CPU seconds of a process and its live children (the postmaster: the
#                            database); fails when the process is gone

bench_init() {
  BENCH_NAME="$1"
  BENCH_HELP="${2:-}"
  HERE="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
  REPO="$(cd "$HERE/.." && pwd)"
  BIN="${CARECHART_BIN:-$REPO/build/src/app/carechart}"
  KEEP=0
  BENCH_PIDS=()
}

# The options every bench script takes. Usage, as the last case of the option loop:
#   *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
bench_option() {
  case "$1" in
    --bin) [[ $# -ge 2 ]] || { echo "$BENCH_NAME: --bin needs a path" >&2; exit 2; }
      BIN="$2"; BENCH_SHIFT=2 ;;
    --keep) KEEP=1; BENCH_SHIFT=1 ;;
    -h|--help)
      if declare -F usage >/dev/null; then usage; else sed -n "${BENCH_HELP}p" "$0" | sed 's/^# \{0,1\}//'; fi
      exit 0 ;;
    *) echo "$BENCH_NAME: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
}

bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] ||
      { echo "$BENCH_NAME: $tool not found" >&2; exit 2; }
  done
}

bench_check_bin() {
  [[ -x "$BIN" ]] || { echo "$BENCH_NAME: no carechart binary at $BIN (--bin or CARECHART_BIN)" >&2; exit 2; }
  BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
}

bench_cleanup() {
  local rc=$? p
  for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${BENCH_PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  [[ -e "$TMP/pg" ]] && "$REPO/scripts/pg-temp.sh" stop "$TMP/pg" >/dev/null 2>&1
  if [[ $KEEP == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}

bench_tmp() {
  # Under /tmp: the PostgreSQL server runs as the user postgres, which must reach its folder.
  TMP="$(mktemp -d "/tmp/carechart-$BENCH_NAME-XXXXXX")"
  chmod 755 "$TMP"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# The same durability as SQLite's synchronous=FULL (pg-temp.sh turns it off for tests).
# BENCH_PG_STATEMENTS=1 also loads pg_stat_statements (restarts the server once).
bench_pg_start() {
  PGURI="$("$REPO/scripts/pg-temp.sh" start "$TMP/pg")"
  psql "$PGURI" -XAtq -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >/dev/null
  if [[ "${BENCH_PG_STATEMENTS:-0}" == 1 ]]; then
    psql "$PGURI" -XAtq -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
    "$REPO/scripts/pg-temp.sh" halt "$TMP/pg"
    "$REPO/scripts/pg-temp.sh" resume "$TMP/pg"
  fi
  POSTMASTER="$(head -1 "$TMP/pg/data/postmaster.pid")"
}

# A new database on the bench server: prints its URI.
bench_pg_newdb() {
  psql "$PGURI" -XAtq -c "CREATE DATABASE $1" >/dev/null
  [[ "${BENCH_PG_STATEMENTS:-0}" == 1 ]] &&
    psql "${PGURI%/*}/$1" -XAtq -c "CREATE EXTENSION pg_stat_statements" >/dev/null
  echo "${PGURI%/*}/$1"
}

bench_start_node() {
  local name="$1" _
  shift
  "$BIN" serve --host 127.0.0.1 --port 0 --log-level "${BENCH_LOG_LEVEL:-warn}" "$@" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  NODE_PID=$!
  BENCH_PIDS+=("$NODE_PID")
  for _ in $(seq 1 600); do
    NODE_URL="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$TMP/$name.out" | head -1 || true)"
    [[ -n "$NODE_URL" ]] && return 0
    kill -0 "$NODE_PID" 2>/dev/null || { echo "$BENCH_NAME: node $name exited:" >&2; cat "$TMP/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "$BENCH_NAME: node $name did not start within 60 s" >&2
  cat "$TMP/$name.err" >&2
  exit 1
}

# bench_stop_node PID: a graceful stop (SIGTERM), waited for.
bench_stop_node() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}

# bench_token BASE_URL DATABASE_ARGS...: adds the client "bench" (once per database) and prints
# a token for it. Verifying it is part of every measured request.
bench_token() {
  local base="$1"
  shift
  "$BIN" client add bench --kind backend --scope "system/*.cruds" "$@" >/dev/null 2>>"$TMP/cli.err" || true
  "$BIN" token "$@" --client bench --base-url "$base" --expires-in 86400 2>>"$TMP/cli.err" ||
    { echo "$BENCH_NAME: could not get an access token:" >&2; cat "$TMP/cli.err" >&2; exit 1; }
}

# CPU seconds (user+system) of a process with its waited-for children, plus its live children's.
cpu_of_tree() {
  local pid="$1" total=0 t child
  t="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12+$13+$14+$15}')" || return 1
  total=$((total + ${t:-0}))
  for child in $(pgrep -P "$pid" || true); do
    t="$(sed 's/^.*) //' "/proc/$child/stat" 2>/dev/null | awk '{print $12+$13+$14+$15}')" || t=0
    total=$((total + ${t:-0}))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.3f", t/hz}'
}

# Formatters (awk: bash has no floating point). n/a when the divisor is 0 or empty.
minus() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a - b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{ if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
share() { awk -v d="$1" -v c="$2" 'BEGIN{ if (d + c > 0) printf "%.0f%%", 100 * d / (d + c); else print "n/a" }'; }
us_to_ms() { awk -v u="$1" 'BEGIN{ if (u == "") print "n/a"; else printf "%.2f", u / 1000 }'; }
# wrk_field NAME LINE: a field of the RESULT line of bench/wrk/report.lua
wrk_field() { grep -oE "(^| )$1=[^ ]+" <<<"$2" | head -1 | cut -d= -f2; }
now_s() { date +%s.%N; }
