#!/bin/bash
# compare-corosync.sh - corosync 3.1.7's CPG and this engine's CPG, one after the other in one
# run, in the same topology: 3 nodes in the network namespaces csan1..3 (10.99.0.1..3/24 on a
# veth bridge) that the corosync anchor's lib.sh creates. Then one table with ratios per row.
#
# usage (root; corosync installed by the anchor's install.sh; `npm run build` done):
#   bench/cpg/compare-corosync.sh [OUTDIR]        (default /tmp/corosync-anchor/compare-<UTC>)
# env:  SIZES="64 1024 8192 65000" SENDERS="1 3" DURATION=10 REPS=1 TRANSPORT=udpu
#       INFLIGHTS="1"          totem runs, one per value (1 = one send awaited at a time, as
#                              cpgperf's synchronous cpg_mcast_joined)
#       RT=0                   1: totem daemons under SCHED_RR 99, as corosync runs by default
#       QUIET_IDLE_PCT=85 QUIET_MAX_WAIT_S=120   (the anchor's wait for an idle machine)
#       ANCHOR=/work/shared/anchors/corosync
# The anchor's scripts are invoked, never copied: bench.sh measures corosync; lib.sh's net_up /
# net_down make and remove the same namespaces for the totem run.
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ANCHOR=${ANCHOR:-/work/shared/anchors/corosync}
OUT=${1:-/tmp/corosync-anchor/compare-$(date -u +%Y%m%dT%H%M%SZ)}
SIZES=${SIZES:-64 1024 8192 65000}
SENDERS=${SENDERS:-1 3}
DURATION=${DURATION:-10}
REPS=${REPS:-1}
TRANSPORT=${TRANSPORT:-udpu}
INFLIGHTS=${INFLIGHTS:-1}
RT=${RT:-0}
export QUIET_IDLE_PCT=${QUIET_IDLE_PCT:-85} QUIET_MAX_WAIT_S=${QUIET_MAX_WAIT_S:-120}
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 1; }
[ -f "$REPO/dist/bench/cpg/daemon-cpg-bench.js" ] || { echo "run npm run build first" >&2; exit 1; }
mkdir -p "$OUT"
load() { echo "$(date -u +%H:%M:%SZ) $1: loadavg $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt" >&2; }

# 1. corosync, through the anchor's own bench.sh and C client (throughput matrix only).
load "corosync start"
SIZES="$SIZES" SENDERS="$SENDERS" DURATION="$DURATION" REPS="$REPS" LAT_SIZES="" \
	"$ANCHOR/bench.sh" "$OUT/corosync" "$TRANSPORT"
load "corosync end"

# 2. totem, same namespaces and addresses, one client per daemon (all in the bench process;
#    unix sockets are reachable across network namespaces).
comma() { echo "$1" | tr ' ' ','; }
(
	# shellcheck source=/dev/null
	source "$ANCHOR/lib.sh"
	trap net_down EXIT
	net_up
	for inflight in $INFLIGHTS; do
		load "totem inflight $inflight start"
		rt=()
		[ "$RT" = 1 ] && rt=(--rt)
		node "$REPO/dist/bench/cpg/daemon-cpg-bench.js" --netns csan --addresses 10.99.0.1,10.99.0.2,10.99.0.3 \
			--sizes "$(comma "$SIZES")" --senders "$(comma "$SENDERS")" --seconds "$DURATION" \
			--inflight "$inflight" "${rt[@]}" --json >"$OUT/totem-inflight$inflight.json"
		load "totem inflight $inflight end"
	done
)

# 3. the table
node "$REPO/dist/bench/cpg/compare-corosync.js" "$OUT/corosync" "$OUT"/totem-inflight*.json \
	--transport "$TRANSPORT" | tee "$OUT/table.md"
grep -h '^RUN' "$OUT/corosync/runs.txt" | sed 's/^/corosync /' >"$OUT/corosync-cpu.txt" || true
echo "results in $OUT (corosync raw: $OUT/corosync, load: $OUT/load.txt)" >&2
