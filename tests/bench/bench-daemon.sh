#!/bin/bash
# bench-daemon.sh — the real tickd (plain build): idle wake-ups, memory per
# job, and a soak whose descriptors, processes and RSS must not grow.
#
#   BENCH_IDLE_SECONDS (60)   how long to watch an idle daemon with 1,000 jobs
#   BENCH_RSS_JOBS (10000)    jobs loaded for the memory figure
#   BENCH_SOAK_RUNS (100000)  runs in the soak; BENCH_SOAK_JOBS (500) a tick
set -euo pipefail
BUILD=${TICKD_BUILD_DIR:-build}
TICKD=$(readlink -f "$BUILD/tickd")
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
RSS_JOBS=${BENCH_RSS_JOBS:-10000}
SOAK_RUNS=${BENCH_SOAK_RUNS:-100000}
SOAK_JOBS=${BENCH_SOAK_JOBS:-500}
WORK=$(mktemp -d /tmp/tickd-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start() { # $1 = name: fresh tree, tickd started, waits for daemon-started
	local dir=$WORK/$1
	mkdir -p "$dir/config/jobs.d"
	[ -f "$WORK/$1.ini" ] && mv "$WORK/$1.ini" "$dir/config/jobs.d/jobs.ini"
	"$TICKD" --config-dir "$dir/config" --state-dir "$dir/state" --runtime-dir "$dir/run" \
		--log-target stderr --log-level "${2:-info}" 2>"$dir/log" &
	PID=$!
	for _ in $(seq 1 300); do grep -q event=daemon-started "$dir/log" 2>/dev/null && return; sleep 0.1; done
	echo "tickd did not start"; cat "$dir/log"; exit 1
}
stop() { kill "$PID"; wait "$PID" || true; PID=; }
status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
fds() { ls "/proc/$PID/fd" | wc -l; }
children() { ps --ppid "$PID" --no-headers | wc -l; }

jobs_file() { # $1 = count, $2 = schedule, $3 = command
	awk -v n="$1" -v s="$2" -v c="$3" 'BEGIN { for (i = 0; i < n; i++) printf "[job%05d]\nschedule = %s\ncommand = %s\n\n", i, s, c }'
}

echo "tickd: $TICKD"

# Idle: 1,000 jobs, none due (yearly, at new year).
jobs_file 1000 "0 0 1 1 *" "/bin/true" > "$WORK/idle.ini"
start idle
sleep 2
v0=$(status_field voluntary_ctxt_switches); n0=$(status_field nonvoluntary_ctxt_switches); c0=$(cpu_ticks)
sleep "$IDLE_SECONDS"
v1=$(status_field voluntary_ctxt_switches); n1=$(status_field nonvoluntary_ctxt_switches); c1=$(cpu_ticks)
echo "idle: 1000 jobs, ${IDLE_SECONDS}s: voluntary context switches $((v1 - v0)), involuntary $((n1 - n0)), CPU $((c1 - c0)) ticks (target: 0 wake-ups)"
stop

# Memory: empty daemon vs RSS_JOBS jobs.
start empty
sleep 1
rss0=$(status_field VmRSS)
stop
jobs_file "$RSS_JOBS" "0 0 1 1 *" "/usr/bin/backup --to /srv/backup/\$TICKD_JOB" > "$WORK/rss.ini"
start rss
sleep 1
rss1=$(status_field VmRSS)
stop
echo "memory: empty ${rss0} kB, ${RSS_JOBS} jobs ${rss1} kB: $(( (rss1 - rss0) * 1024 / RSS_JOBS )) bytes per job (target <= 1024)"

# Soak: SOAK_JOBS jobs every second until SOAK_RUNS outcomes.
# Outcomes are counted from the log (info level, to a file).
jobs_file "$SOAK_JOBS" "* * * * * *" "/bin/true" > "$WORK/soak2.ini"
start soak2 info
log=$WORK/soak2/log
baseline=$(printf 'at start: fds %d, children %d, RSS %d kB' "$(fds)" "$(children)" "$(status_field VmRSS)")
t0=$(date +%s)
samples=""
next_sample=$((SOAK_RUNS / 10))
while :; do
	done_runs=$(grep -c '^event=succeeded' "$log" || true)
	if [ "$done_runs" -ge "$next_sample" ]; then
		samples+=$(printf '  %7d runs: fds %3d, children %4d, RSS %6d kB, %4ds\n' "$done_runs" "$(fds)" "$(children)" "$(status_field VmRSS)" $(( $(date +%s) - t0 )))$'\n'
		next_sample=$((next_sample + SOAK_RUNS / 10))
	fi
	[ "$done_runs" -ge "$SOAK_RUNS" ] && break
	sleep 1
done
# Quiesce: remove the jobs, let the last batch finish, then count.
rm "$WORK/soak2/config/jobs.d/jobs.ini"
sleep 3
final=$(printf 'after removing the jobs: fds %d, children %d, RSS %d kB' "$(fds)" "$(children)" "$(status_field VmRSS)")
lost=$(grep -c '^event=lost' "$log" || true)
skipped=$(grep -c '^event=skipped' "$log" || true)
stuck=$(grep -c '^event=batch-stuck' "$log" || true)
stop
echo "soak: $SOAK_JOBS jobs a second, $done_runs runs in $(( $(date +%s) - t0 ))s; lost $lost, skipped $skipped, batch-stuck $stuck"
echo "  $baseline"
printf '%s' "$samples"
echo "  $final"
