#!/bin/bash
# bench-fleet.sh — what scope = fleet costs: a 3-member etcd cluster and
# three tickd nodes (plain build) on loopback.
#
#   latency  one fleet job every second on three nodes, then the same job
#            as a host job on one node: the delay from the scheduled
#            instant to the `started` record, and the claim's round trip
#            (tickd's debug line "claim of JOB answered (...) in N us")
#   burst    BENCH_FLEET_JOBS fleet jobs due at one instant on three nodes:
#            every instant started exactly once across the nodes, and the
#            time to the last `started` record, against as many host jobs
#            at one instant on one node
#
#   BENCH_FLEET_SECONDS (60)  how long each latency run lasts
#   BENCH_FLEET_JOBS (1000)   jobs in the burst
#   BENCH_FLEET_LEASE_TTL (5s), BENCH_FLEET_CLAIM_TIMEOUT (2s)  the nodes'
#                             [fleet] lease_ttl and claim_timeout (tickd's defaults)
#   BENCH_FLEET_ETCD_DATA     where the members keep their data (default: a
#                             directory in /dev/shm, a tmpfs, when there is one;
#                             else in the bench's directory): on tmpfs etcd's
#                             WAL fsync costs nothing, the honest figure for
#                             three members on one host (on disk they share
#                             one disk's fsyncs, which a real cluster does not)
#   TICKD_ETCD                the etcd binary (make build/deps/etcd/usr/bin/etcd)
#   BENCH_FLEET_KEEP          set: the logs are kept (the path is printed)
#
# Each line tickd writes is stamped on arrival (perl, Time::HiRes), so a
# delay includes the pipe; fleet and host runs are stamped alike.
set -euo pipefail
BUILD=${TICKD_BUILD_DIR:-build}
TICKD=$(readlink -f "$BUILD/tickd")
ETCD=$(readlink -f "${TICKD_ETCD:-$BUILD/deps/etcd/usr/bin/etcd}")
RUN_SECONDS=${BENCH_FLEET_SECONDS:-60}
BURST=${BENCH_FLEET_JOBS:-1000}
LEASE_TTL=${BENCH_FLEET_LEASE_TTL:-5s}
CLAIM_TIMEOUT=${BENCH_FLEET_CLAIM_TIMEOUT:-2s}
PHASE=
WORK=$(mktemp -d /tmp/tickd-bench-fleet.XXXXXX)
if [ -n "${BENCH_FLEET_ETCD_DATA:-}" ]; then
	ETCD_DATA=$(mktemp -d "$BENCH_FLEET_ETCD_DATA/tickd-bench-etcd.XXXXXX")
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
	ETCD_DATA=$(mktemp -d /dev/shm/tickd-bench-etcd.XXXXXX)
else
	ETCD_DATA=$WORK
fi
ETCD_PIDS=()
NODE_PIDS=()
[ -x "$ETCD" ] || { echo "no etcd at $ETCD: make build/deps/etcd/usr/bin/etcd"; exit 1; }

