// libFuzzer target for the record decoder: any bytes must decode to an event
// or a DecodeError, and a decoded event must format without trapping.
// Built and run by scripts/fuzz.sh (swiftc -sanitize=fuzzer,address).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let pipeline = Pipeline(formatter: ECSFormatter(), clock: WallClock(offsetNanos: 0))
    var out = ""
    if let event = pipeline.handle(raw, into: &out) {
        TextFormatter(color: true).format(event, attribution: CgroupPath.attribute(leaf: event.header.cgroupName.value),
                                          clock: WallClock(offsetNanos: Int64.max), into: &out)
    }
    return 0
}
