#!/usr/bin/env bash
# Podman (with runc) and a private containerd for the live tests, without
# touching the host's configuration: podman reads $STATE/containers.conf
# (CONTAINERS_CONF), containerd runs from $STATE with its own socket.
#   scripts/runtimes-env.sh up     install what is missing, start containerd, import the image
#   scripts/runtimes-env.sh down   stop the containerd this script started (by its PID), clean up
# Prints the environment the tests use: CONTAINERS_CONF=..., CTR_ADDRESS=..., ROOTFS=...
set -euo pipefail
STATE=/run/boxwatch-test
ROOTFS=$STATE/rootfs
CONF=$STATE/containers.conf
SOCK=$STATE/containerd/containerd.sock
PIDFILE=$STATE/containerd.pid
mkdir -p "$STATE"

up() {
	command -v podman >/dev/null && command -v ctr >/dev/null && command -v runc >/dev/null || {
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -q --no-install-recommends podman containerd runc busybox-static >/dev/null
	}
	if [ ! -x "$ROOTFS/bin/busybox" ]; then
		rm -rf "$ROOTFS"; mkdir -p "$ROOTFS"/{bin,etc,proc,sys,dev,tmp}
		cp /bin/busybox "$ROOTFS/bin/"
		for a in sh cat nc sleep ls echo grep true; do ln -s busybox "$ROOTFS/bin/$a"; done
		echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"; echo 'root:x:0:' >"$ROOTFS/etc/group"
		echo boxwatch-test >"$ROOTFS/etc/hostname"
	fi
	# crun cannot run on this hybrid host and systemd is not PID 1: runc, cgroupfs, file events
	cat >"$CONF" <<X
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
X
	export CONTAINERS_CONF=$CONF
	podman image exists localhost/boxwatch-test:latest || tar -C "$ROOTFS" -c . | podman import - localhost/boxwatch-test:latest >/dev/null
	if ! ctr --address "$SOCK" version >/dev/null 2>&1; then
		mkdir -p "$STATE/containerd"
		containerd --address "$SOCK" --root "$STATE/containerd/root" --state "$STATE/containerd/state" \
			>"$STATE/containerd.log" 2>&1 &
		echo $! >"$PIDFILE"
		for _ in $(seq 100); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
		ctr --address "$SOCK" version >/dev/null || { tail -5 "$STATE/containerd.log" >&2; exit 1; }
	fi
	echo "CONTAINERS_CONF=$CONF"
	echo "CTR_ADDRESS=$SOCK"
	echo "ROOTFS=$ROOTFS"
}

down() {
	if [ -f "$PIDFILE" ]; then
		pid=$(cat "$PIDFILE")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		rm -f "$PIDFILE"
	fi
	# the parents podman and ctr leave in every hierarchy (empty ones only: rmdir)
	for top in libpod_parent default; do
		for h in /sys/fs/cgroup/*; do
			[ -d "$h/$top" ] && find "$h/$top" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done
	done
	echo "runtimes-env: down"
}

case "${1:-}" in
	up) up ;;
	down) down ;;
	*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
