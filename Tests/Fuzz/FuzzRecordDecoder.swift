// libFuzzer target for the two binary parsers: input that starts with the
// dump magic goes through the dump parser and a full replay (fed in chunks
// whose size the input's last byte picks); anything else is one ring record.
// Either must end in a value or an error: never a trap, a hang or a leak.
// Built and run by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let pipeline = Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0))
    var out = ""
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
