import Logging
import NIOCore
import Sv2Binary
import Sv2Sessions

/// The connection engine: the last handler of every role's pipelines, running one ``ConnectionSession`` per
/// connection. A role is a session plus a few hooks (``ConnectionHooks``); this handler owns the rest:
///
/// - starts the session when the transport is ready (after the Noise handshake, or when TCP is up for Stratum V1)
///   and asks the role's ``ConnectionHooks/ready`` hook for it, so that a connection counts only once it is usable;
/// - performs the session's actions: messages are written as they come and flushed once per read burst (or once
///   per batch of actions outside reads), effects go to the role, log lines get the peer's metadata;
/// - backpressure: while the channel is not writable it reads nothing more from the peer and holds what the session
///   sends; past ``ConnectionConfiguration/outboundLimit`` held bytes the connection is closed, alone, with a log line;
/// - a setup timeout (the session must be set up in time) and an idle timeout (some input in time), checked on an
///   injected clock with timers of the channel's event loop;
/// - closing with a reason, logged once; a malformed input goes to the session, which decides.
///
/// Everything runs on the channel's event loop; other threads reach the session through a ``ConnectionHandle``.
public final class ConnectionHandler<Session: ConnectionSession, Wire: ConnectionWire>: ChannelDuplexHandler
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    /// What the pipeline delivers.
    public typealias InboundIn = Wire.InboundIn
    /// Written values pass through (nothing after the engine writes).
    public typealias OutboundIn = Wire.OutboundOut
    /// What the engine writes.
    public typealias OutboundOut = Wire.OutboundOut
    /// The session's actions.
    public typealias Action = SessionAction<Session.Outbound, Session.Effect>

    /// When the session starts.
    public enum Readiness: Sendable {
        /// When ``Sv2TransportReady`` passes (Sv2, encrypted or plaintext).
        case transportReady
        /// When TCP is connected (Stratum V1).
        case active
    }

    /// What a held message costs beyond its encoded bytes (its value, its slot in the queue, its buffer's header),
    /// counted against ``ConnectionConfiguration/outboundLimit`` so that the limit bounds memory, not payload.
    static var heldMessageOverhead: Int { 64 }

    private let engine: ConnectionEngine<Session, Wire>
    private var decoder: Wire.Decoder
    private var context: ChannelHandlerContext?
    private var session: Session?
    private var closeReason: (level: Logger.Level, text: String)?
    private var setupTimer: Scheduled<Void>?
    private var lastInput = Timestamp(nanoseconds: 0)
    private var held: [NIOAny] = []
    private var heldBytes = 0
    private var ticker: LoopConnections<Session, Wire>?
    /// This connection's handle, made once (the hooks get it with every effect); dropped when the handler leaves the
    /// pipeline, which ends the reference cycle through it.
    private var handle: ConnectionHandle<Session, Wire>?
    // The flags last, side by side (the instance is one allocation per connection).
    private var activated = false
    private var started = false
    private var wasSetUp = false
    private var closing = false
    private var inReadBurst = false
    private var needsFlush = false
    private var readDeferred = false
    /// The channel's writability as its last change event said (events arrive as soon as a write crosses a mark).
    private var writable = true

    /// The handler of one connection of `engine`'s kind; `ticker`, the connections of the channel's loop in a
    /// ``ConnectionRegistry``, ticks the session, checks the idle timeout and lets the registry reach the session.
    public init(engine: ConnectionEngine<Session, Wire>, ticker: LoopConnections<Session, Wire>? = nil) {
        self.engine = engine
        self.ticker = ticker
        self.decoder = engine.wire.makeDecoder()
    }

    /// A handler with an engine of its own (tests, one-off connections).
    public convenience init(
        wire: Wire, readiness: Readiness, configuration: ConnectionConfiguration, hooks: ConnectionHooks<Session, Wire>,
        ticker: LoopConnections<Session, Wire>? = nil
    ) {
        self.init(engine: ConnectionEngine(wire: wire, readiness: readiness, configuration: configuration, hooks: hooks), ticker: ticker)
    }

    private var configuration: ConnectionConfiguration { engine.configuration }
    private var hooks: ConnectionHooks<Session, Wire> { engine.hooks }
    private var wire: Wire { engine.wire }
    private var readiness: Readiness { engine.readiness }

    /// Logs `message` with the peer's address in the metadata (computed only when a line is written).
    private func log(_ level: Logger.Level, _ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Logger.Metadata = [:]) {
        let logger = configuration.logger
        guard logger.logLevel <= level else { return }
        var metadata = metadata()
        if let remote = context?.channel.remoteAddress { metadata["peer"] = "\(remote.hostPortDescription)" }
        logger.log(level: level, "\(message())", metadata: metadata)
    }

    // MARK: - Pipeline events

    /// Keeps the context for the handle's calls.
    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        handle = ConnectionHandle(handler: self, channel: context.channel)
        if context.channel.isActive { becameActive(context: context) }
    }

    /// Forgets the context.
    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        handle = nil
    }

    /// TCP is up: timers start, and a Stratum V1 session starts.
    public func channelActive(context: ChannelHandlerContext) {
        becameActive(context: context)
        context.fireChannelActive()
    }

    private func becameActive(context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        lastInput = configuration.clock.now()
        if let limit = configuration.setupTimeout {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            setupTimer = context.eventLoop.scheduleTask(in: TimeAmount(limit)) {
                handler.value.setupTimedOut(after: limit)
            }
        }
        ticker?.add(self)
        if readiness == .active { start(context: context) }
    }

    /// The Noise handshake is done (or plaintext is up): the session starts.
    /// A frame of an unknown extension type was discarded below: logged at debug level.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if readiness == .transportReady, event is Sv2TransportReady { start(context: context) }
        if let unknown = event as? Sv2UnknownExtensionFrame {
            let header = unknown.frame.header
            log(.debug, "discarded a message of an unknown extension type", [
                "extension_type": "0x\(String(header.extensionType, radix: 16))", "message_type": "0x\(String(header.messageType, radix: 16))",
            ])
            if session != nil, !closing { hooks.unknownFrame(unknown.frame, handle(context)) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func start(context: ChannelHandlerContext) {
        guard !started, !closing else { return }
        started = true
        guard let session = hooks.ready(handle(context)) else {
            close(context: context, level: .info, reason: "refused")
            return
        }
        self.session = session
        let now = configuration.clock.now()
        run(context: context) { $0.start(now: now) }
        flushIfNeeded(context: context)
    }

    /// One input: its messages to the session (written answers wait for the end of the read burst); what does not
    /// decode to the session's ``ConnectionSession/malformed(_:now:)``; an input the wire cannot go on from closes.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = configuration.clock.now()
        lastInput = now
        inReadBurst = true
        do {
            try wire.decode(
                wire.unwrap(data), with: &decoder,
                deliver: { message in run(context: context) { $0.receive(message, now: now) } },
                malformed: { problem in run(context: context) { $0.malformed(problem.description, now: now) } })
        } catch {
            close(context: context, level: .warning, reason: "\(error)")
        }
    }

    /// The read burst is over: the session's batched answers, then one flush.
    public func channelReadComplete(context: ChannelHandlerContext) {
        let now = lastInput
        run(context: context) { $0.readComplete(now: now) }
        inReadBurst = false
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    /// A malformed input goes to the session; anything else means the pipeline is closing the connection: its
    /// reason is kept for the log.
    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let problem = wire.recoverableProblem(error) {
            let now = configuration.clock.now()
            run(context: context) { $0.malformed(problem, now: now) }
            flushIfNeeded(context: context)
        } else {
            close(context: context, level: .warning, reason: "\(error)")
        }
    }

    /// The connection is gone: the reason is logged, the role hears of it with the session's last state.
    public func channelInactive(context: ChannelHandlerContext) {
        closing = true
        setupTimer?.cancel()
        ticker?.remove(self)
        ticker = nil
        held.removeAll()
        heldBytes = 0
        let reason = closeReason ?? (.info, "closed by the peer")
        log(reason.level, "connection closed: \(reason.text)")
        let last = session
        session = nil
        if activated { hooks.closed(handle(context), last) }
        context.fireChannelInactive()
    }

    /// Writable again: what was held goes out, and reading resumes.
    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable {
            let pending = held
            held.removeAll(keepingCapacity: true)
            heldBytes = 0
            for value in pending { context.write(value, promise: nil) }
            if !pending.isEmpty { context.flush() }
            if readDeferred, writable {
                readDeferred = false
                context.read()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Reads are held back while the peer does not take what we send.
    public func read(context: ChannelHandlerContext) {
        if writable {
            context.read()
        } else {
            readDeferred = true
        }
    }

    // MARK: - Sessions and actions

    /// Runs `body` on the session and performs its actions (no-op once the session is gone).
    func run(context: ChannelHandlerContext, _ body: (inout Session) -> [Action]) {
        // Mutated in place (no copy out and back): the session's code calls nothing back, so the access ends before
        // the actions run.
        guard !closing, let actions = session?.apply(body) else { return }
        perform(actions, context: context)
        if !wasSetUp, session?.isSetUp == true, !closing {
            wasSetUp = true
            setupTimer?.cancel()
            setupTimer = nil
            hooks.setUp(handle(context))
        }
    }

    /// Runs `body` from outside a read (a handle, the ticker) and flushes what it wrote.
    /// Returns false, running nothing, when there is no session to run it on (not started, closing or closed).
    @discardableResult
    func update(_ body: (inout Session, Timestamp) -> [Action]) -> Bool {
        guard let context, session != nil, !closing else { return false }
        let now = configuration.clock.now()
        run(context: context) { body(&$0, now) }
        flushIfNeeded(context: context)
        return true
    }

    /// Writes an already encoded value (a frame encoded once for many connections), subject to backpressure.
    func write(encoded value: Wire.OutboundOut, bytes: Int) {
        guard let context, !closing else { return }
        send(wire.wrap(value), bytes: bytes, context: context)
        flushIfNeeded(context: context)
    }

    /// `values` boxed for the pipeline (once for many connections).
    func box(_ values: [(value: Wire.OutboundOut, bytes: Int)]) -> [(value: NIOAny, bytes: Int)] {
        values.map { (wire.wrap($0.value), $0.bytes) }
    }

    /// Writes several encoded values, boxed for the pipeline, then flushes once.
    func write(boxed values: [(value: NIOAny, bytes: Int)]) {
        guard let context, !closing else { return }
        for item in values { send(item.value, bytes: item.bytes, context: context) }
        flushIfNeeded(context: context)
    }

    /// The ticker's call: the idle timeout, then the session's tick.
    func tick() {
        guard let context else { return }
        let now = configuration.clock.now()
        if let idle = configuration.idleTimeout, now - lastInput > idle {
            close(context: context, level: .warning, reason: "nothing received for \(idle.secondsText) s")
            return
        }
        run(context: context) { $0.tick(now: now) }
        flushIfNeeded(context: context)
    }

    /// The session as it is now (nil before it starts and after the connection closed).
    var currentSession: Session? { session }

    /// True when there is a session and `include` accepts it.
    func sessionSatisfies(_ include: (Session) -> Bool) -> Bool {
        session.map(include) ?? false
    }

    /// Completes when the channel has closed (nil once the handler left the pipeline).
    var closeFuture: EventLoopFuture<Void>? { context?.channel.closeFuture }

    /// Closes the connection for `reason` (the role's or the handle's call).
    func close(reason: String, level: Logger.Level) {
        guard let context else { return }
        close(context: context, level: level, reason: reason)
    }

    private func perform(_ actions: [Action], context: ChannelHandlerContext) {
        for action in actions {
            guard !closing else { return }
            switch action {
            case let .send(message):
                do {
                    let (value, bytes) = try wire.encodeBoxed(message, allocator: context.channel.allocator)
                    send(value, bytes: bytes, context: context)
                } catch {
                    log(.error, "cannot encode an outgoing message: \(error)")
                }
            case let .effect(effect):
                hooks.effect(effect, handle(context))
            case let .log(line):
                log(line.level, line.message, line.metadata.mapValues { "\($0)" })
            case let .close(reason):
                close(context: context, level: .warning, reason: reason)
            }
        }
    }

    private func send(_ value: NIOAny, bytes: Int, context: ChannelHandlerContext) {
        // Unwritable because of this burst's own unflushed writes: flush before deciding the peer is slow.
        if held.isEmpty, needsFlush, !writable {
            needsFlush = false
            context.flush()
        }
        guard held.isEmpty, writable else {
            held.append(value)
            heldBytes += bytes + Self.heldMessageOverhead
            if heldBytes > configuration.outboundLimit {
                close(context: context, level: .warning, reason: "more than \(configuration.outboundLimit) bytes unsent: the peer does not read")
            }
            return
        }
        context.write(value, promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush, !inReadBurst else { return }
        needsFlush = false
        context.flush()
    }

    private func close(context: ChannelHandlerContext, level: Logger.Level, reason: String) {
        guard !closing else { return }
        closing = true
        if closeReason == nil { closeReason = (level, reason) }
        held.removeAll()
        heldBytes = 0
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.close(promise: nil)
    }

    private func setupTimedOut(after limit: Duration) {
        setupTimer = nil
        guard let context, !(session?.isSetUp ?? false) else { return }
        close(context: context, level: .warning, reason: "not set up within \(limit.secondsText) s")
    }

    private func handle(_ context: ChannelHandlerContext) -> ConnectionHandle<Session, Wire> {
        if let handle { return handle }
        return ConnectionHandle(handler: self, channel: context.channel)
    }
}

@available(*, unavailable)
extension ConnectionHandler: Sendable {}

extension ConnectionSession {
    /// `body` applied to this session in place (with optional chaining, an optional session is not copied).
    fileprivate mutating func apply<Result>(_ body: (inout Self) -> Result) -> Result {
        body(&self)
    }
}

/// The engine for one kind of connection (a role's miners, its upstream...): the wire, when sessions start, the
/// settings and the role's hooks, shared by every connection of that kind, so that a connection's handler holds one
/// reference to them.
public final class ConnectionEngine<Session: ConnectionSession, Wire: ConnectionWire>: Sendable
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    /// How messages meet the pipeline.
    public let wire: Wire
    /// When a session starts.
    public let readiness: ConnectionHandler<Session, Wire>.Readiness
    /// Timeouts, limits, clock and logger.
    public let configuration: ConnectionConfiguration
    /// The role's part.
    public let hooks: ConnectionHooks<Session, Wire>

    /// An engine from its parts.
    public init(
        wire: Wire, readiness: ConnectionHandler<Session, Wire>.Readiness, configuration: ConnectionConfiguration,
        hooks: ConnectionHooks<Session, Wire>
    ) {
        self.wire = wire
        self.readiness = readiness
        self.configuration = configuration
        self.hooks = hooks
    }

    /// A handler for a new connection on `channel`'s loop, ticked by `registry`.
    public func handler(for channel: Channel, registry: ConnectionRegistry<Session, Wire>?) -> ConnectionHandler<Session, Wire> {
        ConnectionHandler(engine: self, ticker: registry?.connections(on: channel.eventLoop))
    }
}

/// The engine's settings for one kind of connection.
public struct ConnectionConfiguration: Sendable {
    /// The clock sessions get `now` from.
    public var clock: Sv2Clock
    /// Time from TCP accept or connect until the session must be set up (nil: no limit).
    public var setupTimeout: Duration?
    /// Longest time without any input before the connection is closed (nil: no limit).
    public var idleTimeout: Duration?
    /// Bytes a connection may hold unsent while its peer does not read (encoded sizes plus a small overhead per
    /// message), beyond the socket's own buffers (the kernel's, and NIO's up to its high water mark); past it the
    /// connection is closed.
    public var outboundLimit: Int
    /// The logger; the engine adds the peer's address to the metadata of each line.
    public var logger: Logger

    /// Settings; defaults: the system clock, 1 MiB held at most, no timeouts.
    public init(
        logger: Logger, clock: Sv2Clock = .system, setupTimeout: Duration? = nil, idleTimeout: Duration? = nil,
        outboundLimit: Int = 1 << 20
    ) {
        self.logger = logger
        self.clock = clock
        self.setupTimeout = setupTimeout
        self.idleTimeout = idleTimeout
        self.outboundLimit = outboundLimit
    }
}

/// A role's part in the engine, called on the connection's event loop.
public struct ConnectionHooks<Session: ConnectionSession, Wire: ConnectionWire>: Sendable
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    /// The transport is ready: the session for this connection, or nil to refuse it (the connection closes).
    public var ready: @Sendable (ConnectionHandle<Session, Wire>) -> Session?
    /// A role-specific effect of the session.
    public var effect: @Sendable (Session.Effect, ConnectionHandle<Session, Wire>) -> Void
    /// The session has just become set up (``ConnectionSession/isSetUp``).
    public var setUp: @Sendable (ConnectionHandle<Session, Wire>) -> Void
    /// A frame of an extension type this implementation does not know arrived (and was discarded): a proxy forwards
    /// the channel messages among them (spec 3.4); everyone else lets it go.
    public var unknownFrame: @Sendable (Sv2Frame, ConnectionHandle<Session, Wire>) -> Void
    /// A connection that was up (TCP) closed; the session as it was last (nil when it never started: a failed
    /// handshake, a refused or timed-out connection).
    public var closed: @Sendable (ConnectionHandle<Session, Wire>, Session?) -> Void

    /// Hooks from their closures; a role without effects or interest in closing leaves them out.
    public init(
        ready: @escaping @Sendable (ConnectionHandle<Session, Wire>) -> Session?,
        effect: @escaping @Sendable (Session.Effect, ConnectionHandle<Session, Wire>) -> Void = { _, _ in },
        setUp: @escaping @Sendable (ConnectionHandle<Session, Wire>) -> Void = { _ in },
        closed: @escaping @Sendable (ConnectionHandle<Session, Wire>, Session?) -> Void = { _, _ in },
        unknownFrame: @escaping @Sendable (Sv2Frame, ConnectionHandle<Session, Wire>) -> Void = { _, _ in }
    ) {
        self.unknownFrame = unknownFrame
        self.ready = ready
        self.effect = effect
        self.setUp = setUp
        self.closed = closed
    }
}

/// A connection as the rest of the role sees it, from any thread: calls hop to the connection's event loop (or run
/// at once when made on it).
public struct ConnectionHandle<Session: ConnectionSession, Wire: ConnectionWire>: Sendable, Hashable
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    private let handler: NIOLoopBound<ConnectionHandler<Session, Wire>>
    /// The connection's channel.
    public let channel: Channel
    /// Identifies the connection.
    public let id: ObjectIdentifier

    init(handler: ConnectionHandler<Session, Wire>, channel: Channel) {
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.channel = channel
        self.id = ObjectIdentifier(handler)
    }

    /// The connection's event loop.
    public var eventLoop: EventLoop { channel.eventLoop }

    /// The peer's address, `host:port`.
    public var peer: String { channel.peerDescription }

    /// The session as it is now, read on the connection's event loop (nil before it starts and once it closed).
    public var session: Session? { handler.value.currentSession }

    /// Runs `body` on the session with the current time and performs what it returns, then flushes; when the
    /// connection has no session to run it on (closing or closed), `otherwise` runs instead. Both on the loop.
    public func update(
        _ body: @escaping @Sendable (inout Session, Timestamp) -> [SessionAction<Session.Outbound, Session.Effect>],
        otherwise: @escaping @Sendable () -> Void = {}
    ) {
        onLoop { handler in
            if !handler.update(body) { otherwise() }
        }
    }

    /// Writes a value already encoded for the pipeline (one encoding shared by many connections).
    public func write(encoded value: Wire.OutboundOut, bytes: Int) where Wire.OutboundOut: Sendable {
        onLoop { $0.write(encoded: value, bytes: bytes) }
    }

    /// Closes the connection, logging `reason` at `level`.
    public func close(reason: String, level: Logger.Level = .info) {
        onLoop { $0.close(reason: reason, level: level) }
    }

    /// Runs `body` with the handler at once on the connection's loop, else in a task there.
    private func onLoop(_ body: @escaping @Sendable (ConnectionHandler<Session, Wire>) -> Void) {
        if eventLoop.inEventLoop {
            body(handler.value)
        } else {
            let handler = self.handler
            eventLoop.execute { body(handler.value) }
        }
    }

    /// Handles are equal when they name the same connection.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.id == rhs.id }

    /// Hashes the connection's identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
