#!/bin/bash
# bench-daemon.sh — the real tickd (plain build): idle wake-ups, memory per
# job, and a soak whose descriptors, processes and RSS must not grow.
#
#   BENCH_IDLE_SECONDS (60)   how long to watch an idle daemon with 1,000 jobs
#   BENCH_RSS_JOBS (10000)    jobs loaded for the memory figure
#   BENCH_SOAK_RUNS (100000)  runs in the soak; BENCH_SOAK_JOBS (500) a tick
#   BENCH_SOAK_MAX_SECONDS (900)  the soak stops there even if short of its
#                             runs (slow machines), and says how far it got
#   BENCH_METRICS_ONLY=1      only the metrics part: idle with metrics_file,
#                             and 1,000 jobs due at one instant without and
#                             with metrics_file (the cost of its writes)
#   BENCH_MEMORY_ONLY=1       only the memory figure (issue 16): RSS per
#                             loaded job, BENCH_MEMORY_ROUNDS (3) times;
#                             BENCH_MEMORY_SCHEDULE ("0 0 1 1 *") the jobs'
#                             schedule, "distinct" for one of its own each
#   BENCH_REAP_LAG_ONLY=1     only the reap lag of the real daemon (issue
#                             16): 1,000 jobs due at one instant, each
#                             stamping its exit; BENCH_REAP_LAG_ROUNDS (3)
#   BENCH_FIRST_START_ONLY=1  only the start latency of one job (issue 16):
#                             a job due every second for
#                             BENCH_FIRST_START_SECONDS (30), and beside it
#                             the floor (stamp --floor): instant to exec,
#                             and the wake-up alone (stamp --wake)
set -euo pipefail
BUILD=${TICKD_BUILD_DIR:-build}
TICKD=$(readlink -f "$BUILD/tickd")
STAMPER=$(readlink -f "$BUILD/bench/bench-daemon")
STAMP=$(readlink -f "$BUILD/bench/stamp")
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
RSS_JOBS=${BENCH_RSS_JOBS:-10000}
SOAK_RUNS=${BENCH_SOAK_RUNS:-100000}
SOAK_JOBS=${BENCH_SOAK_JOBS:-500}
SOAK_MAX_SECONDS=${BENCH_SOAK_MAX_SECONDS:-900}
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

jobs_file() { # $1 = count, $2 = schedule ("distinct": "M H D 1 *", a different one per job), $3 = command
	awk -v n="$1" -v s="$2" -v c="$3" 'BEGIN { for (i = 0; i < n; i++) {
		t = s == "distinct" ? sprintf("%d %d %d 1 *", i % 60, int(i / 60) % 24, int(i / 1440) % 28 + 1) : s
		printf "[job%05d]\nschedule = %s\ncommand = %s\n\n", i, t, c } }'
}

echo "tickd: $TICKD"

