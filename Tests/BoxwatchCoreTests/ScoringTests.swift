@testable import BoxwatchCore
import XCTest

/// The scoring engine, fed hand-made events: each expected score, signal and
/// alert below follows from the default weights (new 10, ephemeral 20, IOC 70,
/// unexpected 30, off-baseline 30, sensitive 60, spike 30, coverage 60) and
/// the threshold 60, not from what the code returned.
final class ScoringTests: XCTestCase {
    let clock = WallClock(offsetNanos: 1_700_000_000_000_000_000)
    let s: UInt64 = 1_000_000_000

    func info(_ id: String = String(repeating: "ab", count: 32), image: String? = "app:1", name: String = "web") -> ContainerInfo {
        var i = ContainerInfo(id: ContainerID(id), runtime: .docker, cgroupPath: "/docker/" + id)
        if let image { i.metadata = ContainerMetadata(name: name, image: image) }
        return i
    }

    func header(_ kind: EventKind, _ t: UInt64, pid: Int32 = 100, comm: String = "sh") -> RecordHeader {
        RecordHeader(kind: kind, version: 2, size: 0, bootTimeNanos: t, sequence: 0, cgroup: CgroupID(500), cpu: 0,
                     pid: pid, tid: pid, ppid: 1, uid: 0, gid: 0, namespacePid: 1, pidNamespace: 1, mountNamespace: 1,
                     flags: 0, comm: comm, cgroupName: WireText(""))
    }

    func open(_ path: String, dir: String? = nil, at t: UInt64, pid: Int32 = 100, comm: String = "cat") -> Event {
        var o = OpenDetail(result: 3, syscall: .openat, dirfd: dir == nil ? -100 : 5, flags: 0, mode: 0, resolve: 0, path: WireText(path))
        o.directory = dir.map { WireText($0) }
        return Event(header: header(.open, t, pid: pid, comm: comm), detail: .open(o))
    }

    func exec(_ path: String, at t: UInt64, pid: Int32 = 100) -> Event {
        Event(header: header(.exec, t, pid: pid), detail: .exec(ExecDetail(
            result: 0, syscall: .execve, dirfd: -100, atFlags: 0, filename: WireText(path), argv: [path],
            argvTruncated: false, argvFault: false, argc: 1, argcIsLowerBound: false)))
    }

    func connect(_ address: SocketAddress, at t: UInt64, pid: Int32 = 100) -> Event {
        Event(header: header(.connect, t, pid: pid, comm: "nc"), detail: .connect(ConnectDetail(
            result: -101, fd: 3, address: address, addressLength: 16, addressTruncated: false, socketType: 1, protocolNumber: 6)))
    }

    func ip(_ text: String) -> IPAddress { IPAddress(text: text)! }

    func iocs(_ text: String) throws -> NetworkSet {
        var set = NetworkSet()
        try IOCList.parse(text, file: "ioc.txt", into: &set)
        return set
    }

    func started(_ i: ContainerInfo, at t: UInt64) -> LifecycleChange {
        .started(ContainerState(info: i, created: t), at: t)
    }

    func exited(_ i: ContainerInfo, created: UInt64, at t: UInt64) -> LifecycleChange {
        var st = ContainerState(info: i, created: created)
        st.removed = t
        return .exited(st, at: t)
    }

    func score(_ sc: Scorer, _ e: Event, _ i: ContainerInfo) -> EventScore? {
        sc.score(e, attribution: .container(i), state: nil, clock: clock)
    }

    // MARK: IOC

    func testIPv4MappedConnectScoresExactlyLikeIPv4() throws {
        let list = try iocs("203.0.113.0/24\n")
        let a = Scorer(iocs: list), b = Scorer(iocs: list)
        let v4 = score(a, connect(.inet(ip("203.0.113.7"), port: 443), at: 5 * s), info())
        let mapped = score(b, connect(.inet6(ip("::ffff:203.0.113.7"), port: 443, flowInfo: 0, scopeID: 0), at: 5 * s), info())
        XCTAssertEqual(v4?.score, 70)
        XCTAssertEqual(v4?.reasons.map(\.signal), [.iocDestination])
        XCTAssertEqual(v4, mapped)
        XCTAssertEqual(a.takeAlerts().map(\.signal), [.iocDestination])
        XCTAssertEqual(b.takeAlerts().map(\.signal), [.iocDestination])
    }

