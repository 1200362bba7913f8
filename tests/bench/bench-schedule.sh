#!/bin/bash
# bench-schedule.sh — microseconds per iteration of `systemd-analyze
# calendar --iterations=N` for the calendar expressions of
# bench-schedule.c, without and with a zone suffix, for comparison with
# schedule_next(). The cost of one run with --iterations=1 (start-up,
# parsing) is subtracted. systemd-analyze with a zone suffix is slow
# (hundreds of microseconds per iteration), so those runs use fewer
# iterations unless BENCH_ZONE_ITERATIONS says otherwise.
set -euo pipefail

ITERATIONS=${BENCH_ITERATIONS:-100000}
ZONE_ITERATIONS=${BENCH_ZONE_ITERATIONS:-200}
BASE='2026-01-01 00:00:00 UTC'
exprs=("Mon..Fri *-*-* 09:00" "*-*-01 00:00" "*:0/15" "*-02~1" "Mon *-05~07/1 12:00" "hourly" "weekly" "quarterly")

if ! command -v systemd-analyze >/dev/null; then
        echo "bench-schedule.sh: systemd-analyze not found, skipped"
        exit 0
fi

# Prints "NANOSECONDS ITERATIONS" for one run: systemd-analyze stops early
# when the event has no further elapse before 2200, so the iterations it
# printed are counted.
run_time() {
        local n=$1 expr=$2 t0 t1 out
        out=$(mktemp)
        t0=$(date +%s%N)
        TZ=UTC SYSTEMD_PAGER=cat systemd-analyze calendar --base-time="$BASE" --iterations="$n" "$expr" >"$out"
        t1=$(date +%s%N)
        echo "$((t1 - t0)) $(grep -cE 'Next elapse: [A-Z]|Iter\. #' "$out")"
        rm -f "$out"
}

per_iteration() {
        local n=$1 expr=$2 full one
        one=$(run_time 1 "$expr")
        full=$(run_time "$n" "$expr")
        awk -v f="$full" -v o="$one" 'BEGIN {
                split(f, F, " "); split(o, O, " ");
                if (F[2] <= 1) { print "n/a"; exit }
                if (F[1] - O[1] < 50000000) { printf "below noise (%d)", F[2]; exit }
                printf "%.2f (%d)", (F[1] - O[1]) / (F[2] - 1) / 1000, F[2] }'
}

echo "systemd $(systemd-analyze --version | head -1 | awk '{print $2}'): us per iteration (iterations actually printed)," \
     "asked for $ITERATIONS (UTC) and $ZONE_ITERATIONS (zone suffix)"
printf '%-24s %20s %26s\n' expression UTC "Europe/Berlin suffix"
for e in "${exprs[@]}"; do
        printf '%-24s %20s %26s\n' "$e" "$(per_iteration "$ITERATIONS" "$e")" \
                "$(per_iteration "$ZONE_ITERATIONS" "$e Europe/Berlin")"
done
