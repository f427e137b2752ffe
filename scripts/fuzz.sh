#!/usr/bin/env bash
# Builds the libFuzzer target for the binary parsers, the ring-record decoder
# and the dump reader (the pure core compiled with -sanitize=fuzzer,address),
# and runs it for a bounded time. Seeds: one record of each kind written from
# docs/wire-format.md, a small dump, and the recorded fixtures.
#   scripts/fuzz.sh [SECONDS]      default 60; crashes land in build/fuzz/
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name BoxwatchCore \
	-I Sources/CBoxwatchABI -I Sources/CYAML Sources/BoxwatchCore/*.swift Sources/BoxwatchCore/Scoring/*.swift \
	Tests/Fuzz/FuzzRecordDecoder.swift -lyaml -o "$out/fuzz-record-decoder"
# seeds: one well-formed record of each kind, written from the documented
# layout (docs/wire-format.md) by an encoder independent of the decoder
python3 - "$out/corpus" <<'PY'
import struct, sys, os
d = sys.argv[1]
def rec(kind, size, body, strings):
    b = bytearray(size)
    struct.pack_into("<HHHHQQQIIIIIIIIII16s", b, 0, kind, 1, size, 96, 10**9, 7, 1, 0, 42, 42, 1, 0, 0, 42, 1, 2, 0, b"seed")
    for off, data in body: b[off:off + len(data)] = data
    for at, off, s, flags in strings:
        b[off:off + len(s)] = s
        struct.pack_into("<HHHH", b, at, off, len(s), flags, 0)
    return bytes(b)
cg = b"docker-" + b"ab" * 32 + b".scope"
seeds = {
  "exec": rec(1, 1160, [(96, struct.pack("<iiIIHH", 0, -100, 0, 2, 1, 0))],
              [(88, 136, cg, 0), (120, 392, b"/bin/cat", 0), (128, 648, b"cat\0/etc/hostname\0", 0)]),
  "open": rec(2, 648, [(96, struct.pack("<qiIIHHQ", 3, -100, 0, 0, 4, 0, 0))],
              [(88, 136, cg, 0), (128, 392, b"/etc/hostname", 0)]),
  "connect4": rec(3, 504, [(96, struct.pack("<iiIHHHHHH", -111, 3, 16, 1, 6, 7, 16, 0, 0)),
                           (120, bytes([2, 0, 0, 9, 127, 0, 0, 1]))], [(88, 248, cg, 0)]),
  "connect6": rec(3, 504, [(96, struct.pack("<iiIHHHHHH", -115, 3, 28, 1, 6, 7, 28, 0, 0)),
                           (120, bytes([10, 0, 1, 187, 0, 0, 0, 0]) + bytes(10) + b"\xff\xff" + bytes([203, 0, 113, 7]) + bytes(4))],
                 [(88, 248, cg, 0)]),
  "cgroup": rec(4, 888, [(96, struct.pack("<QII", 99, 0, 2))], [(88, 120, b"", 0), (112, 376, b"/docker/" + b"ab" * 32, 0)]),
}
for name, data in seeds.items():
    open(os.path.join(d, "seed-" + name), "wb").write(data)
# a small dump (docs/dump-format.md): preamble, header, one record, end
def block(t, body): return struct.pack("<II", t, len(body)) + body + struct.pack("<I", len(body))
dump = b"BWDUMP\r\n" + struct.pack("<IHH", 0x01020304, 1, 0)
dump += block(1, struct.pack("<HI", 10, 7) + b"fixture")
dump += block(4, struct.pack("<q", 1) + seeds["open"]) + block(7, struct.pack("<qQ", 2, 1))
open(os.path.join(d, "seed-dump"), "wb").write(dump)
PY
cp Tests/Fixtures/*.bwdump Tests/Fixtures/fuzz/* "$out/corpus/" 2>/dev/null || true  # fuzz/: inputs that once crashed
# text parsers, selected by a tag: the config (YAML), an IOC list, a baseline file
printf '#yamlthreshold: 60\nlearning:\n  seconds: 5\nioc: [203.0.113.0/24, "::1"]\nallow:\n  - image: "ci-*"\n    signals: [new_container]\n' >"$out/corpus/seed-yaml"
printf '#ioc# c2\n203.0.113.0/24\n2001:db8::/32 # v6\n\n198.51.100.7\n' >"$out/corpus/seed-ioc"
printf '#baseboxwatch-baselines 1\nimage 1 2 0 image:app\ndir /var/cache\npath /etc/a\\nb\ndest 192.0.2.1\n' >"$out/corpus/seed-base"
echo "fuzz.sh: running for ${seconds}s (full log: $out/last.log)"
status=0
"$out/fuzz-record-decoder" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus" >"$out/last.log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
	# the Swift trap's own backtrace comes first; ASan's report of the crash handler follows
	grep -m1 -A12 "Program crashed" "$out/last.log" || true
	tail -8 "$out/last.log"
	exit "$status"
fi
tail -6 "$out/last.log"