    func testIOCMatchingOfRangesAndFamilies() throws {
        let list = try iocs("# c2\n203.0.113.0/24\n198.51.100.7 # one host\n2001:db8:66::/48\n::ffff:192.0.2.9\n")
        XCTAssertEqual(list.count, 4)
        XCTAssertEqual(list.match(ip("203.0.113.255")), "ioc.txt:2")
        XCTAssertNil(list.match(ip("203.0.114.0")))
        XCTAssertEqual(list.match(ip("198.51.100.7")), "ioc.txt:3")
        XCTAssertNil(list.match(ip("198.51.100.8")))
        XCTAssertEqual(list.match(ip("2001:db8:66:ffff::1")), "ioc.txt:4")
        XCTAssertNil(list.match(ip("2001:db8:67::1")))
        XCTAssertEqual(list.match(ip("192.0.2.9")), "ioc.txt:5", "a mapped entry matches the plain IPv4 address")
        XCTAssertEqual(list.match(ip("::ffff:203.0.113.1")), "ioc.txt:2")
    }

    func testIOCListErrorsNameLineAndColumn() {
        let cases: [(String, Int, Int, String)] = [
            ("203.0.113.0/24\n300.1.1.1\n", 2, 1, "not an IPv4/IPv6 address"),
            ("# ok\n  10.0.0.0/33\n", 2, 3, "not an IPv4/IPv6 address"),
            ("2001:db8::/129\n", 1, 1, "not an IPv4/IPv6 address"),
            ("1.2.3.4 5.6.7.8\n", 1, 9, "unexpected text after the address"),
            ("1.2.3.4/\n", 1, 1, "not an IPv4/IPv6 address"),
            ("\n\n\tevil.example.com\n", 3, 2, "not an IPv4/IPv6 address"),
            ("1.2.3.4/+8\n", 1, 1, "not an IPv4/IPv6 address"),
        ]
        for (text, line, column, fragment) in cases {
            var set = NetworkSet()
            XCTAssertThrowsError(try IOCList.parse(text, file: "ioc.txt", into: &set), text) { error in
                let e = error as! ConfigError
                XCTAssertEqual(e.file, "ioc.txt")
                XCTAssertEqual([e.line, e.column], [line, column], text)
                XCTAssertTrue(e.message.contains(fragment), e.message)
            }
        }
    }

    // MARK: paths

    func testRelativeOpenOfASensitiveFileThroughADirfdIsThatFile() {
        let sc = Scorer()
        let c = info()
        let viaDirfd = score(sc, open("shadow", dir: "/etc", at: 5 * s), c)
        XCTAssertEqual(viaDirfd?.reasons.first?.signal, .sensitiveFile)
        XCTAssertEqual(viaDirfd?.score, 60)
        let dotted = score(sc, open("../etc/./shadow", dir: "/root", at: 6 * s), c)
        XCTAssertEqual(dotted?.reasons.map(\.signal), [.sensitiveFile])
        let environ = score(sc, open("/proc/1/environ", at: 7 * s), c)
        XCTAssertEqual(environ?.reasons.map(\.signal), [.sensitiveFile])
        let key = score(sc, open("id_ed25519", dir: "/root/.ssh", at: 8 * s), c)
        XCTAssertEqual(key?.reasons.map(\.signal), [.sensitiveFile])
        // no directory (a version-1 record): unknown, never guessed
        XCTAssertEqual(score(sc, open("shadow", at: 9 * s), c)?.score, 0)
        XCTAssertEqual(score(sc, open("/etc/shadowy", at: 9 * s), c)?.score, 0)
    }

