#!/usr/bin/env bash
# Runs the whole test suite, as root: the pure tier (decoding, cgroup paths,
# formats) and the live tier (real kernel, real processes, real Docker
# containers). Installs what the live tests need first. Under CI=true a live
# test that cannot run fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --debug
# what the live tests drive: Docker (dockerd started by the tests themselves),
# a busybox rootfs for the test image, python3 for syscalls with exact arguments
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in docker.io busybox-static python3 iproute2 util-linux; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]}"
	apt-get update -qq
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
make -s -C bpf selftest   # the unverifiable object the load-error test uses
export BOXWATCH_BIN="$(swift build --show-bin-path)/boxwatch"
# the record decoder under libFuzzer, briefly (scripts/fuzz.sh SECONDS for longer runs)
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
mkdir -p build
status=0
swift test --disable-swift-testing 2>&1 | tee build/test.log || status=$?
# one plain closing line: the XCTest totals (the last "Executed" line is the sum)
total=$(grep -E '^\s*Executed [0-9]+ tests?, with [0-9]+ failures?' build/test.log | tail -1)
executed=$(echo "$total" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$total" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -z "$total" ]; then echo "test.sh: no XCTest totals in the output" >&2; exit 1; fi
echo "tests: $((executed - failed)) passed, $failed failed"
exit $status
