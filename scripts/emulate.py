#!/usr/bin/env python3
"""Adversary emulation: the Validation section of the detection strategy
(docs/detection.md), run against the live sensor and real Docker.

  scripts/emulate.py [--keep] [--ci-containers N]      (root; CI runs it from the live tests)

1. Starts dockerd if none answers (scripts/docker-env.sh), builds two images
   from a local busybox rootfs (no registry), and starts `boxwatch run --json`
   with a config (learning 5 s, an IOC file, a CI allow rule) and --record.
2. Learning: three benign containers of boxwatch-emu read their usual files.
3. Attack: `docker run --rm -d --network=none boxwatch-emu` whose process
   connects to IOC addresses (IPv4, IPv4-mapped IPv6, IPv6; the container has
   only loopback, so the connects fail at once and nothing leaves the
   machine), reads sensitive files (absolute, relative to its cwd, the runtime
   socket) and files and programs off its image's baseline.
4. CI: N short `docker run --rm` containers of boxwatch-ci that build and
   test (write and read objects, run them, reach an allowed artifact address
   and loopback).
5. Stops the sensor, checks every indicator raised its alert for the attack
   container within one second (latency: alert line arrival minus the
   evidence event's kernel time), that the CI containers raised none, and
   that `boxwatch replay --alerts-only` of the recorded dump prints the very
   same alert lines. Prints a report; exits 1 if anything failed.
"""
import json, os, signal, subprocess, sys, tempfile, threading, time, datetime, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IOC_V4, IOC_V4_MAPPED, IOC_V6 = "203.0.113.66", "::ffff:203.0.113.67", "2001:db8:66::1"
ALLOWED_ARTIFACTS = "198.51.100.10"  # the CI image's allowed "artifact server" (external, allow-listed)


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, text=True, capture_output=True, **kw)


def binary():
    if os.environ.get("BOXWATCH_BIN"):
        return os.environ["BOXWATCH_BIN"]
    path = sh("swift", "build", "--show-bin-path", cwd=ROOT).stdout.strip()
    return os.path.join(path, "boxwatch")


