import BoxwatchCore
import BoxwatchHost
import Glibc

let usage = """
    boxwatch — a Linux host sensor for exec, file-open and connect events, attributed to containers

    usage:
      boxwatch tail [options]     live events, one per line, scored; alerts stand out (Ctrl-C stops)
      boxwatch run [options]      the agent: alerts only; baselines kept in --state-dir (default
                                  /var/lib/boxwatch); SIGHUP reloads --config and --ioc files
      boxwatch check-config FILE [--ioc FILE]...   validate a config and IOC lists (errors: file:line:column)
      boxwatch record --output FILE [--duration S] [--max-size SIZE [--rotate]] [--kind/--container/--pid/--cgroup] [sensor options]
                                  capture the raw records, state and counters to a dump file
      boxwatch replay FILE [--json] [--speed max|realtime] [--alerts-only] [output and scoring options]
                                  print a dump's events and alerts exactly as the live tail (or run) printed them
      boxwatch replay --info FILE header, counts per kind, losses and time span
      boxwatch replay --containers FILE   the containers a dump saw, with lifetimes and counts
      boxwatch containers [--duration S] [--json]   watch, then list live and recent containers
      boxwatch preflight          check that this host can run the sensor
      boxwatch version
      boxwatch help               this text (also: boxwatch tail --help)

    output options (tail, replay):
      --json                 one ECS JSON object per line
      --kind K[,K]           exec, open, connect, container (start/exit), cgroup (default: all but cgroup)
      --container ID[,ID]    full or short container IDs, or 'host'
      --pid N[,N]            only these processes
      --cgroup PATH          only processes in this cgroup2 subtree (repeatable; record: only these are kept)
      --color auto|always|never

    scoring options (tail, run, replay):
      --config FILE          rules and settings (YAML, docs/config.md; default: built in)
      --ioc FILE             IOC list: one address or CIDR per line, # comments (repeatable)
      --state-dir DIR        keep image baselines there (run: default /var/lib/boxwatch; replay only reads)
      --learn                learning mode: baselines learn, nothing alerts
      --no-score             events only (tail, replay)

    sensor options (tail, run, record):
      --duration SECONDS     stop after this long
      --ring-size SIZE       BPF ring buffer bytes, a power of two (default 16M)
      --include-self         also show the sensor's own activity
      --ignore-cgroup PATH   leave out a cgroup2 subtree's events in the kernel (repeatable)
      --ignore-comm NAME     leave out tasks of this name in the kernel (repeatable; names are
                             the task's own choice: an attacker can take one, prefer cgroups)
      --ignore-path PREFIX   leave out opens under an absolute path prefix in the kernel (up to 8;
                             paths with a "/." component are kept)
      --containers-only      leave out host cgroups' events in the kernel (unclassified cgroups stay)
      --host-only            leave out containers' events in the kernel
      --record FILE          (tail, run) also write the records to a dump: its replay prints the same lines
      --bpf-object PATH      the compiled BPF object (default: found next to the binary or in build/bpf)
      --docker-root DIR      dockerd's --data-root, for container names and images (default /var/lib/docker)

    """

func fail(_ message: String, code: Int32) -> Never {
    FDWriter(fd: 2).write(message.hasPrefix("boxwatch") ? message + "\n" : "boxwatch: \(message)\n")
    exit(code)
}

var argv = Array(CommandLine.arguments.dropFirst())

/// The rest of the command line for a subcommand; `--help` prints the usage.
@MainActor func arguments(for name: String) -> Arguments {
    var args = Arguments(argv, command: "boxwatch \(name)")
    if args.flag("--help", "-h") { print(usage, terminator: ""); exit(0) }
    return args
}
let command = argv.isEmpty ? "help" : argv.removeFirst()
do {
    switch command {
    case "tail": exit(try Tail(arguments(for: "tail")).run())
    case "run": exit(try Tail(arguments(for: "run"), agent: true).run())
    case "check-config": exit(try CheckConfig(arguments(for: "check-config")).run())
    case "containers": exit(try Containers(arguments(for: "containers")).run())
    case "record": exit(try Record(arguments(for: "record")).run())
    case "replay": exit(try Replay(arguments(for: "replay")).run())
    case "preflight":
        try Arguments(argv, command: "boxwatch preflight").finish()
        let object = BPFObjectLocator.find(explicit: nil)
        if let problem = Preflight.check(objectPath: object) { fail(problem.description, code: 1) }
        print("boxwatch: preflight ok: root, BTF, tracefs at \(Preflight.tracefsRoot() ?? "?"), object \(object ?? "?")")
        if let mount = CgroupScanner.unifiedMount(), mount.point != "/sys/fs/cgroup" {
            print("boxwatch: note: hybrid cgroups (cgroup2 at \(mount.point)); tasks in the cgroup2 root are named by their v1 pids cgroup")
        }
    case "version", "--version":
        try Arguments(argv, command: "boxwatch version").finish()
        print("boxwatch \(boxwatchVersion) (wire format \(RecordDecoder.wireVersion))")
    case "help", "--help", "-h":
        print(usage, terminator: "")
    default:
        throw UsageError(message: "unknown command '\(command)' (commands: tail, run, check-config, containers, record, replay, preflight, version, help)")
    }
} catch let error as UsageError {
    fail(error.message, code: 2)
} catch {
    fail("\(error)", code: 1)
}