    func testPathPatternsAndGlobs() {
        XCTAssertTrue(PathPattern("/root/.ssh/").matches("/root/.ssh"))
        XCTAssertTrue(PathPattern("/root/.ssh/").matches("/root/.ssh/keys/id_rsa"))
        XCTAssertFalse(PathPattern("/root/.ssh/").matches("/root/.sshx"))
        XCTAssertTrue(PathPattern("/proc/*/environ").matches("/proc/4242/environ"))
        XCTAssertFalse(PathPattern("/proc/*/environ").matches("/proc/1/task/1/environ"))
        XCTAssertTrue(PathPattern("/home/*/.ssh/").matches("/home/ann/.ssh/authorized_keys"))
        XCTAssertTrue(Glob("registry.local/ci/*").matches("registry.local/ci/runner:3"))
        XCTAssertFalse(Glob("registry.local/ci/*").matches("registry.local/cia"))
        XCTAssertTrue(Glob("*-build-*").matches("app-build-17"))
        XCTAssertFalse(Glob("build").matches("builder"))
        XCTAssertTrue(Glob("a*b*c").matches("a--b--c"))
        XCTAssertFalse(Glob("a*b*c").matches("a--c--b"))
    }

    // MARK: alerts

    func testOneAlertPerContainerAndSignalWithinTheWindow() throws {
        let sc = Scorer(iocs: try iocs("203.0.113.0/24\n"))
        let c = info()
        sc.lifecycle(started(c, at: 1 * s), clock: clock)
        XCTAssertTrue(sc.takeAlerts().isEmpty, "a new container alone (10) is below 60")
        _ = score(sc, connect(.inet(ip("203.0.113.9"), port: 443), at: 2 * s), c)
        let first = sc.takeAlerts()
        XCTAssertEqual(first.map(\.signal), [.newContainer, .iocDestination])
        XCTAssertEqual(first.map(\.risk), [80, 80])
        XCTAssertEqual(first.map(\.sequence), [1, 2])
        XCTAssertEqual(first[1].techniques.map(\.id), ["T1608.002"])
        XCTAssertEqual(first[0].techniques.map(\.id), ["T1610", "T1608.002"])
        XCTAssertEqual(first[1].evidence.map(\.detail), ["tcp 203.0.113.9:443 -> ENETUNREACH"])
        XCTAssertEqual(first[1].container?.id, c.id)
        _ = score(sc, connect(.inet(ip("203.0.113.10"), port: 443), at: 3 * s), c)
        XCTAssertTrue(sc.takeAlerts().isEmpty, "same container and signal inside the window: no second alert")
        // 300 s window: at 2 s + 301 s the IOC contact alerts again; the start has aged out
        _ = score(sc, connect(.inet(ip("203.0.113.11"), port: 443), at: 303 * s), c)
        let again = sc.takeAlerts()
        XCTAssertEqual(again.map(\.signal), [.iocDestination])
        XCTAssertEqual(again.map(\.risk), [70])
    }

    func testSignalsBelowTheThresholdAddUpToAnAlert() {
        var config = ScoringConfig()
        config.threshold = 70
        let sc = Scorer(config: config)
        let c = info()
        XCTAssertEqual(score(sc, open("/etc/shadow", at: 2 * s), c)?.score, 60)
        XCTAssertTrue(sc.takeAlerts().isEmpty, "60 < 70")
        sc.lifecycle(exited(c, created: 1 * s, at: 4 * s), clock: clock)  // lived 3 s: ephemeral (20)
        let alerts = sc.takeAlerts()
        XCTAssertEqual(alerts.map(\.signal), [.ephemeralContainer, .sensitiveFile])
        XCTAssertEqual(alerts.map(\.risk), [80, 80])
        XCTAssertEqual(alerts.map(\.severity), [.high, .high])
    }