# Metrics (issue 15). A burst: 1,000 jobs due at one instant, in a tree
# with tickd.conf $2 (empty or metrics_file); prints the burst's wall time
# (instant to last outcome), tickd's own CPU over it, and what the file's
# writes cost (tickd's debug record of each write).
metrics_burst() { # $1 = name, $2 = tickd.conf content
	local t=$(( $(date +%s) + 12 ))
	jobs_file 1000 "$(date -d "@$t" '+%-S %-M %-H') * * *" "/bin/true" > "$WORK/$1.ini"
	mkdir -p "$WORK/$1/config" && printf '%s' "$2" > "$WORK/$1/config/tickd.conf"
	start "$1" debug
	local log=$WORK/$1/log
	while [ "$(date +%s)" -lt "$t" ]; do sleep 0.05; done
	local c0 t0; c0=$(cpu_ticks); t0=$(date +%s%N)
	for _ in $(seq 1 1200); do [ "$(grep -c '^event=succeeded' "$log")" -ge 1000 ] && break; sleep 0.1; done
	local t1; t1=$(date +%s%N)
	sleep 1.5 # the write owed for the last outcomes
	local c1; c1=$(cpu_ticks)
	stop
	local wall_ms=$(( (t1 - t0) / 1000000 )) cpu_ms=$(( (c1 - c0) * 1000 / $(getconf CLK_TCK) ))
	awk -v name="$1" -v wall="$wall_ms" -v cpu="$cpu_ms" -v n="$(grep -c '^event=succeeded' "$log")" '
		/msg="metrics: wrote / { for (i = 1; i <= NF; i++) { if ($i == "in") { ms = $(i + 1) + 0; sum += ms; if (ms > max) max = ms }
		                                                    if ($i == "CPU") { c = $(i + 1) + 0; csum += c; if (c > cmax) cmax = c }
		                                                    if ($i == "bytes") bytes = $(i - 1) }
		                         w++ }
		END { printf "metrics %-7s %4d runs: burst %6d ms wall, tickd CPU %5d ms", name, n, wall, cpu
		      if (w) printf "; %d writes of %s bytes: wall %.1f ms each (max %.1f), CPU %.2f ms each (max %.2f), %.1f ms in all = %.2f%% of tickd CPU in the burst (target < 1%%)", w, bytes, sum / w, max, csum / w, cmax, csum, 100 * csum / cpu
		      printf "\n" }' "$log"
}
metrics_idle() {
	jobs_file 1000 "0 0 1 1 *" "/bin/true" > "$WORK/midle.ini"
	mkdir -p "$WORK/midle/config" && printf '[daemon]\nmetrics_file = %s/midle.prom\n' "$WORK" > "$WORK/midle/config/tickd.conf"
	start midle
	sleep 3 # the first write
	local v0 n0 c0 i0 v1 n1 c1 i1
	v0=$(status_field voluntary_ctxt_switches); n0=$(status_field nonvoluntary_ctxt_switches); c0=$(cpu_ticks); i0=$(stat -c %i "$WORK/midle.prom")
	sleep "$IDLE_SECONDS"
	v1=$(status_field voluntary_ctxt_switches); n1=$(status_field nonvoluntary_ctxt_switches); c1=$(cpu_ticks); i1=$(stat -c %i "$WORK/midle.prom")
	echo "idle with metrics_file: 1000 jobs, ${IDLE_SECONDS}s: voluntary context switches $((v1 - v0)), involuntary $((n1 - n0)), CPU $((c1 - c0)) ticks, file rewritten: $([ "$i0" = "$i1" ] && echo no || echo yes) (target: 0 wake-ups, no)"
	stop
}
metrics_all() {
	echo "uptime: $(uptime)"
	metrics_idle
	for round in 1 2; do
		metrics_burst "plain$round" ""
		metrics_burst "file$round" "$(printf '[daemon]\nmetrics_file = %s/file%d.prom\n' "$WORK" "$round")"
	done
	echo "uptime: $(uptime)"
}
if [ -n "${BENCH_METRICS_ONLY:-}" ]; then
	metrics_all
	exit 0
fi

# Reap lag (issue 16): from the last job's exit (its stamp, CLOCK_MONOTONIC,
# by the static stamp program)
# to the arrival of the last succeeded record on tickd's stderr, read by
# bench-daemon --timestamp-log, which writes the log as it comes.
reap_lag() { # $1 = name
	if [ ! -x "$STAMP" ] || [ ! -x "$STAMPER" ]; then echo "reap lag: NOT RUN: no $STAMP or $STAMPER (make $BUILD/bench/stamp $BUILD/bench/bench-daemon)"; return; fi
	local dir=$WORK/$1 t=$(( $(date +%s) + 12 ))
	mkdir -p "$dir/config/jobs.d"
	jobs_file 1000 "$(date -d "@$t" '+%-S %-M %-H') * * *" "$STAMP $dir/stamps" > "$dir/config/jobs.d/jobs.ini"
	"$TICKD" --config-dir "$dir/config" --state-dir "$dir/state" --runtime-dir "$dir/run" \
		--log-target stderr --log-level info 2> >("$STAMPER" --timestamp-log "$dir/log") &
	PID=$!
	for _ in $(seq 1 300); do grep -q event=daemon-started "$dir/log" 2>/dev/null && break; sleep 0.1; done
	for _ in $(seq 1 1200); do [ "$(grep -c '^event=succeeded' "$dir/log")" -ge 1000 ] && break; sleep 0.1; done
	stop
	for _ in $(seq 1 100); do [ -s "$dir/log.lag" ] && break; sleep 0.1; done
	read -r runs last < "$dir/log.lag"
	awk -v r="$runs" -v l="$last" '$2 > m { m = $2 } END {
		printf "reap lag: %d runs succeeded, %d jobs stamped: last exit to last outcome record %.1f ms (target <= 10)\n", r, NR, l - m / 1e6 }' "$dir/stamps"
}

