import CLibBPF
import Glibc

/// Errors from the kernel side, each naming the C call or the thing that failed.
public enum SensorError: Error, CustomStringConvertible {
    /// A libbpf or system call failed.
    case call(String, errno: Int32, context: String)
    /// The verifier (or the kernel) refused a program; `log` holds the last
    /// useful lines libbpf printed.
    case loadRejected(errno: Int32, log: [String])
    case attachFailed(program: String, errno: Int32, log: [String])
    case missingMap(String)
    case invalidRingSize(Int)
    /// An ignore list the kernel side cannot hold.
    case invalidFilter(String)

    public var description: String {
        switch self {
        case .call(let fn, let e, let context):
            return "\(fn) failed for \(context): \(errnoText(e))"
        case .loadRejected(let e, let log):
            return "the kernel refused to load the BPF programs: \(errnoText(e))"
                + (log.isEmpty ? "" : "\nlast lines of the libbpf/verifier log:\n  " + log.joined(separator: "\n  "))
        case .attachFailed(let p, let e, let log):
            return "attaching BPF program \(p) failed: \(errnoText(e))"
                + (log.isEmpty ? "" : "\n  " + log.joined(separator: "\n  "))
        case .missingMap(let name):
            return "the BPF object has no map named \(name) (object and boxwatch built from different sources?)"
        case .invalidRingSize(let n):
            return "ring size \(n) is not a power of two of at least 4096 bytes"
        case .invalidFilter(let what):
            return "ignore list: \(what)"
        }
    }
}

func errnoText(_ e: Int32) -> String {
    if e >= 4000 {  // libbpf's own codes (LIBBPF_ERRNO__*): e.g. "not a BPF ELF object"
        var buf = [CChar](repeating: 0, count: 256)
        libbpf_strerror(e, &buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + " (libbpf error \(e))"
    }
    return "\(String(cString: strerror(e))) (errno \(e))"
}

/// The one place that calls libbpf: an opened, loaded and attached object.
final class BPFObject {
    let object: OpaquePointer
    private var links: [OpaquePointer] = []

    /// Opens the object file; nothing is loaded into the kernel yet.
    init(path: String) throws(SensorError) {
        bw_capture_libbpf_log(getenv("BOXWATCH_LIBBPF_DEBUG") != nil ? 1 : 0)
        errno = 0
        guard let obj = bpf_object__open_file(path, nil) else {
            throw .call("bpf_object__open_file", errno: errno == 0 ? EINVAL : errno, context: path)
        }
        object = obj
    }

    deinit {
        detachAll()
        bpf_object__close(object)
    }

    /// Destroys every link: the programs stop firing.
    func detachAll() {
        for link in links { bpf_link__destroy(link) }
        links = []
    }

    func map(_ name: String) throws(SensorError) -> OpaquePointer {
        guard let m = bpf_object__find_map_by_name(object, name) else { throw .missingMap(name) }
        return m
    }

    func setMaxEntries(_ name: String, _ n: UInt32) throws(SensorError) {
        let rc = bpf_map__set_max_entries(try map(name), n)
        if rc != 0 { throw .call("bpf_map__set_max_entries", errno: -rc, context: "map \(name)") }
    }

    func setReadOnly<T>(_ name: String, _ value: T) throws(SensorError) {
        var v = value
        let rc = withUnsafeBytes(of: &v) { bw_set_rodata(object, name, $0.baseAddress, $0.count) }
        if rc != 0 {
            // a size mismatch means the object was built from another wire-format header
            throw .call("bw_set_rodata", errno: -rc, context: "variable \(name)"
                        + (rc == -EINVAL ? " (the BPF object and this boxwatch come from different builds: rebuild with scripts/setup.sh)" : ""))
        }
    }

    func load() throws(SensorError) {
        _ = takeLog()
        let rc = bpf_object__load(object)
        if rc != 0 { throw .loadRejected(errno: -rc, log: usefulLines(takeLog())) }
    }

    /// Attaches every program by its section name; returns how many.
    func attachAll() throws(SensorError) -> Int {
        var prog = bpf_object__next_program(object, nil)
        while let p = prog {
            errno = 0
            guard let link = bpf_program__attach(p) else {
                let e = errno == 0 ? EINVAL : errno
                throw .attachFailed(program: String(cString: bpf_program__name(p)), errno: e,
                                    log: usefulLines(takeLog()))
            }
            links.append(link)
            prog = bpf_object__next_program(object, p)
        }
        return links.count
    }

    func mapFD(_ name: String) throws(SensorError) -> Int32 {
        bpf_map__fd(try map(name))
    }

    /// Sums a per-CPU array of u64 at `key` over all possible CPUs.
    /// One slot of a per-CPU array of u64: a value per possible CPU, in
    /// `values` (sized to the CPU count); false when the lookup failed.
    static func perCPU(fd: Int32, key: UInt32, into values: inout [UInt64]) -> Bool {
        var k = key
        return values.withUnsafeMutableBytes { bpf_map_lookup_elem(fd, &k, $0.baseAddress) } == 0
    }

    private func takeLog() -> String {
        var buf = [CChar](repeating: 0, count: 16384)
        let n = bw_take_libbpf_log(&buf, buf.count)
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The verifier's verdict is at the end of its log; keep the last lines
    /// that say something (not the instruction dump's comments).
    private func usefulLines(_ log: String) -> [String] {
        let lines = log.split(separator: "\n").map(String.init).filter {
            !$0.hasPrefix(";") && !$0.trimmingPrefix(" ").isEmpty
        }
        return Array(lines.suffix(12))
    }
}

extension String {
    func trimmingPrefix(_ c: Character) -> Substring {
        self.drop { $0 == c }
    }
}