    func testSeverityRisesWithCombinedSignals() {
        XCTAssertEqual(Scorer.severity([.iocDestination]), .medium)
        XCTAssertEqual(Scorer.severity([.newContainer, .iocDestination]), .medium)
        XCTAssertEqual(Scorer.severity([.iocDestination, .sensitiveFile]), .high)
        XCTAssertEqual(Scorer.severity([.ephemeralContainer, .iocDestination, .sensitiveFile]), .critical)
    }

    func testDetachedAutoRemoveLaunchIsEphemeralAtOnce() throws {
        let sc = Scorer(iocs: try iocs("203.0.113.0/24\n"))
        var c = info(image: nil)
        sc.lifecycle(started(c, at: 1 * s), clock: clock)
        _ = score(sc, exec("/bin/sh", at: 1 * s + 5), c)
        c.metadata = ContainerMetadata(name: "x", image: "tool:latest", autoRemove: true, detached: true)
        sc.metadata(ContainerState(info: c, created: 1 * s), clock: clock)
        XCTAssertTrue(sc.takeAlerts().isEmpty, "10 + 20 < 60")
        _ = score(sc, connect(.inet(ip("203.0.113.1"), port: 80), at: 2 * s), c)
        XCTAssertEqual(sc.takeAlerts().map(\.signal), [.newContainer, .ephemeralContainer, .iocDestination])
    }

    func testLearningModeNeverAlerts() throws {
        var config = ScoringConfig()
        config.learningMode = true
        let sc = Scorer(config: config, iocs: try iocs("203.0.113.0/24\n"))
        XCTAssertEqual(score(sc, connect(.inet(ip("203.0.113.1"), port: 80), at: 2 * s), info())?.score, 70)
        XCTAssertTrue(sc.takeAlerts().isEmpty)
    }

    func testCoverageDegradedIsASensorAlert() {
        let sc = Scorer()
        sc.loss(dropped: 0, detail: "")
        XCTAssertTrue(sc.takeAlerts().isEmpty)
        sc.loss(dropped: 12, detail: "LOST 12 events")
        let a = sc.takeAlerts()
        XCTAssertEqual(a.map(\.signal), [.coverageDegraded])
        XCTAssertNil(a.first?.container)
        XCTAssertEqual(a.first?.risk, 60)
    }

    // MARK: baselines

    func testBaselineLearnsThenScoresDeviations() {
        var config = ScoringConfig()
        config.learningSeconds = 10
        let sc = Scorer(config: config)
        let a = info(String(repeating: "a", count: 64)), b = info(String(repeating: "b", count: 64))
        _ = score(sc, exec("/usr/bin/app", at: 1 * s), a)
        _ = score(sc, open("/etc/app.conf", at: 1 * s), a)
        _ = score(sc, connect(.inet(ip("192.0.2.80"), port: 443), at: 2 * s), a)
        // 11 s later the image's baseline is trusted
        XCTAssertEqual(score(sc, open("/etc/app.conf", at: 12 * s, pid: 200), b)?.score, 0)
        XCTAssertEqual(score(sc, exec("/usr/bin/app", at: 12 * s, pid: 200), b)?.score, 0)
        XCTAssertEqual(score(sc, connect(.inet(ip("192.0.2.80"), port: 443), at: 12 * s, pid: 200), b)?.score, 0)
        XCTAssertEqual(score(sc, open("/tmp/.x", at: 13 * s, pid: 200), b)?.reasons.map(\.signal), [.fileOffBaseline])
        XCTAssertEqual(score(sc, exec("/tmp/.x", at: 13 * s, pid: 200), b)?.score, 30)
        XCTAssertEqual(score(sc, connect(.inet(ip("192.0.2.81"), port: 443), at: 14 * s, pid: 200), b)?.reasons.map(\.signal),
                       [.unexpectedDestination])
        // loopback and internal networks are never "external"
        XCTAssertEqual(score(sc, connect(.inet(ip("127.0.0.1"), port: 80), at: 15 * s, pid: 200), b)?.score, 0)
        XCTAssertEqual(score(sc, connect(.inet(ip("10.1.2.3"), port: 80), at: 15 * s, pid: 200), b)?.score, 0)
        XCTAssertEqual(sc.takeAlerts().map(\.signal), [.unexpectedDestination, .fileOffBaseline],
                       "30 + 30 reaches 60 with the second kind of deviation")
    }

