// libFuzzer target for the parsers of outside input: input that starts with
// the dump magic goes through the dump parser and a full replay with scoring
// (fed in chunks whose size the input's last byte picks); "#yaml", "#ioc" and
// "#base" select the config, IOC-list and baseline-file parsers; anything
// else is one ring record, decoded, scored and printed. Each must end in a
// value or an error: never a trap, a hang or a leak.
// Built and run by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let pipeline = Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0))
    var iocs = NetworkSet()
    try? IOCList.parse("203.0.113.0/24\n2001:db8::/32\n", file: "seed", into: &iocs)
    pipeline.scorer = Scorer(iocs: iocs)
    var out = ""
    for (tag, parse) in textParsers where raw.starts(with: tag.utf8) {
        parse(Array(raw.dropFirst(tag.utf8.count)))
        return 0
    }
    if raw.starts(with: DumpFormat.magic.prefix(6)) {
        let replay = Replay(pipeline: pipeline)
        var parser = DumpParser()
        var log = ""
        let chunk = 1 + Int(raw.last ?? 0)
        var i = 0
        blocks: while i < size {
            parser.feed(raw[i..<min(size, i + chunk)])
            i += chunk
            while true {
                do {
                    guard let block = try parser.next() else { break }  // needs the next chunk
                    replay.apply(block, out: &out, log: &log)
                } catch {
                    break blocks  // the first error is final
                }
            }
        }
        _ = try? parser.finish()
        _ = replay.info(bytes: size)
    } else if let event = pipeline.handle(raw, into: &out) {
        TextFormatter(color: true).format(event, attribution: CgroupPath.attribute(leaf: event.header.cgroupName.value),
                                          clock: WallClock(offsetNanos: Int64.max), into: &out)
    }
    return 0
}

let textParsers: [(String, ([UInt8]) -> Void)] = [
    ("#yaml", { _ = try? ConfigFile.parse(bytes: $0, file: "fuzz.yaml") }),
    ("#ioc", { bytes in
        var set = NetworkSet()
        if let text = String(validating: bytes, as: UTF8.self) { try? IOCList.parse(text, file: "fuzz.txt", into: &set) }
    }),
    ("#base", { bytes in
        if let text = String(validating: bytes, as: UTF8.self) {
            _ = (try? BaselineStore.parse(text, file: "baselines", maxEntries: 64, maxImages: 8))?.serialize()
        }
    }),
]
