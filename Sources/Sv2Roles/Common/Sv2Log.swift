import Foundation

/// The line log every role writes to standard error: `2026-11-25T10:04:05Z tp: message`.
public struct Sv2Log: Sendable {
    /// Severity of a line.
    public enum Level: Int, Comparable, Sendable {
        /// Details for debugging.
        case debug
        /// Normal operation: templates, blocks, connections.
        case info
        /// Something went wrong for one peer or one request.
        case warning
        /// The service cannot go on.
        case error

        /// Orders by severity.
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The role's name, printed on every line.
    public var component: String
    /// Lines below this level are dropped.
    public var minimumLevel: Level

    /// A log for `component`.
    public init(component: String, minimumLevel: Level = .info) {
        self.component = component
        self.minimumLevel = minimumLevel
    }

    /// Writes one line at `level`.
    public func callAsFunction(_ level: Level = .info, _ message: @autoclosure () -> String) {
        guard level >= minimumLevel else { return }
        let prefix = level >= .warning ? (level == .error ? "error: " : "warning: ") : ""
        let line = "\(Self.timestamp()) \(component): \(prefix)\(message())\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec)
    }
}
