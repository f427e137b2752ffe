#!/usr/bin/env bash
# Overhead, loss, CPU and memory of boxwatch beside its peers, in one run.
#   scripts/bench.sh                 full: REPS=3, 2,000,000 opens, 200,000 connects, 20,000 execs
#   BENCH_QUICK=1 scripts/bench.sh   one repetition of smaller counts (a few minutes)
# Needs root. Installs what it measures with (bpftrace, bcc, kernel headers for
# bcc), builds the peers kit from $BENCH_KIT (default ../shared/bench: the
# workload generator and the minimal libbpf reference consumer) into
# build/bench, builds boxwatch (release), then runs scripts/bench.py, which
# prints a table and, last, the summary line:
#   open_overhead_ratio=R loss_pct=L cpu_us_per_event=C rss_mib=M replay_eps=E
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
kit=${BENCH_KIT:-../shared/bench}
[ -f "$kit/workload.c" ] || { echo "bench.sh: no peers kit at $kit (set BENCH_KIT)" >&2; exit 1; }

missing=()
for p in bpftrace bpfcc-tools python3-bpfcc linux-headers-amd64 util-linux; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench.sh: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		echo "bench.sh: some peers could not be installed; their rows will say so" >&2
fi

# bcc compiles against kernel headers; when the running kernel has none, a
# merged tree of Debian's generic headers serves tracepoint-only programs
if [ ! -e "/lib/modules/$(uname -r)/build" ] && [ ! -e /sys/kernel/kheaders.tar.xz ] && [ -z "${BCC_KERNEL_SOURCE:-}" ]; then
	arch=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 || true)
	if [ -n "$arch" ] && [ -d "${arch%-amd64}-common" ]; then
		tree=build/bench/kheaders
		if [ ! -e "$tree/include/linux/kconfig.h" ]; then
			rm -rf "$tree"; mkdir -p "$tree"
			cp -rs "$(readlink -f "${arch%-amd64}-common")/." "$tree/"
			cp -rs --remove-destination "$(readlink -f "$arch")/." "$tree/"
		fi
		export BCC_KERNEL_SOURCE=$PWD/$tree
	fi
fi

mkdir -p build/bench
cp "$kit"/{Makefile,workload.c,ref_consumer.c,ref_consumer.h,ref_consumer.bpf.c,bcc_snoop.py} build/bench/
make -s -C build/bench >/dev/null
bash scripts/setup.sh >/dev/null
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
exec /usr/bin/python3 scripts/bench.py "$@"