# The same through the journal: tickd logs to a private journald (the
# steps of harness-journald.c: its own mount namespace, volatile storage,
# no rate limit), and the lag is from the last stamp (static stamp
# program, CLOCK_MONOTONIC) to the __MONOTONIC_TIMESTAMP journald gave the
# last succeeded record: what `journalctl -f` shows, journald's own queue
# included.
reap_lag_journal() { # $1 = name
	if [ ! -x "$STAMP" ]; then echo "reap lag (journal): NOT RUN: no $STAMP (make $BUILD/bench/stamp)"; return; fi
	local dir=$WORK/$1 t=$(( $(date +%s) + 12 ))
	mkdir -p "$dir/config/jobs.d" /run/systemd /run/log /var/log/journal
	printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\nRateLimitBurst=0\n' > "$dir/journald.conf"
	unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run/systemd &&
		mount -t tmpfs -o mode=0755 tmpfs /run/log && mount -t tmpfs -o mode=2755 tmpfs /var/log/journal &&
		mkdir -p /run/systemd/journal && mount --bind "$1/journald.conf" /etc/systemd/journald.conf &&
		exec /lib/systemd/systemd-journald' sh "$dir" > "$dir/journald.log" 2>&1 &
	local jd=$!
	for _ in $(seq 1 200); do nsenter -t "$jd" -m test -S /run/systemd/journal/socket 2>/dev/null && break; sleep 0.05; done
	jobs_file 1000 "$(date -d "@$t" '+%-S %-M %-H') * * *" "$STAMP $dir/stamps" > "$dir/config/jobs.d/jobs.ini"
	nsenter -t "$jd" -m -- "$TICKD" --config-dir "$dir/config" --state-dir "$dir/state" --runtime-dir "$dir/run" \
		--log-target journal --log-level info 2> "$dir/log" &
	PID=$!
	local n=0
	for _ in $(seq 1 1200); do
		n=$(journalctl -D "/proc/$jd/root/run/log/journal" TICKD_EVENT=succeeded -o cat 2>/dev/null | wc -l)
		[ "$n" -ge 1000 ] && [ "$(date +%s)" -gt "$t" ] && break
		sleep 0.2
	done
	stop
	nsenter -t "$jd" -m journalctl --sync
	local last_record exit_us
	last_record=$(journalctl -D "/proc/$jd/root/run/log/journal" TICKD_EVENT=succeeded -o export |
		awk -F= '$1 == "__MONOTONIC_TIMESTAMP" && $2 > m { m = $2 } END { printf "%.0f", m }')
	exit_us=$(awk '$2 > m { m = $2 } END { printf "%.0f", m / 1000 }' "$dir/stamps")
	kill "$jd"; wait "$jd" || true
	awk -v n="$n" -v s="$(wc -l < "$dir/stamps")" -v l="$last_record" -v e="$exit_us" 'BEGIN {
		printf "reap lag (journal): %d runs succeeded, %d jobs stamped: last exit to last outcome record in the journal %.1f ms (target <= 10)\n", n, s, (l - e) / 1000 }'
}
if [ -n "${BENCH_REAP_LAG_ONLY:-}" ]; then
	echo "uptime: $(uptime)"
	for i in $(seq 1 "${BENCH_REAP_LAG_ROUNDS:-3}"); do reap_lag "lag$i"; done
	for i in $(seq 1 "${BENCH_REAP_LAG_ROUNDS:-3}"); do reap_lag_journal "jlag$i"; done
	echo "uptime: $(uptime)"
	exit 0
