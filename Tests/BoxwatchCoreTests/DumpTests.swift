import XCTest
@testable import BoxwatchCore

/// Dumps built block by block here; expectations come from the documented
/// layout (docs/dump-format.md), not from the writer.
final class DumpTests: XCTestCase {
    static let containerID = CgroupPathTests.id

    var header: DumpHeader {
        var h = DumpHeader()
        h.kernelRelease = "6.18.44"
        h.architecture = "x86_64"
        h.btfHash = 0x1234; h.btfSize = 5_000_000
        h.objectHash = 0xfeed
        h.clockOffsetNanos = 1_764_780_000_000_000_000 - 1_000_000_000
        h.cpuCount = 2; h.ringSize = 1 << 24
        h.cgroupMode = "hybrid"; h.hostname = "fixture"
        h.captureStartUnixNanos = 1_764_780_000_000_000_000
        h.boxwatchVersion = "test"
        return h
    }

    /// A dump of a container that is gone: its cgroup is known only from the
    /// snapshot, and its record carries only the cgroup id.
    func sampleDump(records: Int = 1) -> [UInt8] {
        var h = RecordBuilder.Header()
        h.cgroup = 4242
        var bytes = DumpEncoder.preamble() + DumpEncoder.header(header)
            + DumpEncoder.cgroups([(CgroupID(1), "/"), (CgroupID(4242), "/docker/\(Self.containerID)")])
            + DumpEncoder.processes([ProcessSnapshot(pid: 1, ppid: 0, cgroup: CgroupID(1), comm: "init", executable: "/sbin/init")])
            + DumpEncoder.stats(DumpStats(unixNanos: 1, kinds: [.init(kind: 2, seen: 0, submitted: 0, dropped: 0)]))
        for i in 0..<records {
            h.seq = UInt64(i)
            RecordBuilder.open(h, path: "/etc/passwd", ret: 3).withUnsafeBytes {
                bytes += DumpEncoder.record(arrivalUnixNanos: 99, $0)
            }
        }
        bytes += DumpEncoder.stats(DumpStats(unixNanos: 2, kinds: [.init(kind: 2, seen: 10, submitted: 7, dropped: 3)]))
        bytes += DumpEncoder.clock(offsetNanos: 0) + DumpEncoder.end(stopUnixNanos: 5, records: UInt64(records))
        return bytes
    }

    func parseAll(_ bytes: [UInt8], chunk: Int = .max) throws(DumpError) -> [DumpBlock] {
        var p = DumpParser()
        var blocks: [DumpBlock] = []
        var i = 0
        repeat {
            let end = min(bytes.count, i + chunk)
            p.feed(bytes[i..<end])
            i = end
            while let b = try p.next() { blocks.append(b) }
        } while i < bytes.count
        try p.finish()
        return blocks
    }

    func testPreambleBytes() {
        // "BWDUMP\r\n", byte-order mark 0x01020304 little-endian, version 1, reserved 0
        XCTAssertEqual(DumpEncoder.preamble(), [0x42, 0x57, 0x44, 0x55, 0x4d, 0x50, 0x0d, 0x0a, 4, 3, 2, 1, 1, 0, 0, 0])
    }

    func testBlockFraming() {
        let b = DumpEncoder.clock(offsetNanos: 0x0102)
        // type 6, length 8, body, trailing length 8
        XCTAssertEqual(b, [6, 0, 0, 0, 8, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0])
    }

    func testRoundTripWholeAndByteByByte() throws {
        let bytes = sampleDump(records: 3)
        let whole = try parseAll(bytes)
        XCTAssertEqual(whole.count, 10)  // header, cgroups, processes, stats, 3 records, stats, clock, end
        XCTAssertEqual(whole.first, .header(header))
        XCTAssertEqual(try parseAll(bytes, chunk: 1), whole)
        XCTAssertEqual(try parseAll(bytes, chunk: 7), whole)
        guard case .record(let arrival, let raw) = whole[4] else { return XCTFail("\(whole[4])") }
        XCTAssertEqual(arrival, 99)
        XCTAssertEqual(raw.count, RecordBuilder.openSize)
        XCTAssertEqual(whole.last, .end(stopUnixNanos: 5, records: 3))
    }