stop_nodes() {
	for p in "${NODE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${NODE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	NODE_PIDS=()
	sleep 0.2 # the stampers drain
}
cleanup() {
	stop_nodes
	for p in "${ETCD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${ETCD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ "$ETCD_DATA" = "$WORK" ] || rm -rf "$ETCD_DATA"
	if [ -n "${BENCH_FLEET_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Six free loopback ports, picked together so that they differ.
read -r -a PORTS < <(perl -MIO::Socket::INET -e 'my @s = map { IO::Socket::INET->new(Listen => 1,
	LocalAddr => "127.0.0.1", LocalPort => 0) or die } 1 .. 6; print join(" ", map { $_->sockport } @s), "\n"')
CLUSTER="m0=http://127.0.0.1:${PORTS[3]},m1=http://127.0.0.1:${PORTS[4]},m2=http://127.0.0.1:${PORTS[5]}"

# The flags of tests/harness/harness-etcd.c: fast elections.
etcd_start() {
	for i in 0 1 2; do
		local client=http://127.0.0.1:${PORTS[$i]} peer=http://127.0.0.1:${PORTS[$((i + 3))]}
		"$ETCD" --name "m$i" --data-dir "$ETCD_DATA/m$i.etcd" --listen-client-urls "$client" \
			--advertise-client-urls "$client" --listen-peer-urls "$peer" \
			--initial-advertise-peer-urls "$peer" --initial-cluster "$CLUSTER" \
			--initial-cluster-state new --initial-cluster-token tickd-bench \
			--heartbeat-interval 50 --election-timeout 500 --logger zap --log-outputs stderr \
			--log-level error </dev/null >"$WORK/member-$i.log" 2>&1 &
		ETCD_PIDS+=($!)
	done
	for i in 0 1 2; do
		for _ in $(seq 1 300); do
			curl -s -m 1 "http://127.0.0.1:${PORTS[$i]}/health" | grep -q '"health":"true"' && continue 2
			sleep 0.05
		done
		echo "etcd member $i not healthy:"; tail -5 "$WORK/member-$i.log"; exit 1
	done
}

# $1 = node name, $2 = log level: a fresh tree (endpoints in an order of
# the node's own, as test-fleet does), stderr stamped into WORK/NAME/log.
node_start() {
	local dir=$WORK/$PHASE/$1 k
	rm -rf "$dir" && mkdir -p "$dir/config/jobs.d"
	case $1 in a) k=0 ;; b) k=1 ;; *) k=2 ;; esac
	cat >"$dir/config/tickd.conf" <<-EOF
		[fleet]
		endpoints = http://127.0.0.1:${PORTS[$k]}, http://127.0.0.1:${PORTS[$(((k + 1) % 3))]}, http://127.0.0.1:${PORTS[$(((k + 2) % 3))]}
		name = bench
		node = $1
		lease_ttl = $LEASE_TTL
		claim_timeout = $CLAIM_TIMEOUT
	EOF
	"$TICKD" --config-dir "$dir/config" --state-dir "$dir/state" --runtime-dir "$dir/run" \
		--log-target stderr --log-level "$2" \
		2> >(exec perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.6f %s", time, $_' >"$dir/log") &
	NODE_PIDS+=($!)
}
nodes_joined() { # every node given has joined the fleet
	for n in "$@"; do
		for _ in $(seq 1 300); do grep -q ' joined (etcd ' "$WORK/$PHASE/$n/log" 2>/dev/null && continue 2; sleep 0.05; done
		echo "node $n did not join:"; tail -5 "$WORK/$PHASE/$n/log"; exit 1
	done
}
jobs_write() { # $1 = node, then the file's text on stdin (renamed in: one reload)
	local dir=$WORK/$PHASE/$1
	cat >"$dir/jobs.tmp" && mv "$dir/jobs.tmp" "$dir/config/jobs.d/jobs.ini"
}
# Raft proposals the cluster committed so far (etcd's /metrics, member 0):
# every write transaction is one, whether its compare held or not.
proposals() {
	curl -s -m 10 "http://127.0.0.1:${PORTS[0]}/metrics" | awk '$1 == "etcd_server_proposals_committed_total" { printf "%d\n", $2 }'
}
burst_started() { cat "$@" 2>/dev/null | grep -c ' event=started job=burst' || true; }

# Percentiles of the numbers on stdin (ms): "p50 X p99 Y n N".
percentiles() {
	sort -g | awk '{ v[NR] = $1 } END { if (!NR) { print "n 0"; exit }
		i99 = int(NR * 0.99 + 0.999999); printf "p50 %.1f p99 %.1f max %.1f n %d\n", v[int((NR + 1) / 2)], v[i99], v[NR], NR }'
}
# Start delays (ms) of JOB's started records in the logs given, for
# instants from $2 (epoch s) on: arrival stamp minus scheduled instant.
start_delays() {
	local job=$1 from=$2
	shift 2
	cat "$@" | awk -v job="$job" -v from="$from" '$2 == "event=started" && $3 == "job=" job {
		for (i = 4; i <= NF; i++) if ($i ~ /^scheduled=/) { s = substr($i, 11) + 0; if (s >= from) printf "%.3f\n", ($1 - s) * 1000 } }'
}

# ---- latency ----
latency_fleet() {
	PHASE=fleet
	for n in a b c; do node_start "$n" debug; done
	nodes_joined a b c
	for n in a b c; do printf '[tick]\nschedule = * * * * * *\ncommand = /bin/true\nscope = fleet\n' | jobs_write "$n"; done
	local from=$(($(date +%s) + 2))
	sleep "$RUN_SECONDS"
	stop_nodes
	start_delays tick "$from" "$WORK"/fleet/{a,b,c}/log >"$WORK/fleet.delays"
	grep -h 'claim of tick answered (claimed)' "$WORK"/fleet/{a,b,c}/log |
		sed -n 's/.* in \([0-9]*\) us.*/\1/p' | awk '{ printf "%.3f\n", $1 / 1000 }' >"$WORK/fleet.claims"
	grep -h 'claim of tick answered' "$WORK"/fleet/{a,b,c}/log |
		sed -n 's/.* in \([0-9]*\) us.*/\1/p' | awk '{ printf "%.3f\n", $1 / 1000 }' >"$WORK/fleet.claims-all"
	# Each instant from FROM once across the nodes.
	cat "$WORK"/fleet/{a,b,c}/log | awk -v from="$from" '$2 == "event=started" && $3 == "job=tick" {
		for (i = 4; i <= NF; i++) if ($i ~ /^scheduled=/ && substr($i, 11) + 0 >= from) seen[substr($i, 11)]++ }
		END { for (s in seen) { n++; if (seen[s] > 1) twice++ } printf "%d instants started, %d of them more than once\n", n, twice }' \
		>"$WORK/fleet.once"
}
latency_host() {
	PHASE=host
	node_start a debug
	nodes_joined a
	printf '[tick]\nschedule = * * * * * *\ncommand = /bin/true\n' | jobs_write a
	local from=$(($(date +%s) + 2))
	sleep "$RUN_SECONDS"
	stop_nodes
	start_delays tick "$from" "$WORK/host/a/log" >"$WORK/host.delays"
}

