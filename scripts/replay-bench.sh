#!/usr/bin/env bash
# Replay throughput: builds a dump of N records (default 1,000,000) by
# repeating the records of the recorded fixtures, then times
# `boxwatch replay --speed max` over it (JSON and text to /dev/null, and
# --info, which decodes and attributes every record but prints none).
#   scripts/replay-bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
swift build -c release --product boxwatch >/dev/null
B="$(swift build -c release --show-bin-path)/boxwatch"
dump=build/bench/replay-$n.bwdump
mkdir -p build/bench
python3 - "$n" "$dump" Tests/Fixtures/*.bwdump <<'PY'
import struct, sys
n, out, sources = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
def blocks(path):
    data = open(path, "rb").read()
    i = 16
    while i + 8 <= len(data):
        t, length = struct.unpack_from("<II", data, i)
        yield t, data[i:i + 12 + length]
        i += 12 + length
head = list(blocks(sources[0]))
records = [b for s in sources for t, b in blocks(s) if t == 4]
with open(out, "wb") as f:
    f.write(open(sources[0], "rb").read(16))
    for t, b in head:
        if t in (1, 2, 3): f.write(b)       # header and state snapshots
    for t, b in blocks(sources[1]) if len(sources) > 1 else []:
        if t == 2: f.write(b)               # the second fixture's cgroups too
    for i in range(n): f.write(records[i % len(records)])
    body = struct.pack("<qQ", 0, n)
    f.write(struct.pack("<II", 7, len(body)) + body + struct.pack("<I", len(body)))
PY
size=$(stat -c %s "$dump")
echo "dump: $dump, $n records, $size bytes"
for mode in "--json" "--color never" "--info"; do
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$B" replay $mode "$dump" >/dev/null
	end=$(date +%s.%N)
	python3 -c "import sys; s=$end-$start; print(f'replay {sys.argv[1]:<14} {s:6.2f} s  {int($n/s):>9} records/s  {$size/s/2**20:7.1f} MiB/s')" "$mode"
done