fi

# First start (issue 16): one job due every second, whose command is the
# static stamp program; its latency is the stamp's CLOCK_REALTIME past the
# whole second it was due at. The floor is stamp --floor: the same program
# started by a loop that sleeps until each whole second and forks.
latency_summary() { # $1 = name, $2 = stamps file: "REALTIME_NS MONOTONIC_NS" lines
	awk '{ print ($1 % 1000000000) / 1000 }' "$2" | sort -n | awk -v name="$1" '
		{ v[NR] = $1 }
		END { if (!NR) { printf "%-22s no stamps\n", name; exit }
		      printf "%-22s %3d starts: p50 %7.0f us, p90 %7.0f us, max %7.0f us after the instant\n", name, NR, v[int((NR + 1) / 2)], v[int((NR * 9 + 9) / 10)], v[NR] }'
}
first_start() {
	if [ ! -x "$STAMP" ]; then echo "first start: NOT RUN: no $STAMP (make $BUILD/bench/stamp)"; return; fi
	local seconds=${BENCH_FIRST_START_SECONDS:-30}
	"$STAMP" --wake "$seconds" "$WORK/wake.stamps"
	latency_summary "wake-up (stamp --wake)" "$WORK/wake.stamps"
	"$STAMP" --floor "$seconds" "$WORK/floor.stamps"
	latency_summary "floor (stamp --floor)" "$WORK/floor.stamps"
	printf '[first]\nschedule = * * * * * *\ncommand = %s %s\n' "$STAMP" "$WORK/first.stamps" > "$WORK/first.ini"
	start first
	sleep "$seconds"
	stop
	latency_summary "tickd, N = 1" "$WORK/first.stamps"
}
if [ -n "${BENCH_FIRST_START_ONLY:-}" ]; then
	echo "uptime: $(uptime)"
	first_start
	echo "uptime: $(uptime)"
	exit 0
fi

# Memory: empty daemon vs RSS_JOBS jobs.
memory() {
	rm -rf "$WORK/empty" "$WORK/rss"
	start empty
	sleep 1
	rss0=$(status_field VmRSS)
	stop
	jobs_file "$RSS_JOBS" "${BENCH_MEMORY_SCHEDULE:-0 0 1 1 *}" "/usr/bin/backup --to /srv/backup/\$TICKD_JOB" > "$WORK/rss.ini"
	start rss
	sleep 1
	rss1=$(status_field VmRSS)
	stop
	echo "memory: empty ${rss0} kB, ${RSS_JOBS} jobs ${rss1} kB: $(( (rss1 - rss0) * 1024 / RSS_JOBS )) bytes per job (target <= 300)"
}
if [ -n "${BENCH_MEMORY_ONLY:-}" ]; then
	echo "uptime: $(uptime)"
	for _ in $(seq 1 "${BENCH_MEMORY_ROUNDS:-3}"); do memory; done
	exit 0
fi

# Idle: 1,000 jobs, none due (yearly, at new year).
jobs_file 1000 "0 0 1 1 *" "/bin/true" > "$WORK/idle.ini"
start idle
sleep 2
v0=$(status_field voluntary_ctxt_switches); n0=$(status_field nonvoluntary_ctxt_switches); c0=$(cpu_ticks)
sleep "$IDLE_SECONDS"
v1=$(status_field voluntary_ctxt_switches); n1=$(status_field nonvoluntary_ctxt_switches); c1=$(cpu_ticks)
echo "idle: 1000 jobs, ${IDLE_SECONDS}s: voluntary context switches $((v1 - v0)), involuntary $((n1 - n0)), CPU $((c1 - c0)) ticks (target: 0 wake-ups)"
stop

memory
reap_lag lag
reap_lag_journal jlag
first_start

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
	if [ $(( $(date +%s) - t0 )) -ge "$SOAK_MAX_SECONDS" ]; then
		echo "soak: time limit (${SOAK_MAX_SECONDS}s) reached at $done_runs of $SOAK_RUNS runs"
		break
	fi
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

metrics_all
