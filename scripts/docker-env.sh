#!/usr/bin/env bash
# Starts and stops the Docker daemon the live tests use, and builds their
# image without a registry (docker import of a busybox rootfs).
#   scripts/docker-env.sh up     start dockerd if none answers; import boxwatch-test:latest
#   scripts/docker-env.sh down   stop the dockerd this script started (by its PID) and clean up
# dockerd runs with no bridge, no iptables and no ip forwarding: nothing on
# the host's network changes, and test containers use --network=none.
set -euo pipefail
STATE=/run/boxwatch-test
PIDFILE=$STATE/dockerd.pid
IMAGE=boxwatch-test:latest
mkdir -p "$STATE"

up() {
	command -v dockerd >/dev/null || { echo "docker-env: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
	[ -x /bin/busybox ] || { echo "docker-env: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
	if ! docker info >/dev/null 2>&1; then
		dockerd --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
			--storage-driver=overlay2 >"$STATE/dockerd.log" 2>&1 &
		echo $! >"$PIDFILE"
		for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.25; done
		docker info >/dev/null 2>&1 || { echo "docker-env: dockerd did not start; log:" >&2; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
	fi
	if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
		local root; root=$(mktemp -d)
		mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp}
		cp /bin/busybox "$root/bin/"
		for a in sh cat nc sleep ls echo grep true; do ln -s busybox "$root/bin/$a"; done
		echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
		echo 'root:x:0:' >"$root/etc/group"
		echo boxwatch-test >"$root/etc/hostname"
		tar -C "$root" -c . | docker import - "$IMAGE" >/dev/null
		rm -rf "$root"
	fi
	echo "docker-env: up (image $IMAGE)"
}

down() {
	[ -f "$PIDFILE" ] || { echo "docker-env: no dockerd started by this script"; return 0; }
	local pid; pid=$(cat "$PIDFILE")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$PIDFILE"
	umount /run/docker/netns/default 2>/dev/null || true
	rmdir /sys/fs/cgroup/*/docker 2>/dev/null || true
	echo "docker-env: down"
}

case "${1:-}" in
	up) up ;;
	down) down ;;
	*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