    func testRuntimeInitIsNotTheImagesBehaviourButRenamedWorkloadIs() {
        var config = ScoringConfig()
        config.learningSeconds = 0
        let sc = Scorer(config: config)
        let c = info()
        _ = score(sc, open("/etc/learned", at: 1 * s), c)  // keys and freezes the baseline
        // runc's init opening host paths before it execs the workload: not the image's baseline...
        XCTAssertEqual(score(sc, open("/var/lib/docker/overlay2/x/merged/proc", at: 2 * s, pid: 300, comm: "runc:[2:INIT]"), c)?.score, 0)
        // ...but never exempt from the sensitive-file and IOC checks
        XCTAssertEqual(score(sc, open("/etc/shadow", at: 2 * s, pid: 300, comm: "runc:[2:INIT]"), c)?.reasons.map(\.signal), [.sensitiveFile])
        XCTAssertFalse(Scorer.isRuntimeInit("runcmd"))
        XCTAssertFalse(Scorer.isRuntimeInit("crunchy"))
        _ = score(sc, exec("/bin/sh", at: 3 * s, pid: 300), c)
        // after its exec the same pid is workload, whatever it calls itself
        XCTAssertEqual(score(sc, open("/tmp/a", at: 4 * s, pid: 300, comm: "runc"), c)?.reasons.map(\.signal), [.fileOffBaseline])
        let fork = Event(header: header(.fork, 5 * s, pid: 300), detail: .fork(childPid: 301))
        _ = score(sc, fork, c)
        XCTAssertEqual(score(sc, open("/tmp/b", at: 6 * s, pid: 301, comm: "runc:[2:INIT]"), c)?.reasons.map(\.signal), [.fileOffBaseline])
    }

    func testAllowRulesSilenceOnlyWhatTheyName() throws {
        var config = ScoringConfig()
        config.learningSeconds = 0
        var ci = AllowRule()
        ci.image = "ci-*"
        ci.signals = [.newContainer, .ephemeralContainer, .fileOffBaseline]
        var artifacts = AllowRule()
        artifacts.image = "ci-*"
        artifacts.destinations = [IPNetwork("198.51.100.0/24")!]
        config.allow = [ci, artifacts]
        let sc = Scorer(config: config, iocs: try iocs("203.0.113.0/24\n"))
        let c = info(image: "ci-runner:3")
        sc.lifecycle(started(c, at: 1 * s), clock: clock)
        _ = score(sc, open("/etc/seen", at: 1 * s), c)
        XCTAssertEqual(score(sc, open("/work/new/obj.o", at: 2 * s), c)?.score, 0)
        XCTAssertEqual(score(sc, connect(.inet(ip("198.51.100.10"), port: 80), at: 2 * s), c)?.score, 0)
        sc.lifecycle(exited(c, created: 1 * s, at: 3 * s), clock: clock)
        XCTAssertTrue(sc.takeAlerts().isEmpty)
        // an IOC is not allowed by either rule
        let d = info(String(repeating: "d", count: 64), image: "ci-runner:3")
        XCTAssertEqual(score(sc, connect(.inet(ip("203.0.113.3"), port: 80), at: 4 * s), d)?.reasons.map(\.signal),
                       [.iocDestination, .unexpectedDestination])
        XCTAssertEqual(sc.takeAlerts().map(\.signal), [.iocDestination, .unexpectedDestination])
    }

