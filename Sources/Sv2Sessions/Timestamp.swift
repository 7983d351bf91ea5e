#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time, in nanoseconds since the Unix epoch: the one time type of the sans-IO sessions, which get it
/// as `now` with every event (the I/O glue reads an ``Sv2Clock``; tests pass literal seconds).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanoseconds: Int64

    /// The instant `nanoseconds` after the epoch.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The instant `seconds` after the epoch (fractions kept to the nanosecond).
    public init(seconds: Double) {
        nanoseconds = Int64((seconds * 1e9).rounded())
    }

    /// The instant `unixSeconds` whole seconds after the epoch.
    public init(unixSeconds: UInt32) {
        nanoseconds = Int64(unixSeconds) * 1_000_000_000
    }

    /// Seconds since the epoch, with fractions.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// Whole seconds since the epoch as a block header's and a certificate's 32-bit time (clamped).
    public var unixSeconds: UInt32 { UInt32(clamping: nanoseconds / 1_000_000_000) }

    /// Orders by time.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The instant `duration` later.
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    /// Seconds since the epoch, e.g. `1700000000.25`.
    public var description: String { "\(seconds)" }
}

extension Timestamp: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// `now: 1_700_000_000` in tests: whole seconds since the epoch.
    public init(integerLiteral seconds: Int64) {
        nanoseconds = seconds * 1_000_000_000
    }

    /// `now: 1_700_000_000.5`: seconds since the epoch.
    public init(floatLiteral seconds: Double) {
        self.init(seconds: seconds)
    }
}

extension Duration {
    /// The duration in nanoseconds (saturating beyond about 292 years).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return scaled &+ attoseconds / 1_000_000_000
    }

    /// The duration in seconds, with fractions.
    public var secondsValue: Double { Double(nanoseconds) / 1e9 }

    /// The seconds for a log line: `30`, `0.5`.
    public var secondsText: String {
        let (seconds, attoseconds) = components
        return attoseconds == 0 ? "\(seconds)" : "\(secondsValue)"
    }
}

/// Where the I/O glue reads `now` from: the system clock in production, a clock the test moves in tests.
public struct Sv2Clock: Sendable {
    private let read: @Sendable () -> Timestamp

    /// A clock reading `read`.
    public init(_ read: @escaping @Sendable () -> Timestamp) {
        self.read = read
    }

    /// The current time.
    public func now() -> Timestamp { read() }

    /// A clock that always reads `time` (tests).
    public static func fixed(_ time: Timestamp) -> Sv2Clock { Sv2Clock { time } }

    /// The system's real-time clock.
    public static let system = Sv2Clock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}
