import Foundation
import XCTest
@testable import BoxwatchCore

final class SocketAddressTests: XCTestCase {
    func testIPv6Formatting() {
        func v6(_ groups: [UInt16]) -> IPAddress { .v6(groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }) }
        XCTAssertEqual(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 7]).description, "2001:db8::7")
        XCTAssertEqual(v6([0, 0, 0, 0, 0, 0, 0, 1]).description, "::1")
        XCTAssertEqual(v6([0, 0, 0, 0, 0, 0, 0, 0]).description, "::")
        XCTAssertEqual(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]).description, "2001:db8:0:1::1")  // longest run wins
        XCTAssertEqual(v6([0x2001, 0, 0, 1, 0, 0, 1, 1]).description, "2001::1:0:0:1:1")     // first on a tie
        XCTAssertEqual(v6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]).description, "2001:db8:0:1:1:1:1:1") // one zero group stays
        XCTAssertEqual(v6([0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0]).description, "fe80::abcd:0:0:0")
    }

    func testIPv4MappedNormalizesToIPv4() {
        let mapped = IPAddress.v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 7])
        XCTAssertTrue(mapped.isIPv4Mapped)
        XCTAssertEqual(mapped.description, "::ffff:203.0.113.7")
        XCTAssertEqual(mapped.normalized, IPAddress(v4: 203, 0, 113, 7))
        XCTAssertFalse(IPAddress.v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 203, 0, 113, 7]).isIPv4Mapped)
    }

    func testDecodeFamilies() {
        let v4 = SocketAddress(bytes: RecordBuilder.sockaddrIn(10, 1, 2, 3, port: 8080)[...])
        XCTAssertEqual(v4, .inet(IPAddress(v4: 10, 1, 2, 3), port: 8080))

        let addr: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [7]
        let v6 = SocketAddress(bytes: RecordBuilder.sockaddrIn6(addr, port: 443, scope: 2)[...])
        XCTAssertEqual(v6, .inet6(.v6(addr), port: 443, flowInfo: 0, scopeID: 2))
        XCTAssertEqual(v6.description, "[2001:db8::7]:443")

        let unix: [UInt8] = [1, 0] + Array("/var/run/docker.sock".utf8) + [0]
        XCTAssertEqual(SocketAddress(bytes: unix[...]), .unix(path: "/var/run/docker.sock", abstract: false))
        let abstract: [UInt8] = [1, 0, 0] + Array("dbus-1".utf8)
        XCTAssertEqual(SocketAddress(bytes: abstract[...]), .unix(path: "dbus-1", abstract: true))
        XCTAssertEqual(SocketAddress(bytes: abstract[...]).description, "unix:@dbus-1")
    }

    func testShortSockaddrsAreMalformedNotMisread() {
        // a 16-byte sockaddr_in read as AF_INET6 would take garbage for the address
        let claimsV6: [UInt8] = [10, 0, 1, 187] + [UInt8](repeating: 9, count: 12)
        XCTAssertEqual(SocketAddress(bytes: claimsV6[...]), .malformed(family: 10, length: 16))
        XCTAssertEqual(SocketAddress(bytes: [2, 0, 0][...]), .malformed(family: 2, length: 3))
        XCTAssertEqual(SocketAddress(bytes: [][...]), .unreadable)
        XCTAssertEqual(SocketAddress(bytes: [0, 0][...]), .other(family: 0))
    }

    func testIPv4MappedConnectIsReportedAsIPv4Destination() throws {
        let addr: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 203, 0, 113, 7]
        let e = try RecordDecoder.decode(RecordBuilder.connect(sockaddr: RecordBuilder.sockaddrIn6(addr, port: 443), ret: -101))
        var out = ""
        ECSFormatter().format(e, attribution: .host, clock: WallClock(offsetNanos: 0), into: &out)
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        let dest = json["destination"] as! [String: Any]
        XCTAssertEqual(dest["ip"] as? String, "203.0.113.7")
        XCTAssertEqual(dest["port"] as? Int, 443)
        let bw = json["boxwatch"] as! [String: Any]
        XCTAssertEqual(bw["address_raw"] as? String, "::ffff:203.0.113.7")
        XCTAssertEqual(bw["ipv4_mapped"] as? Bool, true)
        XCTAssertEqual((json["network"] as! [String: Any])["type"] as? String, "ipv4")
    }
}
