/// Maps the kernel's boot-time stamps to wall-clock time. The offset
/// (realtime - boottime) is sampled by the host and re-sampled while running,
/// so a clock step moves later events only; the pure core never reads a clock.
public struct WallClock: Sendable, Equatable {
    /// Nanoseconds to add to a boot-time stamp to get Unix time.
    public var offsetNanos: Int64

    public init(offsetNanos: Int64) { self.offsetNanos = offsetNanos }

    public func unixNanos(boot: UInt64) -> Int64 {
        Int64(bitPattern: boot) &+ offsetNanos
    }
}

/// Civil UTC time from Unix nanoseconds, without Foundation or the C library
/// (Howard Hinnant's days-from-civil algorithm, inverted).
public struct UTCTime: Sendable, Equatable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanos: Int

    /// Total over every Int64 (1677...2262): floor division, no overflow,
    /// since a replayed or corrupt stamp can hold any value.
    public init(unixNanos: Int64) {
        var (secs, rem) = unixNanos.quotientAndRemainder(dividingBy: 1_000_000_000)
        if rem < 0 { secs -= 1; rem += 1_000_000_000 }
        nanos = Int(rem)
        var (days, daySecs) = Int(secs).quotientAndRemainder(dividingBy: 86_400)
        if daySecs < 0 { days -= 1; daySecs += 86_400 }
        hour = daySecs / 3600; minute = daySecs % 3600 / 60; second = daySecs % 60
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// "2026-12-03T16:57:01.123456789Z"
    public var iso8601: String {
        String(unsafeUninitializedCapacity: Self.iso8601Length) {
            writeISO8601(to: $0.baseAddress!)
            return Self.iso8601Length
        }
    }

    static let iso8601Length = 30

    /// `iso8601`'s 30 bytes, "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", written at `b`
    /// (JSON lines write one per event).
    func writeISO8601(to b: UnsafeMutablePointer<UInt8>) {
        func digits(_ v: Int, _ at: Int, _ width: Int) {
            var v = v
            var i = at + width
            while i > at { i -= 1; b[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10); v /= 10 }
        }
        digits(year, 0, 4); b[4] = UInt8(ascii: "-"); digits(month, 5, 2); b[7] = UInt8(ascii: "-"); digits(day, 8, 2)
        b[10] = UInt8(ascii: "T")
        digits(hour, 11, 2); b[13] = UInt8(ascii: ":"); digits(minute, 14, 2); b[16] = UInt8(ascii: ":"); digits(second, 17, 2)
        b[19] = UInt8(ascii: "."); digits(nanos, 20, 9); b[29] = UInt8(ascii: "Z")
    }

    /// "16:57:01.123456789"
    public var clock: String {
        "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(nanos, 9))"
    }

    /// "16:57:01.123456" — what the terminal tail shows.
    public var clockMicros: String {
        "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(nanos / 1000, 6))"
    }
}

func pad(_ n: Int, _ width: Int, radix: Int = 10) -> String {
    let s = String(n, radix: radix)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
