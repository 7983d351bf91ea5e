import Logging

/// A line a session asks its glue to log: the glue adds the connection's own metadata (peer).
public struct SessionLog: Hashable, Sendable {
    /// Severity.
    public var level: Logger.Level
    /// The text; variable details that would make every line unique belong in `metadata`, so that repeated
    /// warnings of one kind are recognised and rate-limited.
    public var message: String
    /// Key-value details (channel, user, job...).
    public var metadata: [String: String]

    /// A line.
    public init(_ level: Logger.Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// What a sans-IO session asks its I/O glue to do, in order: send a message, carry out an effect only the role
/// understands (submit a block, hand out work...), log a line, or close the connection.
public enum SessionAction<Outbound, Effect> {
    /// Send this message to the peer.
    case send(Outbound)
    /// A role-specific effect, handed to the role's glue.
    case effect(Effect)
    /// Log this line.
    case log(SessionLog)
    /// Close the connection for this reason, after sending what came before.
    case close(String)

    /// `.log` at debug level.
    public static func debug(_ message: String, _ metadata: [String: String] = [:]) -> Self { .log(SessionLog(.debug, message, metadata)) }
    /// `.log` at info level.
    public static func info(_ message: String, _ metadata: [String: String] = [:]) -> Self { .log(SessionLog(.info, message, metadata)) }
    /// `.log` at warning level: the peer did something wrong; the connection stays.
    public static func warning(_ message: String, _ metadata: [String: String] = [:]) -> Self { .log(SessionLog(.warning, message, metadata)) }
}

extension SessionAction: Equatable where Outbound: Equatable, Effect: Equatable {}
extension SessionAction: Hashable where Outbound: Hashable, Effect: Hashable {}
extension SessionAction: Sendable where Outbound: Sendable, Effect: Sendable {}

/// A session with no role-specific effects.
public enum NoEffect: Hashable, Sendable {}
