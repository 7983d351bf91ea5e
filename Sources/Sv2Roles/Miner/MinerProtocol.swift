import Logging
import NIOCore
import Sv2Channels
import Sv2Network
import Sv2Sessions

/// What ``CPUMiner`` needs to know of one mining protocol: how to connect, which session speaks it over which
/// wire, and how its events are logged. Everything else (the hashing engine, shares from the threads, reconnecting
/// with backoff, reports) is the miner's, the same for every protocol, on the connection engine.
public protocol MinerProtocol: Sendable {
    /// The sans-IO session of one connection.
    associatedtype Session: MinerSession
    /// How its messages meet the pipeline.
    associatedtype Wire: ConnectionWire where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound

    /// The protocol's name for the log, e.g. `Stratum V2`.
    var name: String { get }
    /// The wire.
    var wire: Wire { get }
    /// When the session starts: after the Noise handshake, or when TCP is up.
    var readiness: ConnectionHandler<Session, Wire>.Readiness { get }
    /// Connects to `endpoint` on `eventLoop` with a pipeline ending in `engine`; the future fails when the connection
    /// cannot be made.
    func connect(to endpoint: HostPort, eventLoop: EventLoop, engine: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Void>
    /// A session for a new connection to `endpoint`, continuing `statistics` and the work ids from `firstWorkID`.
    func makeSession(endpoint: HostPort, statistics: MinerStatistics, firstWorkID: UInt64) -> Session
    /// The log line for `event`.
    func logLine(for event: Session.Event) -> MinerLogLine
}

/// How a session event is logged.
public struct MinerLogLine: Sendable {
    /// The level.
    public var level: Logger.Level
    /// The text.
    public var text: String

    /// A line.
    public init(_ level: Logger.Level, _ text: String) {
        self.level = level
        self.text = text
    }
}
