#!/usr/bin/env bash
# Memory under container churn: `boxwatch tail --json > /dev/null` while 12
# loops run `docker run --rm` side by side for SECONDS (default 300). Prints
# the sensor's RSS every 30 s, containers run, and what the kernel dropped.
#   scripts/soak-docker.sh [SECONDS] [LOOPS]     (root; starts its own dockerd if none runs)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}; loops=${2:-12}
scripts/setup.sh >/dev/null   # release build: the sensor as deployed
B="$(swift build -c release --show-bin-path)/boxwatch"
scripts/docker-env.sh up >/dev/null
work=$(mktemp -d)
"$B" tail --json >/dev/null 2>"$work/err" &
sensor=$!
for _ in $(seq 100); do grep -q attached "$work/err" && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$sensor/status"; }
echo "rss_kib_start=$(rss)"
end=$((SECONDS + seconds))
for l in $(seq "$loops"); do
	( n=0; while [ $SECONDS -lt $end ]; do
		docker run --rm --network=none boxwatch-test:latest sh -c 'cat /etc/hostname >/dev/null; nc -w1 127.0.0.1 1 </dev/null; true' >/dev/null 2>&1 || true
		n=$((n + 1)); done; echo "$n" >"$work/loop$l" ) &
done
while [ $SECONDS -lt $end ]; do sleep 30; echo "t=$((seconds - (end - SECONDS)))s rss_kib=$(rss)"; done
wait $(jobs -p | grep -v "^$sensor$") 2>/dev/null || true
echo "rss_kib_end=$(rss) containers=$(cat "$work"/loop* | paste -sd+ | bc)"
kill -INT "$sensor"; wait "$sensor" || true
grep LOST "$work/err" | tail -3 || echo "lost: none reported"
rm -rf "$work"
scripts/docker-env.sh down >/dev/null