def make_image(tag, hostname):
    """A busybox rootfs with every applet, imported (no registry needed)."""
    if sh("docker", "image", "inspect", tag, check=False).returncode == 0:
        return
    root = tempfile.mkdtemp()
    try:
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "src", "var/run"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        shutil.copy("/bin/busybox", os.path.join(root, "bin/busybox"))
        for applet in sh("/bin/busybox", "--list").stdout.split():
            if applet != "busybox" and "/" not in applet:
                os.symlink("busybox", os.path.join(root, "bin", applet))
        with open(os.path.join(root, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        with open(os.path.join(root, "etc/group"), "w") as f:
            f.write("root:x:0:\n")
        with open(os.path.join(root, "etc/hostname"), "w") as f:
            f.write(hostname + "\n")
        with open(os.path.join(root, "src/main.c"), "w") as f:
            f.write("int main(void) { return 0; }\n")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        sh("docker", "import", "-", tag, stdin=tar.stdout)
        tar.wait()
    finally:
        shutil.rmtree(root)


CONFIG = """\
# emulation config: a short learning period so the run fits in a minute
threshold: 60
window_seconds: 300
learning:
  seconds: 5
ioc_files: [ioc.txt]
allow:
  # CI churn: short --rm containers, fresh build paths and an artifact server
  - image: "boxwatch-ci*"
    signals: [new_container, ephemeral_container, file_off_baseline, unexpected_destination]
  - image: "boxwatch-ci*"
    destinations: [198.51.100.0/24]
"""

IOCS = """\
# emulation IOC list (documentation ranges: nothing real)
203.0.113.0/24
2001:db8:66::/48
"""

BENIGN = "cat /etc/hostname /etc/passwd >/dev/null; ls /bin >/dev/null; echo ok >/tmp/ok; cat /tmp/ok >/dev/null"

# Each step sleeps first so the sensor has the container's metadata, and
# between signals so the latencies are told apart.
ATTACK = f"""\
sleep 1.5
nc -w 1 {IOC_V4} 443
nc -w 1 {IOC_V4_MAPPED} 443
nc -w 1 {IOC_V6} 443
sleep 0.5
cat /etc/shadow
cd /etc && cat shadow
cat /var/run/docker.sock
sleep 0.5
cp /bin/busybox /tmp/.kit && /tmp/.kit true
cat /root/.profile
sleep 1
"""

CI = f"""\
mkdir -p /tmp/build-$$ && cd /tmp/build-$$
for i in 1 2 3 4 5 6 7 8; do cp /src/main.c unit$i.c; cat unit$i.c > unit$i.o; done
cat *.o > app && ls -l app >/dev/null && grep -c main unit1.c >/dev/null
nc -w 1 {ALLOWED_ARTIFACTS} 80 </dev/null || true
nc -w 1 127.0.0.1 8080 </dev/null || true
"""

# action -> the signal whose alert it must raise
EXPECTED = {
    "connect to IOC addresses": "ioc_destination",
    "read credentials, runtime socket": "sensitive_file",
    "open/exec off the image's baseline": "file_off_baseline",
    "external address never seen": "unexpected_destination",
    "detached auto-remove launch": "ephemeral_container",
}


def parse_time(ts):
    """'2026-12-03T19:45:49.500621424Z' -> Unix seconds (nanoseconds kept)."""
    whole, frac = ts.rstrip("Z").split(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    return t + int(frac) / 10 ** len(frac)


def main():
    keep = "--keep" in sys.argv
    ci_count = 12
    if "--ci-containers" in sys.argv:
        ci_count = int(sys.argv[sys.argv.index("--ci-containers") + 1])
    if os.geteuid() != 0:
        sys.exit("emulate.py: run as root (it loads the sensor and starts containers)")
    work = tempfile.mkdtemp(prefix="boxwatch-emulate.")
    started_docker = sh("docker", "info", check=False).returncode != 0
    sh("bash", os.path.join(ROOT, "scripts/docker-env.sh"), "up")
    failures = []
    sensor = None
    try:
        make_image("boxwatch-emu:latest", "emu")
        make_image("boxwatch-ci:latest", "ci")
        with open(os.path.join(work, "boxwatch.yaml"), "w") as f:
            f.write(CONFIG)
        with open(os.path.join(work, "ioc.txt"), "w") as f:
            f.write(IOCS)
        dump = os.path.join(work, "emulation.bwdump")
        obj = os.environ.get("BOXWATCH_BPF_OBJECT", os.path.join(ROOT, "build/bpf/boxwatch.bpf.o"))
        cmd = [binary(), "run", "--json", "--config", os.path.join(work, "boxwatch.yaml"),
               "--state-dir", os.path.join(work, "state"), "--record", dump, "--bpf-object", obj]
        err = open(os.path.join(work, "run.err"), "w")
        sensor = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        alerts = []  # (arrival unix time, line)

        def reader():
            for line in sensor.stdout:
                alerts.append((time.time(), line))
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(os.path.join(work, "run.err")) as f:
                if "attached" in f.read():
                    break
            if sensor.poll() is not None:
                raise SystemExit("emulate.py: the sensor exited: " + open(os.path.join(work, "run.err")).read())
            time.sleep(0.1)

        print("== learning: 3 benign boxwatch-emu containers")
        learn_start = time.time()
        for _ in range(3):
            sh("docker", "run", "--rm", "--network=none", "boxwatch-emu", "sh", "-c", BENIGN)
        time.sleep(max(0, 6.5 - (time.time() - learn_start)))

        print("== attack: docker run --rm -d --network=none boxwatch-emu")
        attack_id = sh("docker", "run", "--rm", "-d", "--network=none", "boxwatch-emu", "sh", "-c", ATTACK).stdout.strip()
        print(f"   container {attack_id}")
        deadline = time.time() + 30
        while time.time() < deadline and sh("docker", "inspect", attack_id, check=False).returncode == 0:
            time.sleep(0.2)

        print(f"== CI-like workload: {ci_count} docker run --rm boxwatch-ci containers")
        ci_ids = []
        for i in range(ci_count):
            cid = os.path.join(work, f"ci{i}.cid")
            sh("docker", "run", "--rm", "--cidfile", cid, "--network=none", "boxwatch-ci", "sh", "-c", CI)
            ci_ids.append(open(cid).read().strip())
        time.sleep(1.5)
    finally:
        if sensor:
            sensor.send_signal(signal.SIGINT)
            try:
                sensor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                sensor.kill()
                failures.append("the sensor did not stop within 30 s of SIGINT")
        if started_docker and not keep:
            sh("bash", os.path.join(ROOT, "scripts/docker-env.sh"), "down", check=False)

    t.join(timeout=5)
    parsed = [(arrival, json.loads(line), line) for arrival, line in alerts]
    print(f"\n== {len(parsed)} alerts")
    for arrival, a, _ in parsed:
        c = a.get("container", {}).get("id", "sensor")
        ev = a["boxwatch"]["alert"]["evidence"]
        print(f"   #{a['boxwatch']['alert']['sequence']:<3} {a['event']['action']:<24} {a['boxwatch']['alert']['severity']:<8} "
              f"risk {a['event']['risk_score']:<3} container {c[:12]} evidence {ev[0]['detail'][:60] if ev else '-'}")

    print("\n== indicators (attack container)")
    for action, signal_name in EXPECTED.items():
        hit = [(arr, a) for arr, a, _ in parsed
               if a["event"]["action"] == signal_name and a.get("container", {}).get("id") == attack_id]
        if not hit:
            failures.append(f"{action}: no {signal_name} alert for {attack_id[:12]}")
            print(f"   FAIL {action}: no {signal_name} alert")
            continue
        arrival, a = hit[0]
        # the alert's time is the event that raised it (the action itself)
        latency = arrival - parse_time(a["@timestamp"])
        ok = latency <= 1.0
        if not ok:
            failures.append(f"{action}: alert {latency:.3f} s after the action")
        print(f"   {'ok  ' if ok else 'FAIL'} {action:<34} -> {signal_name:<20} at {a['@timestamp']} latency {latency * 1000:.0f} ms")

    ci_alerts = [a for _, a, _ in parsed if a.get("container", {}).get("id") in ci_ids
                 or a.get("container", {}).get("image", {}).get("name", "").startswith("boxwatch-ci")]
    print(f"\n== CI-like workload: {len(ci_ids)} containers, {len(ci_alerts)} alerts")
    if len(ci_ids) != ci_count:
        failures.append(f"only {len(ci_ids)} of {ci_count} CI containers reported their cgroup")
    if ci_alerts:
        failures.append(f"the CI-like workload raised {len(ci_alerts)} alerts")
    other = [a for _, a, _ in parsed if a.get("container", {}).get("id") not in [attack_id] + ci_ids]
    if other:
        failures.append(f"{len(other)} alerts for other containers or the sensor: " + ", ".join(a["event"]["action"] for a in other))

    print("\n== replay of the recorded dump")
    # no --config: the dump carries the run's config, IOC list and starting baselines
    rep = sh(binary(), "replay", "--alerts-only", "--json", dump, check=False)
    live_lines = [line for _, _, line in parsed]
    replay_lines = rep.stdout.splitlines(keepends=True)
    same = rep.returncode == 0 and replay_lines == live_lines
    print(f"   replay exit {rep.returncode}: {len(replay_lines)} alert lines, "
          + ("identical to the live run's" if same else "DIFFERENT from the live run's"))
    if not same:
        failures.append("replay alerts differ from the live alerts")
        for a, b in zip(live_lines + [""] * 5, replay_lines + [""] * 5):
            if a != b:
                print("   live:   " + a.strip()[:300] + "\n   replay: " + b.strip()[:300])
                break

    print("\n== each action of the attack container (events of the replayed dump)")
    ev = sh(binary(), "replay", "--json", "--kind", "exec,open,connect", "--container", attack_id, dump, check=False)
    events = [json.loads(l) for l in ev.stdout.splitlines()]
    actions = [  # (what, predicate on the event, signal its score must carry)
        ("connect " + IOC_V4, lambda e: e.get("destination", {}).get("address") == IOC_V4, "ioc_destination"),
        ("connect " + IOC_V4_MAPPED + " (IPv4-mapped)", lambda e: e.get("destination", {}).get("address") == IOC_V4_MAPPED.split(":")[-1], "ioc_destination"),
        ("connect " + IOC_V6, lambda e: e.get("destination", {}).get("address") == IOC_V6, "ioc_destination"),
        ("open /etc/shadow", lambda e: e.get("boxwatch", {}).get("path") == "/etc/shadow", "sensitive_file"),
        ("open shadow relative to cwd /etc", lambda e: e.get("boxwatch", {}).get("path") == "shadow" and e.get("file", {}).get("path") == "/etc/shadow", "sensitive_file"),
        ("open /var/run/docker.sock", lambda e: e.get("file", {}).get("path") == "/var/run/docker.sock", "sensitive_file"),
        ("exec /tmp/.kit", lambda e: e["event"]["action"] == "exec" and e.get("boxwatch", {}).get("exe") == "/tmp/.kit", "file_off_baseline"),
        ("open /root/.profile", lambda e: e.get("file", {}).get("path") == "/root/.profile", "file_off_baseline"),
    ]
    scores = {}
    for what, pred, sig in actions:
        hits = [e for e in events if pred(e)]
        reasons = [r["signal"] for r in hits[0]["boxwatch"].get("reasons", [])] if hits else []
        score = hits[0]["event"].get("risk_score") if hits else None
        scores[what] = (score, reasons)
        ok = sig in reasons
        if not ok:
            failures.append(f"{what}: expected {sig} in its reasons, got {reasons or 'no event'}")
        print(f"   {'ok  ' if ok else 'FAIL'} {what:<44} score {score} {reasons}")
    v4, mapped = scores["connect " + IOC_V4], scores["connect " + IOC_V4_MAPPED + " (IPv4-mapped)"]
    if v4 != mapped:
        failures.append(f"the IPv4-mapped connect scored {mapped}, the IPv4 one {v4}")

    print(f"\nwork files: {work}" if keep else "")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("emulate.py: FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("emulate.py: PASS: every indicator alerted within 1 s for the right container; "
          "the CI-like workload raised none; replay gives the same alerts")


if __name__ == "__main__":
    main()