    func testReplayAttributesAGoneContainerAndReportsLoss() throws {
        let replay = Replay(pipeline: Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0)))
        var out = "", log = ""
        for b in try parseAll(sampleDump()) { replay.apply(b, out: &out, log: &log) }
        XCTAssertEqual(replay.records, 1)
        XCTAssertTrue(out.contains("\"container\":{\"id\":\"\(Self.containerID)\",\"runtime\":\"docker\"}"), out)
        XCTAssertTrue(out.contains("\"@timestamp\":\"2025-12-03T16:40:00.000000000Z\""), out)  // the header's clock
        XCTAssertEqual(log, "boxwatch: LOST 3 events (ring buffer full): open=3; consider a larger --ring-size\n")
        let info = replay.info(bytes: 1000)
        XCTAssertTrue(info.contains("records:      1 (exec=0 open=1"), info)
        XCTAssertTrue(info.contains("lost:         3 (open=3)"), info)
        XCTAssertTrue(info.contains("host:         fixture, kernel 6.18.44 x86_64, 2 CPUs, cgroups hybrid"), info)
    }

    /// A dump carries the run's scoring inputs: replaying it with no
    /// options scores with the run's IOC list, not the default (empty) one.
    func testScoringBlockMakesReplayScoreAsTheRunDid() throws {
        var h = RecordBuilder.Header()
        h.cgroup = 4242
        let connect = RecordBuilder.connect(h, sockaddr: RecordBuilder.sockaddrIn(203, 0, 113, 5, port: 443), ret: -101)
        let src = ScoringSources(config: NamedText(name: "/etc/boxwatch.yaml", text: "threshold: 60\n"),
                                 iocs: [NamedText(name: "/etc/ioc.txt", text: "# c2\n203.0.113.0/24\n")],
                                 baselines: "boxwatch-baselines 1\nimage 1 1 1 image:app\npath /etc/app.conf\n")
        func dump(withScoring: Bool) -> [UInt8] {
            var bytes = DumpEncoder.preamble() + DumpEncoder.header(header)
                + DumpEncoder.cgroups([(CgroupID(4242), "/docker/\(Self.containerID)")])
            if withScoring { bytes += DumpEncoder.scoring(src) }
            connect.withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 1, $0) }
            return bytes + DumpEncoder.end(stopUnixNanos: 2, records: 1)
        }
        let blocks = try parseAll(dump(withScoring: true), chunk: 5)
        XCTAssertEqual(blocks[2], .scoring(src), "the block round-trips")
        func alerts(_ bytes: [UInt8]) throws -> String {
            let pipeline = Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0))
            pipeline.scorer = Scorer()
            pipeline.showEvents = false
            let replay = Replay(pipeline: pipeline)
            var out = "", log = ""
            for b in try parseAll(bytes) { replay.apply(b, out: &out, log: &log) }
            XCTAssertEqual(log, "")
            return out
        }
        let scored = try alerts(dump(withScoring: true))
        XCTAssertTrue(scored.contains("\"action\":\"ioc_destination\""), scored)
        XCTAssertTrue(scored.contains("/etc/ioc.txt:2"), "the IOC's own file and line")
        XCTAssertEqual(try alerts(dump(withScoring: false)), "", "without the block the default has no IOC list")
    }

    func testForwardCompatibility() throws {
        // an unknown block type and an unknown header field are skipped
        var h = DumpEncoder.header(header)
        let extra: [UInt8] = [99, 0, 3, 0, 0, 0, 0xaa, 0xbb, 0xcc]  // tag 99, length 3
        let oldLen = Int(h[4]) | Int(h[5]) << 8
        let newLen = oldLen + extra.count
        h.insert(contentsOf: extra, at: 8 + oldLen)
        h[4] = UInt8(newLen & 0xff); h[5] = UInt8(newLen >> 8)
        h[h.count - 4] = UInt8(newLen & 0xff); h[h.count - 3] = UInt8(newLen >> 8)
        let unknown: [UInt8] = [77, 0, 0, 0, 2, 0, 0, 0, 1, 2, 2, 0, 0, 0]
        let blocks = try parseAll(DumpEncoder.preamble() + h + unknown)
        XCTAssertEqual(blocks, [.header(header), .unknown(type: 77, length: 2)])
    }

    /// Every corruption gives its own error naming the offset, never a trap or a hang.
    func testCorruptions() {
        let good = sampleDump()
        let pre = DumpFormat.preambleSize
        let headerLen = DumpEncoder.header(header).count
        let afterHeader = pre + headerLen
        func set(_ b: [UInt8], _ at: Int, _ v: [UInt8]) -> [UInt8] {
            var b = b
            for (i, x) in v.enumerated() { b[at + i] = x }
            return b
        }
        let recordAt = afterHeader + DumpEncoder.cgroups([(CgroupID(1), "/"), (CgroupID(4242), "/docker/\(Self.containerID)")]).count
            + DumpEncoder.processes([ProcessSnapshot(pid: 1, ppid: 0, cgroup: CgroupID(1), comm: "init", executable: "/sbin/init")]).count
            + DumpEncoder.stats(DumpStats(unixNanos: 1, kinds: [.init(kind: 2, seen: 0, submitted: 0, dropped: 0)])).count
        let cases: [(String, [UInt8], DumpError)] = [
            ("empty file", [], .tooShortForPreamble(size: 0)),
            ("short preamble", Array(good.prefix(10)), .tooShortForPreamble(size: 10)),
            ("short file that is not a dump", Array("not a dump\n".utf8), .badMagic),
            ("bad magic", set(good, 0, [0x50, 0x4b]), .badMagic),
            ("text-mode mangled CR LF", set(good, 6, [0x0a, 0x0a]), .badMagic),
            ("byte-swapped", set(good, 8, [1, 2, 3, 4]), .byteSwapped),
            ("future version", set(good, 12, [2, 0]), .unsupportedVersion(found: 2, supported: 1)),
            ("version zero", set(good, 12, [0, 0]), .unsupportedVersion(found: 0, supported: 1)),
            ("cut inside a block header", Array(good.prefix(pre + 5)), .truncatedBlock(offset: pre, needed: 8, available: 5)),
            ("cut mid-block", Array(good.prefix(afterHeader - 10)),
             .truncatedBlock(offset: pre, needed: headerLen, available: headerLen - 10)),
            ("length past the end", set(good, recordAt + 4, [0, 0, 0x10, 0]),
             .truncatedBlock(offset: recordAt, needed: 0x100000 + 12, available: good.count - recordAt)),
            ("length zero", set(Array(good.prefix(recordAt)) + [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0, []),
             .emptyBody(offset: recordAt, type: 4)),
            ("trailing length differs", set(good, afterHeader - 4, [0, 0]), .lengthMismatch(offset: pre, leading: headerLen - 12, trailing: (headerLen - 12) & ~0xffff)),
            ("length beyond any block", set(good, recordAt + 4, [0, 0, 0, 2]), .blockTooLarge(offset: recordAt, length: 1 << 25)),
            ("first block is not the header", DumpEncoder.preamble() + DumpEncoder.clock(offsetNanos: 0), .headerNotFirst(offset: pre)),
            ("record shorter than its arrival time", DumpEncoder.preamble() + DumpEncoder.header(header) + DumpEncoder.block(.record, [1, 2, 3]),
             .malformedBody(offset: afterHeader, type: 4, reason: "arrival time needs 8 bytes, 3 remain")),
            ("cgroup count too large", DumpEncoder.preamble() + DumpEncoder.header(header) + DumpEncoder.block(.cgroups, [255, 255, 255, 255]),
             .malformedBody(offset: afterHeader, type: 2, reason: "cgroup count 4294967295 does not fit the block")),
            ("header field past its block", DumpEncoder.preamble() + DumpEncoder.block(.header, [1, 0, 200, 0, 0, 0, 65]),
             .malformedBody(offset: pre, type: 1, reason: "field 1 needs 200 bytes, 1 remain")),
            ("cgroup path past its block", DumpEncoder.preamble() + DumpEncoder.header(header) + DumpEncoder.block(.cgroups, [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0x2f]),
             .malformedBody(offset: afterHeader, type: 2, reason: "cgroup path needs 9 bytes, 1 remain")),
            ("reserved preamble field", set(good, 14, [0xff, 0xff]), .badReserved(value: 0xffff)),
            ("block after the end block", good + DumpEncoder.clock(offsetNanos: 0), .blockAfterEnd(offset: good.count, type: 6)),
            ("records added after the end", good + good[recordAt...], .blockAfterEnd(offset: good.count, type: 4)),
            ("end block counts other records", Array(good.prefix(good.count - 28)) + DumpEncoder.end(stopUnixNanos: 5, records: 2),
             .recordCountMismatch(offset: good.count - 28, declared: 2, read: 1)),
            ("a second header", DumpEncoder.preamble() + DumpEncoder.header(header) + DumpEncoder.header(header), .secondHeader(offset: afterHeader)),
            ("block type zero", DumpEncoder.preamble() + DumpEncoder.header(header) + [UInt8](repeating: 0, count: 12), .invalidBlockType(offset: afterHeader)),
            ("bytes past a block's fields", DumpEncoder.preamble() + DumpEncoder.header(header) + DumpEncoder.block(.clock, [UInt8](repeating: 1, count: 9)),
             .leftoverBytes(offset: afterHeader, type: 6, count: 1)),
        ]
        for (name, bytes, expected) in cases {
            XCTAssertThrowsError(try parseAll(bytes), name) { error in
                XCTAssertEqual(error as? DumpError, expected, name)
                XCTAssertTrue("\(error)".contains("offset") || "\(error)".contains("bytes"), "\(name): \(error)")
            }
            XCTAssertThrowsError(try parseAll(bytes, chunk: 3), name + " (in chunks)") { error in
                XCTAssertEqual(error as? DumpError, expected, name + " (in chunks)")
            }
        }
        XCTAssertGreaterThanOrEqual(cases.count, 15)
    }

    /// A record of unknown kind inside a sound dump is an error value for that
    /// record: the replay counts it and goes on.
    func testUndecodableRecordIsCountedNotFatal() throws {
        var bad = RecordBuilder.open(path: "/x", ret: 3)
        bad[0] = 42
        var bytes = DumpEncoder.preamble() + DumpEncoder.header(header)
        bad.withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 0, $0) }
        RecordBuilder.open(path: "/y", ret: 3).withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 0, $0) }
        let replay = Replay(pipeline: Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0)))
        var out = "", log = ""
        for b in try parseAll(bytes) { replay.apply(b, out: &out, log: &log) }
        XCTAssertEqual(replay.records, 2)
        XCTAssertEqual(replay.pipeline.undecodable, 1)
        XCTAssertEqual(replay.pipeline.lastError, .unknownKind(42))
        XCTAssertEqual(out.split(separator: "\n").count, 1)
    }

    func testRandomCorruptionNeverTraps() {
        var rng = SplitMix(seed: 7)
        let good = sampleDump(records: 4)
        for i in 0..<3000 {
            var b = good
            for _ in 0..<(1 + i % 6) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            if i % 4 == 0 { b = Array(b.prefix(Int(rng.next() % UInt64(b.count)))) }
            // parse and replay whatever parses, chunk by chunk
            var p = DumpParser()
            let replay = Replay(pipeline: Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0)))
            var out = "", log = ""
            var at = 0
            feeding: while at < b.count {
                p.feed(b[at..<min(b.count, at + 1 + i % 50)])
                at += 1 + i % 50
                while true {
                    guard let block = try? p.next() else { break }
                    replay.apply(block, out: &out, log: &log)
                    if case .end = block { break feeding }
                }
            }
            _ = replay.info(bytes: b.count)
        }
    }

    /// A wall-clock step (+2 h, as `date -s` or NTP would make it) between two
    /// events: the live run re-samples its offset and records it as a clock
    /// block; replay moves to it at the same place, so the recorded times
    /// survive. Event order and spacing stay on the kernel's boot clock.
    func testClockStepSurvivesReplay() throws {
        var h1 = RecordBuilder.Header(); h1.ts = 10_000_000_000
        var h2 = RecordBuilder.Header(); h2.ts = 10_500_000_000
        var bytes = DumpEncoder.preamble() + DumpEncoder.header(header)
        RecordBuilder.open(h1, path: "/a", ret: 3).withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 0, $0) }
        bytes += DumpEncoder.clock(offsetNanos: header.clockOffsetNanos + 7_200_000_000_000)
        RecordBuilder.open(h2, path: "/b", ret: 3).withUnsafeBytes { bytes += DumpEncoder.record(arrivalUnixNanos: 0, $0) }
        let replay = Replay(pipeline: Pipeline(formatter: TextFormatter(color: false), clock: WallClock(offsetNanos: 0)))
        var out = "", log = ""
        for b in try parseAll(bytes) { replay.apply(b, out: &out, log: &log) }
        let times = out.split(separator: "\n").map { String($0.prefix(15)) }
        // header offset puts boot 1 s at 16:40:00; boot 10 s is 16:40:09
        XCTAssertEqual(times, ["16:40:09.000000", "18:40:09.500000"])
    }
}
