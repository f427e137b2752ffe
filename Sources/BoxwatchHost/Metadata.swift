import BoxwatchCore
import Foundation

/// Looks up what a runtime says of a container (Docker: its on-disk
/// config.v2.json) on a background queue, never on the event path. Results
/// are collected by the event loop with `take()` and joined into the table.
public final class MetadataResolver: @unchecked Sendable {
    private let queue = DispatchQueue(label: "boxwatch.metadata")
    private let lock = NSLock()
    private var ready: [(ContainerID, ContainerMetadata)] = []
    private var asked: Set<ContainerID> = []
    /// Where Docker keeps its containers (dockerd --data-root).
    public var dockerRoot = "/var/lib/docker"

    public init() {}

    /// Starts a lookup for a container the runtime can describe.
    public func request(_ info: ContainerInfo) {
        guard info.runtime == .docker || info.runtime == .unknown, info.role == .workload,
              CgroupPath.isContainerHex(Substring(info.id.rawValue)) else { return }  // a 64-hex id: no path tricks
        lock.lock()
        let fresh = asked.insert(info.id).inserted
        if asked.count > 65536 { asked.removeAll() }
        lock.unlock()
        guard fresh else { return }
        let path = "\(dockerRoot)/containers/\(info.id.rawValue)/config.v2.json"
        queue.async { [self] in attempt(info.id, path, triesLeft: 3) }
    }

    /// The file is written at create, before start; a container gone before
    /// its lookup (`--rm`, a few ms) simply has none. Retries never block the queue.
    private func attempt(_ id: ContainerID, _ path: String, triesLeft: Int) {
        if let m = Self.readDocker(path) {
            lock.lock(); ready.append((id, m)); lock.unlock()
        } else if triesLeft > 1 {
            queue.asyncAfter(deadline: .now() + 0.1) { [self] in attempt(id, path, triesLeft: triesLeft - 1) }
        }
    }

    /// The lookups finished since the last call.
    public func take() -> [(ContainerID, ContainerMetadata)] {
        lock.lock()
        defer { ready.removeAll(); lock.unlock() }
        return ready
    }

    static func readDocker(_ path: String) -> ContainerMetadata? {
        guard let json = readJSON(path), let config = json["Config"] as? [String: Any] else { return nil }
        var name = json["Name"] as? String ?? ""
        if name.hasPrefix("/") { name.removeFirst() }
        // hostconfig.json sits beside it: AutoRemove is `run --rm`
        let host = readJSON(String(path.dropLast("config.v2.json".count)) + "hostconfig.json")
        let attached = ["AttachStdin", "AttachStdout", "AttachStderr"].contains { config[$0] as? Bool == true }
        return ContainerMetadata(name: name, image: config["Image"] as? String ?? "",
                                 labels: (config["Labels"] as? [String: String]) ?? [:],
                                 autoRemove: host?["AutoRemove"] as? Bool ?? false, detached: !attached)
    }

    static func readJSON(_ path: String) -> [String: Any]? {
        // plain open/read: most lookups are for containers already gone
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count < 4 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk.prefix(n))
        }
        close(fd)
        return try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }
}