    func testActivitySpikeAgainstTheContainersOwnLevel() {
        let sc = Scorer()
        let c = info()
        var spikes: [UInt64] = []
        // 40 s at 20 opens a second, then 600 in one second
        for sec in 0..<40 {
            for i in 0..<20 {
                if score(sc, open("/data/f", at: UInt64(sec) * s + UInt64(i) * 1000), c)?.reasons.contains(where: { $0.signal == .activitySpike }) == true {
                    spikes.append(UInt64(sec))
                }
            }
        }
        XCTAssertEqual(spikes, [], "a steady rate is no spike")
        var hits = 0
        for i in 0..<600 where score(sc, open("/data/f", at: 40 * s + UInt64(i) * 1000), c)?.reasons.contains(where: { $0.signal == .activitySpike }) == true {
            hits += 1
        }
        XCTAssertEqual(hits, 1, "one spike reason for the burst second")
    }

    func testBaselineFileRoundTripAndDamage() throws {
        let store = BaselineStore()
        let e = store.entry("image:app:1", at: 42)
        store.countContainer(e)
        store.learn(path: "/etc/app.conf", in: e)
        store.learn(path: "/tmp/with space\nand newline", in: e)
        store.learn(destination: "192.0.2.80", in: e)
        for i in 0..<100 { store.learn(path: "/var/cache/c\(i)", in: e) }  // folds /var/cache
        let text = store.serialize()
        XCTAssertFalse(store.dirty)
        let back = try BaselineStore.parse(text, file: "baselines")
        let f = try XCTUnwrap(back.entries["image:app:1"])
        XCTAssertEqual(f.firstSeen, 42)
        XCTAssertEqual(f.containers, 1)
        XCTAssertTrue(f.paths.contains("/tmp/with space\nand newline"))
        XCTAssertTrue(f.paths.contains("/var/cache/c7"))
        XCTAssertTrue(f.paths.contains("/var/cache/c4242"), "a folded directory covers its tree")
        XCTAssertEqual(f.paths.folded, ["/var/cache"])
        XCTAssertEqual(f.destinations, ["192.0.2.80"])
        XCTAssertEqual(back.serialize(), text)

        let damaged: [(String, Int, String)] = [
            ("not a baseline\n", 1, "not a boxwatch baseline file"),
            ("boxwatch-baselines 1\npath /x\n", 2, "before any image line"),
            ("boxwatch-baselines 1\nimage 1 x 0 k\n", 2, "malformed image line"),
            ("boxwatch-baselines 1\nimage 1 1 0 k\nbogus 1\n", 3, "unknown line type"),
            ("boxwatch-baselines 1\nimage 1 1 0 k\npath bad\\q\n", 3, "malformed path value"),
        ]
        for (text, line, fragment) in damaged {
            XCTAssertThrowsError(try BaselineStore.parse(text, file: "b")) { error in
                let e = error as! ConfigError
                XCTAssertEqual(e.line, line, text)
                XCTAssertTrue(e.message.contains(fragment), e.message)
            }
        }
    }

    func testAMillionDistinctPathsStayBounded() {
        var set = FoldingPathSet()
        for i in 0..<1_000_000 {
            set.insert("/data/d\(i % 5000)/f\(i)", cap: 4096)
            XCTAssertLessThanOrEqual(set.count, 4097)
        }
        XCTAssertLessThanOrEqual(set.count, 4096)
        XCTAssertTrue(set.contains("/data/d17/f17"))
        XCTAssertTrue(set.contains("/data/d4999/f999999"))
        XCTAssertFalse(set.contains("/etc/passwd"))
    }

    func testScoringIsDeterministic() throws {
        func run() throws -> [Alert] {
            let sc = Scorer(iocs: try iocs("203.0.113.0/24\n"))
            let c = info()
            sc.lifecycle(started(c, at: 1 * s), clock: clock)
            _ = score(sc, open("/etc/shadow", at: 2 * s), c)
            _ = score(sc, connect(.inet(ip("203.0.113.5"), port: 1), at: 3 * s), c)
            return sc.takeAlerts()
        }
        XCTAssertEqual(try run(), try run())
        XCTAssertEqual(try run().map(\.signal), [.newContainer, .sensitiveFile, .iocDestination])
    }

    // MARK: evasions the review found

