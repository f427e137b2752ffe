#!/usr/bin/env bash
# Memory of the scoring agent while one container opens N distinct paths
# (default 1,000,000): baselines fold and cap, so RSS stays bounded.
#   scripts/memory-paths.sh [N]        (root; starts dockerd if none answers)
# Prints the agent's RSS before, during (every 5 s) and after, and its peak.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BIN=${BOXWATCH_BIN:-$(swift build -c release --show-bin-path)/boxwatch}
[ -x "$BIN" ] || { echo "memory-paths: no binary at $BIN (scripts/setup.sh builds it)" >&2; exit 1; }
work=$(mktemp -d /tmp/boxwatch-memory.XXXXXX)
started=0
docker info >/dev/null 2>&1 || started=1
bash scripts/docker-env.sh up >/dev/null
agent=""
cleanup() {
	[ -n "$agent" ] && kill -INT "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
	[ "$started" = 1 ] && bash scripts/docker-env.sh down >/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
# learn for 10 s: the first part of the flood is learned (folded), the rest scored off baseline
printf 'learning:\n  seconds: 10\n' >"$work/boxwatch.yaml"
"$BIN" run --config "$work/boxwatch.yaml" --state-dir "$work/state" --bpf-object build/bpf/boxwatch.bpf.o \
	>"$work/alerts.txt" 2>"$work/err.txt" &
agent=$!
for _ in $(seq 1 200); do grep -q attached "$work/err.txt" 2>/dev/null && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$agent/status"; }
echo "memory-paths: agent pid $agent, RSS $(rss) MiB before; container opens $N distinct paths"
SECONDS=0
# a shell redirection opens without a fork: one failed open per distinct path
docker run --rm --network=none boxwatch-test sh -c "i=0; while [ \$i -lt $N ]; do true 2>/dev/null < /nope/d\$((i % 1000))/f\$i; i=\$((i + 1)); done" &
runner=$!
while kill -0 "$runner" 2>/dev/null; do
	sleep 5
	echo "memory-paths: +${SECONDS} s RSS $(rss) MiB"
done
wait "$runner"
sleep 2
peak=$(awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$agent/status")
echo "memory-paths: done in ${SECONDS} s; RSS $(rss) MiB after, peak $peak MiB"
kill -INT "$agent"; wait "$agent" || true; agent=""
echo "memory-paths: alerts: $(grep -c "ALERT" "$work/alerts.txt" || true)"
echo "memory-paths: lost events: $( (grep -o "LOST [0-9]* events" "$work/err.txt" || true) | awk '{s += $2} END {print s+0}')"
# what the agent handled (all kinds, host included), and what it kept of the flood
grep -h "accounting:" "$work/err.txt" | sed 's/^boxwatch: /memory-paths: /'
echo "memory-paths: baseline file $(wc -c <"$work/state/baselines") bytes, $(grep -c '/nope/' "$work/state/baselines" || true) entries under /nope"
