#!/usr/bin/env bash
# Sets up boxwatch on a Debian 12 host, as root: installs the Debian packages
# it builds with, mounts tracefs, builds the BPF object (CO-RE, vmlinux.h from
# this kernel's BTF) and the Swift package (release), and puts the object next
# to the binary. Safe to run again: it only does what is missing.
#   scripts/setup.sh [--debug]     (--debug: debug build, as the tests use)
set -euo pipefail
cd "$(dirname "$0")/.."
config=release
[ "${1:-}" = "--debug" ] && config=debug

need_root() { [ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (it installs packages and mounts tracefs)" >&2; exit 1; }; }
need_root

install_packages() {
	local missing=()
	for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
install_packages clang llvm libbpf-dev libelf-dev zlib1g-dev libyaml-dev bpftool make pkg-config

mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing

command -v swift >/dev/null || { echo "setup.sh: no swift toolchain on PATH (expected /opt/swift/usr/bin)" >&2; exit 1; }
make -s -C bpf
swift build -c "$config" --product boxwatch
bin=$(swift build -c "$config" --show-bin-path)
cp build/bpf/boxwatch.bpf.o "$bin/"
echo "setup.sh: ready: $bin/boxwatch (BPF object $bin/boxwatch.bpf.o)"
