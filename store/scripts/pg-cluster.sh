#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks (Debian's postgresql package).
#   pg-cluster.sh start DIR [fast]   -> creates DIR, starts a server on a free 127.0.0.1 port,
#                                      prints its URL (also written to DIR/url)
#   pg-cluster.sh stop DIR           -> stops the server and removes DIR
# `fast` turns fsync off (tests only: nothing here crashes the server, only clients).
# initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop DIR}
dir=${2:?usage: pg-cluster.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "FATAL: PostgreSQL binaries not found (scripts/ensure-apt.sh postgresql)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  extra=""
  [ "${3:-}" = fast ] && extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $extra" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  url="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "$url"
  ;;
stop)
  # A server that crashed during the run (a backend killed by a signal, a PANIC) explains the
  # test failures it caused: show its log before it is removed.
  if [ -f "$dir/server.log" ] && grep -qE "terminated by signal|PANIC|was terminated" "$dir/server.log"; then
    echo "pg-cluster: the PostgreSQL server crashed during the run; the end of its log:" >&2
    tail -n 40 "$dir/server.log" >&2
  fi
  if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  ;;
*) echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