# ---- burst ----
# $1 = scope (fleet or host), then the nodes: BURST jobs all due at one
# second a few seconds ahead. Writes "count last_ms twice" to
# WORK/burst-SCOPE, and each node's share to WORK/burst-SCOPE.split.
burst() {
	local scope=$1 t
	shift
	PHASE=burst-$scope
	for n in "$@"; do node_start "$n" "${BENCH_FLEET_BURST_LOG_LEVEL:-info}"; done
	nodes_joined "$@"
	t=$(($(date +%s) + 6))
	local p0
	p0=$(proposals)
	local when
	when=$(date -d "@$t" '+%-S %-M %-H %-d %-m')
	for n in "$@"; do
		awk -v n="$BURST" -v w="$when" -v scope="$scope" 'BEGIN { for (i = 0; i < n; i++)
			printf "[burst%04d]\nschedule = %s *\ncommand = /bin/true\nscope = %s\n\n", i, w, scope }' | jobs_write "$n"
	done
	local logs=() deadline=$((t + 60))
	for n in "$@"; do logs+=("$WORK/$PHASE/$n/log"); done
	while [ "$(burst_started "${logs[@]}")" -lt "$BURST" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
	sleep 2 # a second start of some instant would show by now
	local p1
	p1=$(proposals)
	if [ -n "$p0" ] && [ -n "$p1" ]; then echo "$((p1 - p0))"; else echo "n/a (metrics unanswered)"; fi >"$WORK/burst-$scope.proposals"
	stop_nodes
	cat "${logs[@]}" | awk -v t="$t" '$2 == "event=started" && $3 ~ /^job=burst/ {
		n++; seen[$3]++; if ($1 > last) last = $1 }
		END { for (j in seen) if (seen[j] > 1) twice++; printf "%d %.1f %d\n", n, (last - t) * 1000, twice }' \
		>"$WORK/burst-$scope.result"
	for n in "$@"; do echo "  node $n: $(burst_started "$WORK/$PHASE/$n/log") started"; done >"$WORK/burst-$scope.split"
}

echo "tickd: $TICKD"
echo "etcd: $("$ETCD" --version | head -1), data in $ETCD_DATA"
echo "load: $(uptime | sed 's/.*load average/load average/')"
etcd_start

if [ "$RUN_SECONDS" -gt 0 ]; then
latency_fleet
latency_host
read -r f50 f99 < <(percentiles <"$WORK/fleet.delays" | awk '{ print $2, $4 }')
read -r h50 h99 < <(percentiles <"$WORK/host.delays" | awk '{ print $2, $4 }')
echo "latency: one job every second, ${RUN_SECONDS}s; ms from the scheduled instant to the started record"
echo "  fleet, 3 nodes:        $(percentiles <"$WORK/fleet.delays")   ($(cat "$WORK/fleet.once"))"
echo "  host, 1 node:          $(percentiles <"$WORK/host.delays")"
echo "  claim round trip, winner:    $(percentiles <"$WORK/fleet.claims")"
echo "  claim round trip, all nodes: $(percentiles <"$WORK/fleet.claims-all")"
awk -v f50="$f50" -v f99="$f99" -v h50="$h50" -v h99="$h99" 'BEGIN {
	printf "  claim latency added (fleet - host): p50 %.1f ms, p99 %.1f ms (target: p99 claim < 20 ms)\n", f50 - h50, f99 - h99 }'
fi

burst fleet a b c
read -r fn flast ftwice <"$WORK/burst-fleet.result"
echo "burst: $BURST fleet jobs due at one instant on 3 nodes: $fn started (target $BURST), $ftwice started twice, last ${flast} ms after the instant"
cat "$WORK/burst-fleet.split"
echo "  etcd proposals from 6 s before the instant to 2 s after the last start: $(cat "$WORK/burst-fleet.proposals") (claims, records, heartbeats)"
burst host a
read -r hn hlast htwice <"$WORK/burst-host.result"
echo "burst: $BURST host jobs due at one instant on 1 node: $hn started, last ${hlast} ms after the instant"
if [ "$fn" -eq "$BURST" ] && [ "$hn" -eq "$BURST" ]; then
	awk -v f="$flast" -v h="$hlast" 'BEGIN { printf "burst: fleet/single node = %.2f (target <= 2)\n", f / h }'
else
	echo "burst: no ratio: $fn of $BURST fleet and $hn of $BURST host runs started (target not met)"
fi