    func testOutOfOrderTimesNeitherRepeatAlertsNorDropRisk() throws {
        let sc = Scorer(iocs: try iocs("203.0.113.0/24\n"))
        let c = info()
        _ = score(sc, connect(.inet(ip("203.0.113.1"), port: 1), at: 5 * s + 5000), c)
        XCTAssertEqual(sc.takeAlerts().map(\.signal), [.iocDestination])
        _ = score(sc, connect(.inet(ip("203.0.113.2"), port: 1), at: 5 * s + 1000), c)  // 4 µs earlier
        XCTAssertTrue(sc.takeAlerts().isEmpty, "an earlier timestamp is not a new window")
    }

    func testPathSpellingsOfSensitiveFilesAreRecognised() {
        let sc = Scorer()
        let c = info()
        for path in ["/proc/self/root/etc/shadow", "/proc/1/root/etc/shadow", "/proc/thread-self/root/proc/self/root/etc/shadow"] {
            XCTAssertEqual(score(sc, open(path, at: 2 * s), c)?.reasons.map(\.signal), [.sensitiveFile], path)
        }
        for path in ["//var/run/docker.sock", "/var/run/./docker.sock", "/run/../run/docker.sock"] {
            XCTAssertEqual(score(sc, connect(.unix(path: path, abstract: false), at: 3 * s), c)?.reasons.map(\.signal), [.sensitiveFile], path)
        }
        XCTAssertEqual(Scorer.sameRoot("/proc/self/rootfs/x"), "/proc/self/rootfs/x")
        XCTAssertEqual(Scorer.sameRoot("/proc/12/root"), "/")
    }

    func testAPathTooLongToResolveIsADeviationNotASkip() {
        let sc = Scorer()
        var e = open("/etc/" + String(repeating: "./", count: 130), at: 2 * s)
        if case .open(var o) = e.detail { o.path.truncated = true; e.detail = .open(o) }
        XCTAssertEqual(score(sc, e, info())?.reasons.map(\.signal), [.fileOffBaseline])
    }

    func testProgramsAreKeptApartFromFoldedDirectories() {
        var config = ScoringConfig()
        config.learningSeconds = 10
        let sc = Scorer(config: config)
        let a = info(String(repeating: "a", count: 64)), b = info(String(repeating: "b", count: 64))
        for i in 0..<100 { _ = score(sc, open("/tmp/f\(i)", at: 1 * s), a) }  // /tmp folds for opens
        XCTAssertEqual(score(sc, open("/tmp/new", at: 20 * s, pid: 2), b)?.score, 0, "folded /tmp covers new files")
        XCTAssertEqual(score(sc, exec("/tmp/.kit", at: 20 * s, pid: 2), b)?.reasons.map(\.signal), [.fileOffBaseline],
                       "but not programs run from it")
    }

    func testAllowRulesApplyOnceTheImageIsKnown() {
        var config = ScoringConfig()
        var rule = AllowRule()
        rule.image = "ci-*"
        config.allow = [rule]
        let sc = Scorer(config: config)
        var c = info(image: nil)
        sc.lifecycle(started(c, at: 1 * s), clock: clock)  // new_container recorded before the image is known
        c.metadata = ContainerMetadata(name: "b", image: "ci-runner")
        sc.metadata(ContainerState(info: c, created: 1 * s), clock: clock)
        XCTAssertEqual(score(sc, open("/etc/shadow", at: 2 * s), c)?.score, 0)
        XCTAssertTrue(sc.takeAlerts().isEmpty, "the early new_container hit was dropped once the rule matched")
    }

    func testBaselineEvictionKeepsImagesOverPerContainerKeys() {
        let store = BaselineStore(maxEntries: 16, maxImages: 3)
        _ = store.entry("image:a", at: 1)
        _ = store.entry("image:b", at: 1)
        _ = store.entry("container:x", at: 1)
        _ = store.entry("container:y", at: 1)
        _ = store.entry("image:a", at: 1)  // used again
        _ = store.entry("container:z", at: 1)
        XCTAssertEqual(Set(store.entries.keys), ["image:a", "image:b", "container:z"])
        XCTAssertFalse(store.serialize().contains("container:"), "per-container baselines are not saved")
    }

