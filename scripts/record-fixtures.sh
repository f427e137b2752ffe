#!/usr/bin/env bash
# Records the dumps in Tests/Fixtures from real, scripted workloads on this
# host, as root. The workloads run in a cgroup2 subtree of their own
# (/boxwatch-fixture) and the recorder keeps only that subtree (--cgroup), so
# the fixtures hold the workload and nothing else of the host but its process
# list. The pure tests replay them and check what the workload is known to do:
#   host.bwdump   cat /etc/hostname; cd /etc && cat ./hostname; an openat relative
#                 to a directory fd; a refused connect to 127.0.0.1:9; a failed exec
#   docker.bwdump a `docker run --rm` container (cgroup parent /boxwatch-fixture/docker)
#                 that reads /etc/passwd and tries 127.0.0.1:1, then is removed
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "record-fixtures.sh: run as root" >&2; exit 1; }
scripts/setup.sh --debug >/dev/null
B="$(swift build --show-bin-path)/boxwatch"
U=/sys/fs/cgroup/unified
OUT=Tests/Fixtures
mkdir -p "$OUT"

record() {  # record NAME COMMAND...: capture the fixture subtree while COMMAND runs
	local name=$1; shift
	"$B" record --output "$OUT/$name.bwdump" --cgroup /boxwatch-fixture 2>"/tmp/bw-fixture-$name.err" &
	local rec=$!
	for _ in $(seq 100); do grep -q attached "/tmp/bw-fixture-$name.err" 2>/dev/null && break; sleep 0.1; done
	"$@"
	sleep 0.5
	kill -INT "$rec"; wait "$rec"
	cat "/tmp/bw-fixture-$name.err" >&2
}

host_workload() {
	mkdir -p "$U/boxwatch-fixture/host"
	sh -c 'echo $$ > '"$U"'/boxwatch-fixture/host/cgroup.procs
		/bin/cat /etc/hostname >/dev/null
		cd /etc && /bin/cat ./hostname >/dev/null
		/usr/bin/python3 -S -c "import os; d = os.open(\"/etc\", os.O_RDONLY | os.O_DIRECTORY); os.close(os.open(\"hostname\", os.O_RDONLY, dir_fd=d))"
		/usr/bin/python3 -S -c "
import socket
try: socket.create_connection((\"127.0.0.1\", 9))
except OSError: pass"
		/nonexistent/boxwatch-fixture 2>/dev/null || true'
	rmdir "$U/boxwatch-fixture/host"
}

docker_workload() {
	docker run --rm --network=none --cgroup-parent=/boxwatch-fixture/docker boxwatch-test:latest \
		sh -c '/bin/cat /etc/passwd >/dev/null; nc -w1 127.0.0.1 1 </dev/null; true' || true
}

cleanup() {  # in every hierarchy: docker's --cgroup-parent makes v1 directories too
	for h in /sys/fs/cgroup/*; do
		[ -d "$h/boxwatch-fixture" ] && find "$h/boxwatch-fixture" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}
trap cleanup EXIT
mkdir -p "$U/boxwatch-fixture"
record host host_workload
scripts/docker-env.sh up >/dev/null
record docker docker_workload
scripts/docker-env.sh down >/dev/null
for f in "$OUT"/*.bwdump; do echo "$f: $(stat -c %s "$f") bytes"; "$B" replay --info "$f" | grep -E '^records'; done
