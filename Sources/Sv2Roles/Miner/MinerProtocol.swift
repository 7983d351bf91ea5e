import Logging
import NIOCore
import Sv2Channels

/// What ``CPUMiner`` needs to know of one mining protocol: how to connect, which session speaks it, how its
/// messages are written and how its events are logged. Everything else (the engine, shares from the hashing
/// threads, reconnecting with backoff, reports) is the miner's and the same for every protocol.
public protocol MinerProtocol: Sendable {
    /// The sans-IO session of one connection.
    associatedtype Session: MinerSession

    /// The protocol's name for the log, e.g. `Stratum V2`.
    var name: String { get }
    /// Connects to `host`:`port` on `eventLoop` with a pipeline that reports to `link` (through
    /// ``MinerConnectionHandler``); the future fails when the connection cannot be made.
    func connect(host: String, port: Int, eventLoop: EventLoop, link: MinerLink<Session.Message>) -> EventLoopFuture<Void>
    /// A session for a new connection to `host`:`port`, continuing `statistics` and the work ids from `firstWorkID`.
    func makeSession(host: String, port: Int, statistics: MinerStatistics, firstWorkID: UInt64) -> Session
    /// Writes and flushes `message` on a channel whose pipeline `connect` made.
    func write(_ message: Session.Message, to channel: Channel)
    /// The log line for `event`.
    func logLine(for event: Session.Event) -> MinerLogLine
}

/// How a session event is logged.
public struct MinerLogLine: Sendable {
    /// The level.
    public var level: Logger.Level
    /// The text.
    public var text: String
    /// The event shows the connection is set up: the reconnect delay starts over.
    public var isSetUp: Bool

    /// A line; `isSetUp` only for the event that completes a protocol's setup.
    public init(_ level: Logger.Level, _ text: String, isSetUp: Bool = false) {
        self.level = level
        self.text = text
        self.isSetUp = isSetUp
    }
}

/// Where a connection reports to the miner; every callback runs on the connection's event loop.
public struct MinerLink<Message>: Sendable {
    /// The connection can carry messages (TCP connected, handshake done).
    public var ready: @Sendable (Channel) -> Void
    /// A message from the pool.
    public var received: @Sendable (Message) -> Void
    /// The connection closed.
    public var ended: @Sendable (String) -> Void
    /// An error on the connection (the pipeline closes it when it must).
    public var failed: @Sendable (Error) -> Void

    /// A link from its callbacks.
    public init(
        ready: @escaping @Sendable (Channel) -> Void, received: @escaping @Sendable (Message) -> Void,
        ended: @escaping @Sendable (String) -> Void, failed: @escaping @Sendable (Error) -> Void
    ) {
        self.ready = ready
        self.received = received
        self.ended = ended
        self.failed = failed
    }

    /// The same link for a pipeline that delivers `Inbound` values, each turned into a message by `transform`.
    public func mapped<Inbound>(_ transform: @escaping @Sendable (Inbound) -> Message) -> MinerLink<Inbound> {
        let received = self.received
        return MinerLink<Inbound>(ready: ready, received: { received(transform($0)) }, ended: ended, failed: failed)
    }
}

/// The last handler of a miner's pipeline: hands the connection's events to a ``MinerLink``.
public final class MinerConnectionHandler<InboundIn>: ChannelInboundHandler {
    /// When the connection is ready for the session.
    public enum Readiness: Sendable {
        /// Once TCP is connected.
        case active
        /// When a user inbound event of this type passes (e.g. Sv2TransportReady after the Noise handshake).
        case event(any Sendable.Type)
    }

    private let link: MinerLink<InboundIn>
    private let readiness: Readiness

    /// A handler reporting to `link`.
    public init(link: MinerLink<InboundIn>, readiness: Readiness) {
        self.link = link
        self.readiness = readiness
    }

    /// Reports readiness on `.active`.
    public func channelActive(context: ChannelHandlerContext) {
        if case .active = readiness { link.ready(context.channel) }
        context.fireChannelActive()
    }

    /// Reports readiness on the configured event.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case let .event(type) = readiness, ObjectIdentifier(Swift.type(of: event)) == ObjectIdentifier(type) {
            link.ready(context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Hands a message over.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        link.received(unwrapInboundIn(data))
    }

    /// Reports the end of the connection.
    public func channelInactive(context: ChannelHandlerContext) {
        link.ended("disconnected")
        context.fireChannelInactive()
    }

    /// Reports an error.
    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        link.failed(error)
    }
}

@available(*, unavailable)
extension MinerConnectionHandler: Sendable {}
