#!/usr/bin/env python3
"""The benchmark behind scripts/bench.sh (which installs and builds first).

For each workload (open, connect, exec) and repetition, in alternation, every
tracer runs the same workload (build/bench/workload, pinned to CPU 1; the
tracer on CPU 0): no tracer, the reference libbpf consumer (per-event and
batched wake-ups), bpftrace, bcc (tracepoint opensnoop/execsnoop), and
boxwatch twice: `tail --json` to /dev/null, and the agent (`run`: scoring on,
alerts only). Measured: ns per operation (the workload's own clock), events
captured versus expected, the tracer's CPU seconds from the workload's start
until it has drained, its peak RSS. boxwatch's capture is exact by its own
accounting line (seen = delivered + dropped): with no drop, every event
arrived. Then the replay rate of a recorded dump with scoring on one core.
Medians of the repetitions; the last line is the summary.
"""
import os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = int(os.environ.get("REPS", "1" if QUICK else "3"))
N = {"open": int(os.environ.get("N_OPEN", 200_000 if QUICK else 2_000_000)),
     "connect": int(os.environ.get("N_CONNECT", 20_000 if QUICK else 200_000)),
     "exec": int(os.environ.get("N_EXEC", 2_000 if QUICK else 20_000))}
N_REPLAY = int(os.environ.get("N_REPLAY", 200_000 if QUICK else 1_000_000))
WORKLOADS = os.environ.get("WORKLOADS", "open connect exec").split()
WL_CPU, TRACER_CPU = "1", "0"
HZ = os.sysconf("SC_CLK_TCK")
KIT = os.path.join(ROOT, "build/bench")
BIN = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], capture_output=True, text=True,
                     check=True).stdout.strip() + "/boxwatch"
OBJ = os.path.join(ROOT, "build/bpf/boxwatch.bpf.o")
STATE = tempfile.mkdtemp(prefix="boxwatch-bench.")
BT = {
    "open": 'BEGIN { printf("READY\\n"); } tracepoint:syscalls:sys_enter_openat { printf("%d %s %s\\n", pid, comm, str(args->filename)); }',
    "exec": 'BEGIN { printf("READY\\n"); } tracepoint:syscalls:sys_enter_execve { printf("%d %s %s\\n", pid, comm, str(args->filename)); }',
    "connect": 'BEGIN { printf("READY\\n"); } tracepoint:syscalls:sys_enter_connect { $sa = (struct sockaddr_in *)args->uservaddr; '
               'printf("%d %s 127.0.0.1:%d\\n", pid, comm, bswap($sa->sin_port)); }',
}
# name, workloads, ready text, argv (WL and TAG substituted), how captured is counted
TRACERS = [
    ("none", "open connect exec", None, None, None),
    ("ref", "open connect exec", "READY", [f"{KIT}/ref_consumer", "-m", "WL", "-t", "TAG"], "matched"),
    ("ref_batch", "open connect exec", "READY", [f"{KIT}/ref_consumer", "-m", "WL", "-t", "TAG", "-w", "1024"], "matched"),
    ("bpftrace", "open connect exec", "READY", ["bpftrace", "-e", "BT"], "tag"),
    ("bcc_tp", "open exec", "PID", ["/usr/bin/python3", f"{KIT}/bcc_snoop.py", "WL"], "tag"),
    ("boxwatch_json", "open connect exec", "attached", [BIN, "tail", "--json", "--bpf-object", OBJ], "accounting"),
    ("boxwatch_agent", "open connect exec", "attached", [BIN, "run", "--state-dir", STATE, "--bpf-object", OBJ], "accounting"),
]


