#!/usr/bin/env bash
# Background builds for `make test`: the heavy builds whose results are needed only late in the
# run (the fuzz targets, the dist smoke's cross builds) start early at the lowest CPU priority
# (nice 19) and use the cores the test parts in front leave idle; the part that needs a result
# waits for its build, then runs its usual commands (which find the build done). A background
# build that fails is not trusted: its part prints the log's tail and builds in the foreground,
# where the error shows as it would have without this.
#   bg.sh start NAME CMD...  run CMD (from the project root) in its own process group, output to
#                            $KC_BG_DIR/NAME.log; no-op outside `make test` (KC_BG_DIR unset) and
#                            with KC_BG=0 (`KC_BG=0 make test`: every part builds in the
#                            foreground, as before; for comparing run times)
#   bg.sh wait NAME          wait for NAME; exit 0 when it succeeded, 1 when it failed (tail of
#                            its log printed), 2 when it was never started
#   bg.sh stop               kill the builds still running (timed.sh, when `make test` ends)
#   bg.sh report             each build's wall and CPU seconds
set -uo pipefail
cd "$(dirname "$0")/.."
dir="${KC_BG_DIR:-}"
cmd="${1:-}"; shift || true
case "$cmd" in
  start)
    [ -n "$dir" ] && [ "${KC_BG:-1}" != 0 ] || exit 0
    name="$1"; shift
    mkdir -p "$dir"
    rm -f "$dir/$name.done"
    # setsid: its own process group, so `stop` ends the build's whole tree. A new session is
    # also a new scheduler autogroup (Linux, sched_autogroup_enabled), whose CPU share is the
    # foreground's unless the group's own nice is raised too: nice 19 alone left the build an
    # equal share beside the parts (measured: clippy 3x slower).
    setsid nice -n 19 bash -c '
      echo 19 > /proc/self/autogroup 2>/dev/null || true
      out=$1; shift; s=$(date +%s)
      "$@" >"$out.log" 2>&1; rc=$?
      times > "$out.times"  # in this shell: a subshell would see no children
      cpu=$(tail -n 1 "$out.times" | awk "{ s = 0; for (i = 1; i <= 2; i++) { split(\$i, a, /[ms]/); s += a[1] * 60 + a[2] } printf \"%d\", s }")
      echo "$rc $(( $(date +%s) - s )) $cpu" > "$out.done"' _ "$dir/$name" "$@" </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/$name.pid"
    echo "background build '$name' started (nice 19; log $dir/$name.log): $*"
    ;;
  wait)
    name="$1"
    [ -n "$dir" ] && [ -e "$dir/$name.pid" ] || exit 2
    pid=$(cat "$dir/$name.pid"); s=$(date +%s)
    while [ ! -e "$dir/$name.done" ] && kill -0 "$pid" 2>/dev/null; do sleep 2; done
    sleep 0.2
    read -r rc wall cpu < "$dir/$name.done" 2>/dev/null || { rc=1; wall=?; cpu=?; }
    echo "background build '$name': exit $rc after ${wall}s (cpu ${cpu}s); waited $(( $(date +%s) - s ))s for it"
    if [ "$rc" != 0 ]; then
      echo "---- last lines of $dir/$name.log ----"; tail -n 30 "$dir/$name.log"
      echo "---- background build '$name' failed: building in the foreground ----"
      exit 1
    fi
    ;;
  stop)
    [ -n "$dir" ] && [ -d "$dir" ] || exit 0
    for f in "$dir"/*.pid; do
      [ -e "$f" ] || continue
      n=$(basename "$f" .pid)
      if [ ! -e "$dir/$n.done" ]; then kill -- -"$(cat "$f")" 2>/dev/null && echo "background build '$n' stopped"; fi
    done
    ;;
  report)
    [ -n "$dir" ] && [ -d "$dir" ] || exit 0
    for f in "$dir"/*.done; do
      [ -e "$f" ] || continue
      read -r rc wall cpu < "$f"
      printf '%6ss  %6ss cpu   bg   %s (exit %s, at nice 19, beside the parts above)\n' "$wall" "$cpu" "$(basename "$f" .done)" "$rc"
    done
    ;;
  *) echo "usage: bg.sh start NAME CMD... | wait NAME | stop | report" >&2; exit 64 ;;
esac