    // MARK: loss accounting

    func testSequenceGapsCountDropsAndLateArrivals() {
        var t = SequenceTracker()
        for seq: UInt64 in [0, 1, 4, 5] { t.saw(cpu: 0, seq: seq) }   // 2 and 3 dropped
        for seq: UInt64 in [0, 2, 1] { t.saw(cpu: 1, seq: seq) }      // 1 late: no gap
        XCTAssertEqual(t.missing, 2)
        XCTAssertEqual(t.received, 7)
        // corrupt numbers (a fuzzed dump) wrap, never trap
        t.saw(cpu: 2, seq: .max)
        t.saw(cpu: 2, seq: .max)
        t.saw(cpu: 3, seq: .max)
        t.saw(cpu: 2, seq: 0)
    }

    func testConservationNamesWhatDoesNotAddUp() {
        var t = SequenceTracker()
        for seq: UInt64 in [0, 1, 3] { t.saw(cpu: 0, seq: seq) }
        let ok = Conservation(counters: [.open: KindCounters(seen: 4, submitted: 3, dropped: 1)], delivered: [.open: 3], sequence: t)
        XCTAssertTrue(ok.holds)
        XCTAssertEqual(ok.line, "boxwatch: accounting: seen 4 = delivered 3 + dropped 1; sequence gaps 1 = dropped (exact)\n")
        let bad = Conservation(counters: [.open: KindCounters(seen: 5, submitted: 3, dropped: 1)], delivered: [.open: 3], sequence: t)
        XCTAssertFalse(bad.holds)
        XCTAssertTrue(bad.line.contains("DOES NOT HOLD for open"), bad.line)
    }

    /// Drops after a CPU's last delivered record leave no gap between
    /// records; the kernel's next numbers (heads) reveal them.
    func testTrailingDropsAreCountedFromTheKernelsNextNumbers() {
        var t = SequenceTracker()
        for seq: UInt64 in [0, 1, 2] { t.saw(cpu: 0, seq: seq) }  // cpu 0: then 5 dropped (3...7)
        for seq: UInt64 in [0, 2] { t.saw(cpu: 1, seq: seq) }     // cpu 1: 1 dropped between, none after
        XCTAssertEqual(t.missing, 1, "only the inner gap shows between records")
        let counters: KernelCounters = [.open: KindCounters(seen: 11, submitted: 5, dropped: 6)]
        let c = Conservation(counters: counters, delivered: [.open: 5], sequence: t, heads: [0: 8, 1: 3])
        XCTAssertEqual(c.sequenceGaps, 6)
        XCTAssertTrue(c.holds, c.line)
        XCTAssertFalse(Conservation(counters: counters, delivered: [.open: 5], sequence: t).holds)
    }

    func testLossWindowIsAnInBandRecord() {
        let w = LossWindow(since: [.open: KindCounters(dropped: 2)], now: [.open: KindCounters(dropped: 7), .exec: KindCounters(dropped: 1)],
                           from: 1_000_000_000, to: 2_000_000_000)
        XCTAssertEqual(w?.total, 6)
        XCTAssertEqual(w?.kinds, "exec=1 open=5")
        var json = ""
        ECSFormatter().format(w!, into: &json)
        XCTAssertEqual(json, #"{"@timestamp":"1970-01-01T00:00:02.000000000Z","event":{"kind":"event","category":["host"],"type":["info"],"action":"lost","outcome":"failure"},"boxwatch":{"lost":{"total":6,"exec":1,"open":5,"window_start":"1970-01-01T00:00:01.000000000Z","window_end":"1970-01-01T00:00:02.000000000Z"}}}"# + "\n")
        XCTAssertNil(LossWindow(since: [.open: KindCounters(dropped: 7)], now: [.open: KindCounters(dropped: 7)], from: 0, to: 1))
    }
}