def ticks(pid):
    try:
        s = open(f"/proc/{pid}/stat").read()
    except OSError:
        return 0
    f = s.rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def hwm_mib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_one(wl, name, ready, argv, count, rep):
    d = f"/tmp/benchwl/{wl}-{name}-{rep}-{os.getpid()}"
    tag = {"open": d + "/file", "exec": d + "/true", "connect": "127.0.0.1:1"}[wl]
    row = {"workload": wl, "tracer": name, "status": "ok", "expected": N[wl]}
    proc = None
    out_path = os.path.join(STATE, f"{wl}-{name}.out")
    err_path = os.path.join(STATE, f"{wl}-{name}.err")
    if argv:
        exe = argv[0]
        if not (os.path.exists(exe) or shutil.which(exe)):
            row["status"] = f"missing: {exe}"
            return row
        args = [a.replace("WL", wl).replace("TAG", tag) if a in ("WL", "TAG") else a for a in argv]
        args = [BT[wl] if a == "BT" else a for a in args]
        out = open(os.devnull, "w") if name.startswith("boxwatch") else open(out_path, "w")
        err = open(err_path, "w")
        proc = subprocess.Popen(["taskset", "-c", TRACER_CPU] + args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.time() + 120
        while time.time() < deadline:
            text = (open(out_path).read() if not name.startswith("boxwatch") else "") + open(err_path).read()
            if ready in text:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        if proc.poll() is not None or time.time() >= deadline:
            row["status"] = "did not start: " + (open(err_path).read().strip().splitlines() or ["?"])[-1][:90]
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            return row
        time.sleep(1)
        c0 = ticks(proc.pid)
    wl_out = subprocess.run(["taskset", "-c", WL_CPU, f"{KIT}/workload", wl, str(N[wl]), "-d", d, "-p", "1"],
                            capture_output=True, text=True)
    m = re.search(r"ns_per_op=([0-9.]+)", wl_out.stdout)
    row["ns_per_op"] = float(m.group(1)) if m else None
    if proc:
        prev, idle = ticks(proc.pid), 0
        for _ in range(1200):  # drained: two quiet half-seconds in a row
            time.sleep(0.5)
            now = ticks(proc.pid)
            idle = idle + 1 if now - prev <= 1 else 0
            prev = now
            if idle >= 2:
                break
        row["cpu_s"] = (ticks(proc.pid) - c0) / HZ
        row["rss_mib"] = hwm_mib(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err_text = open(err_path).read()
        if count == "matched":
            m = re.search(r"matched=(\d+)", open(out_path).read())
            row["captured"] = int(m.group(1)) if m else None
            m = re.search(r"drops=(\d+)", open(out_path).read())
            row["drops"] = int(m.group(1)) if m else None
        elif count == "tag":
            row["captured"] = sum(1 for line in open(out_path, errors="replace") if tag in line)
            row["drops"] = sum(int(x) for x in re.findall(r"(?:Lost|lost) (\d+) (?:events|samples)", open(out_path).read() + err_text))
        else:
            m = re.search(r"accounting: seen (\d+) = delivered (\d+) \+ dropped (\d+).*?(\(exact\))?$", err_text, re.M)
            if m:
                row["drops"] = int(m.group(3))
                row["captured"] = N[wl] if row["drops"] == 0 else None
                row["exact"] = bool(m.group(4))
            else:
                row["status"] = "no accounting line"
        for p in (out_path,):
            if os.path.exists(p):
                os.unlink(p)
    else:
        row["captured"] = N[wl]
    if row.get("captured") is not None:
        row["loss_pct"] = (N[wl] - row["captured"]) * 100 / N[wl]
    elif row.get("drops") is not None:
        row["loss_pct"] = row["drops"] * 100 / N[wl]  # upper bound: drops include other processes' events
    shutil.rmtree(d, ignore_errors=True)
    print(f"[{time.strftime('%T')}] {wl}/{name} rep {rep}: {row.get('ns_per_op')} ns/op, captured {row.get('captured')}/{N[wl]}, "
          f"cpu {row.get('cpu_s')} s, rss {row.get('rss_mib')} MiB, drops {row.get('drops')} {row['status'] if row['status'] != 'ok' else ''}",
          file=sys.stderr)
    time.sleep(1)
    return row


def replay_rate():
    """Records a dump of N_REPLAY opens, then replays it with scoring (alerts only) on one core."""
    dump = os.path.join(STATE, "replay.bwdump")
    rec = subprocess.Popen(["taskset", "-c", TRACER_CPU, BIN, "record", "--output", dump, "--bpf-object", OBJ],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    d = f"/tmp/benchwl/replay-{os.getpid()}"
    subprocess.run(["taskset", "-c", WL_CPU, f"{KIT}/workload", "open", str(N_REPLAY), "-d", d], capture_output=True)
    time.sleep(2)
    rec.send_signal(signal.SIGINT)
    rec.wait(timeout=120)
    shutil.rmtree(d, ignore_errors=True)
    info = subprocess.run([BIN, "replay", "--info", dump], capture_output=True, text=True).stdout
    records = int(re.search(r"records:\s+(\d+)", info).group(1))
    best = None
    for _ in range(1 if QUICK else 3):
        t0 = time.time()
        subprocess.run(["taskset", "-c", TRACER_CPU, BIN, "replay", "--alerts-only", dump], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        el = time.time() - t0
        best = el if best is None else min(best, el)
    os.unlink(dump)
    return records, records / best


def med(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(v) if v else None


def main():
    print(f"bench: kernel {os.uname().release}, {os.cpu_count()} CPUs, REPS={REPS}, N={N}, replay {N_REPLAY}"
          + (" (BENCH_QUICK)" if QUICK else ""), file=sys.stderr)
    rows = []
    for wl in WORKLOADS:
        for rep in range(1, REPS + 1):
            for name, wls, ready, argv, count in TRACERS:
                if wl in wls.split():
                    rows.append(run_one(wl, name, ready, argv, count, rep))
    records, eps = replay_rate()

    fmt = lambda v, f="%.0f": "" if v is None else f % v
    print("| workload | tracer | runs | ns/op | added ns | vs none | expected | captured | loss % | drops | CPU s | CPU µs/event | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for wl in WORKLOADS:
        base = med([r for r in rows if r["workload"] == wl and r["tracer"] == "none"], "ns_per_op")
        for name, wls, *_ in TRACERS:
            rs = [r for r in rows if r["workload"] == wl and r["tracer"] == name]
            if not rs:
                continue
            ok = [r for r in rs if r["status"] == "ok"]
            if not ok:
                print(f"| {wl} | {name} | 0/{len(rs)} | {rs[0]['status']} | | | {N[wl]} | | | | | | |")
                continue
            ns, cpu = med(ok, "ns_per_op"), med(ok, "cpu_s")
            added = ns - base if ns is not None and base else None
            summary[(wl, name)] = {"added": added, "cpu": cpu, "rss": med(ok, "rss_mib"), "loss": med(ok, "loss_pct")}
            print(f"| {wl} | {name} | {len(ok)}/{len(rs)} | {fmt(ns)} | {fmt(added)} | {fmt(ns / base if base and ns else None, '%.2fx')} | "
                  f"{N[wl]} | {fmt(med(ok, 'captured'))} | {fmt(med(ok, 'loss_pct'), '%.3f')} | {fmt(med(ok, 'drops'))} | "
                  f"{fmt(cpu, '%.2f') if name != 'none' else ''} | {fmt(cpu * 1e6 / N[wl] if cpu is not None else None, '%.2f')} | "
                  f"{fmt(med(ok, 'rss_mib'), '%.1f')} |")
    print(f"\nreplay: {records} records of an open storm, `replay --alerts-only` (scoring on) on one core: {eps:,.0f} records/s")
    agent, ref = summary.get(("open", "boxwatch_agent"), {}), summary.get(("open", "ref_batch"), {})
    jsonrow = summary.get(("open", "boxwatch_json"), {})
    ratio = agent["added"] / ref["added"] if agent.get("added") and ref.get("added") else float("nan")
    loss = max((s.get("loss") or 0) for k, s in summary.items() if k[1].startswith("boxwatch"))
    cpu_us = agent["cpu"] * 1e6 / N["open"] if agent.get("cpu") is not None else float("nan")
    json_us = jsonrow["cpu"] * 1e6 / N["open"] if jsonrow.get("cpu") is not None else float("nan")
    print(f"tail --json to /dev/null: {json_us:.2f} µs CPU per event (open storm)")
    print(f"open_overhead_ratio={ratio:.2f} loss_pct={loss:.3f} cpu_us_per_event={cpu_us:.2f} "
          f"rss_mib={agent.get('rss') or float('nan'):.1f} replay_eps={eps:.0f}")
    shutil.rmtree(STATE, ignore_errors=True)


if __name__ == "__main__":
    main()
