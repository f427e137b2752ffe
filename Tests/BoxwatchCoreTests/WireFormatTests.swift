import CBoxwatchABI
import XCTest
@testable import BoxwatchCore

/// The C header and docs/wire-format.md must agree: sizes and offsets are
/// written here as the numbers the document gives.
final class WireFormatTests: XCTestCase {
    func testSizes() {
        XCTAssertEqual(MemoryLayout<bw_str>.size, 8)
        XCTAssertEqual(MemoryLayout<bw_hdr>.size, 96)
        XCTAssertEqual(MemoryLayout<bw_exec>.size, RecordBuilder.execSize)
        XCTAssertEqual(MemoryLayout<bw_open>.size, RecordBuilder.openSize)
        XCTAssertEqual(MemoryLayout<bw_connect>.size, RecordBuilder.connectSize)
        XCTAssertEqual(MemoryLayout<bw_cgroup>.size, RecordBuilder.cgroupSize)
        XCTAssertEqual(MemoryLayout<bw_config>.size, 32)
        XCTAssertEqual(MemoryLayout<bw_fork>.size, 104)
        XCTAssertEqual(RecordBuilder.execSize, 1424)
        XCTAssertEqual(RecordBuilder.openSize, 912)
        XCTAssertEqual(MemoryLayout<bw_exec_v1>.size, 1160)
        XCTAssertEqual(MemoryLayout<bw_open_v1>.size, 648)
    }

    func testVersions() {
        XCTAssertEqual(RecordDecoder.wireVersion, 2)
        XCTAssertEqual(RecordDecoder.readableVersions, [1, 2])
        XCTAssertEqual(BW_WALK_ROOM, 256)
        XCTAssertEqual([BW_PATH_NOT_DIR, BW_PATH_DELETED, BW_PATH_OUTSIDE_ROOT, BW_PATH_DETACHED], [1, 2, 4, 8])
        XCTAssertEqual(PathFlags.notDirectory.rawValue, 1)
        XCTAssertEqual(PathFlags.deleted.rawValue, 2)
        XCTAssertEqual(PathFlags.outsideRoot.rawValue, 4)
        XCTAssertEqual(PathFlags.detached.rawValue, 8)
    }

    func testHeaderOffsets() {
        let o = { (kp: PartialKeyPath<bw_hdr>) in MemoryLayout<bw_hdr>.offset(of: kp) }
        XCTAssertEqual(o(\.kind), 0); XCTAssertEqual(o(\.version), 2); XCTAssertEqual(o(\.size), 4)
        XCTAssertEqual(o(\.hdr_size), 6); XCTAssertEqual(o(\.ts_boot_ns), 8); XCTAssertEqual(o(\.seq), 16)
        XCTAssertEqual(o(\.cgroup_id), 24); XCTAssertEqual(o(\.cpu), 32); XCTAssertEqual(o(\.pid), 36)
        XCTAssertEqual(o(\.tid), 40); XCTAssertEqual(o(\.ppid), 44); XCTAssertEqual(o(\.uid), 48)
        XCTAssertEqual(o(\.gid), 52); XCTAssertEqual(o(\.ns_pid), 56); XCTAssertEqual(o(\.pidns_ino), 60)
        XCTAssertEqual(o(\.mntns_ino), 64); XCTAssertEqual(o(\.flags), 68); XCTAssertEqual(o(\.comm), 72)
        XCTAssertEqual(o(\.cgroup_name), 88)
    }

    func testBodyOffsets() {
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.ret), 96)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.argc), 108)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.filename), 120)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.argv), 128)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.exec_flags), 114)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.exe_flags), 116)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.exe), 136)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.data), 144)
        XCTAssertEqual(MemoryLayout<bw_exec>.offset(of: \.data), RecordBuilder.execData)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.ret), 96)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.syscall), 116)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.dir_flags), 118)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.resolve), 120)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.path), 128)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.dir), 136)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.data), 144)
        XCTAssertEqual(MemoryLayout<bw_open>.offset(of: \.data), RecordBuilder.openData)
        // version 1, as older dumps have it
        XCTAssertEqual(MemoryLayout<bw_exec_v1>.offset(of: \.filename), 120)
        XCTAssertEqual(MemoryLayout<bw_exec_v1>.offset(of: \.argv), 128)
        XCTAssertEqual(MemoryLayout<bw_exec_v1>.offset(of: \.data), 136)
        XCTAssertEqual(MemoryLayout<bw_open_v1>.offset(of: \.resolve), 120)
        XCTAssertEqual(MemoryLayout<bw_open_v1>.offset(of: \.path), 128)
        XCTAssertEqual(MemoryLayout<bw_open_v1>.offset(of: \.data), 136)
        XCTAssertEqual(MemoryLayout<bw_connect>.offset(of: \.addr), 120)
        XCTAssertEqual(MemoryLayout<bw_connect>.offset(of: \.data), RecordBuilder.connectData)
        XCTAssertEqual(MemoryLayout<bw_cgroup>.offset(of: \.path), 112)
        XCTAssertEqual(MemoryLayout<bw_cgroup>.offset(of: \.data), RecordBuilder.cgroupData)
    }

    func testKindNumbersAreStable() {
        XCTAssertEqual(EventKind.exec.wireValue, 1)
        XCTAssertEqual(EventKind.open.wireValue, 2)
        XCTAssertEqual(EventKind.connect.wireValue, 3)
        XCTAssertEqual(EventKind.cgroupCreated.wireValue, 4)
        XCTAssertEqual(EventKind.cgroupRemoved.wireValue, 5)
        XCTAssertEqual(EventKind.fork.wireValue, 6)
    }
}
