import Foundation
import Logging
import Sv2Formats
import Synchronization

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-25T10:04:05Z pool: warning: closing peer=1.2.3.4:5000 channel=3`: one line for people.
    case text
    /// One JSON object per line: `{"time":…,"level":…,"label":…,"message":…,"peer":…}`.
    case json
}

/// Where log lines go, shared by every logger of the process: the format, the sink and the rate limiter of repeated
/// warnings (``LogRateLimiter``), so that a flood of bad peers writes a few lines and a count, not one line each.
public final class LogOutput: Sendable {
    /// The format of every line.
    public let format: LogFormat
    private let write: @Sendable (String) -> Void
    private let clock: @Sendable () -> Date
    private let limiter: Mutex<LogRateLimiter>
    /// Set once, before the output is shared (standard error's outputs only).
    nonisolated(unsafe) private var summaryTimer: DispatchSourceTimer?

    /// An output writing `format` lines to `write` (one call per line, newline included); repeated warnings are
    /// limited by `limiter`; time comes from `clock`.
    public init(
        format: LogFormat, limiter: LogRateLimiter = LogRateLimiter(), clock: @escaping @Sendable () -> Date = { Date() },
        write: @escaping @Sendable (String) -> Void
    ) {
        self.format = format
        self.write = write
        self.clock = clock
        self.limiter = Mutex(limiter)
    }

    /// Standard error in `format`: one output per format for the whole process (so every logger shares its rate
    /// limiter), one `write(2)` per line (a line is never interleaved with another thread's), and a timer that writes
    /// the summaries of rate-limited warnings once their interval is over.
    public static func standardError(format: LogFormat) -> LogOutput {
        switch format {
        case .text: return textToStandardError
        case .json: return jsonToStandardError
        }
    }

    private static let textToStandardError = makeStandardError(format: .text)
    private static let jsonToStandardError = makeStandardError(format: .json)
    private static func makeStandardError(format: LogFormat) -> LogOutput {
        let output = LogOutput(format: format) { line in
            var line = line
            line.withUTF8 { bytes in _ = Foundation.write(2, bytes.baseAddress, bytes.count) }
        }
        output.summaryTimer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        output.summaryTimer?.schedule(deadline: .now() + 1, repeating: 1)
        output.summaryTimer?.setEventHandler { [weak output] in output?.flushSummaries() }
        output.summaryTimer?.resume()
        return output
    }

    /// Writes one event of the logger `label`, or counts it when it is a warning repeated too often; first writes
    /// the summaries of warnings whose interval has ended.
    func emit(label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) {
        let now = clock()
        let (admitted, summaries) = limiter.withLock { limiter in
            let summaries = limiter.expired(now: now)
            guard level == .warning else { return (true, summaries) }
            return (limiter.admit(LogRateLimiter.Key(label: label, message: message), now: now), summaries)
        }
        write(summaries, now: now)
        if admitted { write(line(time: now, label: label, level: level, message: message, metadata: metadata)) }
    }

    /// Writes the summaries of every interval that has ended, so that a flood that stopped still gets its count
    /// (the roles call it from a timer).
    public func flushSummaries() {
        let now = clock()
        write(limiter.withLock { $0.expired(now: now) }, now: now)
    }

    private func write(_ summaries: [LogRateLimiter.Summary], now: Date) {
        for summary in summaries {
            let message = "\(summary.key.message) (and \(summary.count) more like it in \(Int(summary.interval)) s, not logged)"
            write(line(time: now, label: summary.key.label, level: .warning, message: message, metadata: [:]))
        }
    }

    private func line(time: Date, label: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let timestamp = Self.timestamp(time)
        switch format {
        case .text:
            var text = "\(timestamp) \(label): "
            switch level {
            case .warning: text += "warning: "
            case .error, .critical: text += "error: "
            default: break
            }
            text += message
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
            return text + "\n"
        case .json:
            var fields: [(String, JSONValue)] = [
                ("time", .string(timestamp)), ("level", .string(level.rawValue)), ("label", .string(label)), ("message", .string(message)),
            ]
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { fields.append((key, .string(value.description))) }
            return JSONValue.object(fields).text + "\n"
        }
    }

    private static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec)
    }
}

/// Counts warnings by kind (logger label and message text; the peer and other details live in the metadata) and
/// lets the first ``burst`` of each kind through per ``interval``; the rest are counted and summarised in one line
/// when the interval ends. Sans-IO: time is passed in.
public struct LogRateLimiter: Sendable {
    /// A kind of warning.
    public struct Key: Hashable, Sendable {
        /// The logger's label.
        public var label: String
        /// The message text.
        public var message: String
    }

    /// Warnings of one kind whose interval ended with some suppressed.
    public struct Summary: Hashable, Sendable {
        /// The kind.
        public var key: Key
        /// How many were not written.
        public var count: Int
        /// The interval they were counted over, in seconds.
        public var interval: Double
    }

    private struct Window {
        var start: Date
        var written: Int
        var suppressed: Int
    }

    /// Lines of one kind written per interval before counting starts.
    public let burst: Int
    /// The interval, in seconds.
    public let interval: Double
    private var windows = [Key: Window]()

    /// A limiter letting `burst` warnings of a kind through every `interval` seconds (defaults: 5 per 10 s).
    public init(burst: Int = 5, interval: Double = 10) {
        self.burst = burst
        self.interval = interval
    }

    /// True when a warning of `key` at `now` is written; false when it is only counted.
    public mutating func admit(_ key: Key, now: Date) -> Bool {
        var window = windows[key] ?? Window(start: now, written: 0, suppressed: 0)
        defer { windows[key] = window }
        guard window.written >= burst else {
            window.written += 1
            return true
        }
        window.suppressed += 1
        return false
    }

    /// The kinds whose interval has ended, with what they suppressed (forgotten afterwards, so the next warning of
    /// the kind starts a new interval).
    public mutating func expired(now: Date) -> [Summary] {
        var summaries = [Summary]()
        for (key, window) in windows where now.timeIntervalSince(window.start) >= interval {
            windows[key] = nil
            if window.suppressed > 0 { summaries.append(Summary(key: key, count: window.suppressed, interval: interval)) }
        }
        return summaries.sorted { ($0.key.label, $0.key.message) < ($1.key.label, $1.key.message) }
    }
}

/// The swift-log handler of every role: writes through a shared ``LogOutput`` (text or JSON, repeated warnings
/// rate-limited), with the logger's label (`pool`, `tp`, `translate`, `mine`) and metadata (peer, channel, user).
public struct Sv2LogHandler: LogHandler {
    /// Messages below this level are dropped.
    public var logLevel: Logger.Level
    /// Metadata added to every message of this handler.
    public var metadata: Logger.Metadata = [:]
    /// Contextual metadata (unused by the roles; kept for swift-log's protocol).
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: LogOutput

    /// A handler for the logger `label` writing to `output` at `level` and above.
    public init(label: String, output: LogOutput, level: Logger.Level = .info) {
        self.label = label
        self.output = output
        self.logLevel = level
    }

    /// One metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `event` with this handler's metadata under the event's own.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        output.emit(label: label, level: event.level, message: event.message.description, metadata: merged)
    }
}

extension Logger {
    /// A logger for `label` writing to `output` at `level` and above (the roles' loggers; tests pass their own
    /// output to read the lines).
    public static func sv2(_ label: String, output: LogOutput, level: Logger.Level = .info) -> Logger {
        Logger(label: label) { label in Sv2LogHandler(label: label, output: output, level: level) }
    }
}
