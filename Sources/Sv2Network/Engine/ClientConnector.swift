import Logging
import NIOCore
import Sv2Binary
import Sv2Sessions

/// One outgoing connection kept up: connects to the ``Failover``'s current endpoint, runs the engine with a fresh
/// session for each connection, and when the connection fails or ends waits as the failover says and tries the
/// next endpoint, until ``stop()``. The role's state that outlives a connection (statistics, job numbering) is
/// its own: the hooks see each session made and each session's last state.
///
/// All of its state lives on one event loop.
public final class ClientConnector<Session: ConnectionSession, Wire: ConnectionWire, Endpoint: Sendable & CustomStringConvertible>: Sendable
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    /// Opens a channel to an endpoint on a loop, with `engine` as the last handler of its pipeline; the future
    /// completes when the connection is up (or fails).
    public typealias Connect = @Sendable (_ endpoint: Endpoint, _ eventLoop: EventLoop, _ engine: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Void>

    /// The role's part: a session per connection, its effects, and the end of each connection.
    public struct Hooks: Sendable {
        /// The session for a new connection to the endpoint.
        public var makeSession: @Sendable (Endpoint, ConnectionHandle<Session, Wire>) -> Session?
        /// A role-specific effect of the session.
        public var effect: @Sendable (Session.Effect, ConnectionHandle<Session, Wire>) -> Void
        /// A connection to the endpoint ended (or was never made: nil session), for the role's carried state.
        public var ended: @Sendable (Endpoint, Session?) -> Void
        /// A frame of an unknown extension type arrived (see ``ConnectionHooks/unknownFrame``).
        public var unknownFrame: @Sendable (Sv2Frame, ConnectionHandle<Session, Wire>) -> Void

        /// Hooks from their closures.
        public init(
            makeSession: @escaping @Sendable (Endpoint, ConnectionHandle<Session, Wire>) -> Session?,
            effect: @escaping @Sendable (Session.Effect, ConnectionHandle<Session, Wire>) -> Void = { _, _ in },
            ended: @escaping @Sendable (Endpoint, Session?) -> Void = { _, _ in },
            unknownFrame: @escaping @Sendable (Sv2Frame, ConnectionHandle<Session, Wire>) -> Void = { _, _ in }
        ) {
            self.unknownFrame = unknownFrame
            self.makeSession = makeSession
            self.effect = effect
            self.ended = ended
        }
    }

    private struct State {
        var failover: Failover<Endpoint>
        var attempt: UInt64 = 0
        var handle: ConnectionHandle<Session, Wire>?
        var stopped = false
        var started = false
    }

    /// The loop everything runs on.
    public let eventLoop: EventLoop
    private let state: NIOLoopBoundBox<State>
    private let configuration: ConnectionConfiguration
    private let connections: ConnectionRegistry<Session, Wire>
    private let connect: Connect
    private let wire: Wire
    private let readiness: ConnectionHandler<Session, Wire>.Readiness
    private let hooks: Hooks

    /// A client on `eventLoop` going through `failover`'s endpoints; `tickInterval` ticks its session.
    public init(
        eventLoop: EventLoop, failover: Failover<Endpoint>, wire: Wire, readiness: ConnectionHandler<Session, Wire>.Readiness,
        configuration: ConnectionConfiguration, tickInterval: Duration? = nil, connect: @escaping Connect, hooks: Hooks
    ) {
        self.eventLoop = eventLoop
        self.state = .makeBoxSendingValue(State(failover: failover), eventLoop: eventLoop)
        self.configuration = configuration
        self.connections = ConnectionRegistry(group: eventLoop, tickInterval: tickInterval)
        self.connect = connect
        self.wire = wire
        self.readiness = readiness
        self.hooks = hooks
    }

    /// Connects (once; later calls do nothing).
    public func start() {
        eventLoop.execute {
            guard !self.state.value.started else { return }
            self.state.value.started = true
            self.connectNext()
        }
    }

    /// Stops for good: `body` gives the session's last messages (CloseChannel...), then the connection closes;
    /// completes when it is closed.
    public func stop(
        _ body: @escaping @Sendable (inout Session, Timestamp) -> [SessionAction<Session.Outbound, Session.Effect>] = { _, _ in [] }
    ) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.state.value.stopped = true
            self.connections.stop()
            return self.connections.closeAll(reason: "stopping", finally: body) ?? self.eventLoop.makeSucceededVoidFuture()
        }
    }

    /// Runs `body` on the current connection's session, from any thread; when there is none to run it on (not
    /// connected, or closing), `otherwise` runs instead. Both on the loop.
    public func update(
        _ body: @escaping @Sendable (inout Session, Timestamp) -> [SessionAction<Session.Outbound, Session.Effect>],
        otherwise: @escaping @Sendable () -> Void = {}
    ) {
        eventLoop.execute {
            guard let handle = self.state.value.handle else { return otherwise() }
            handle.update(body, otherwise: otherwise)
        }
    }

    /// Runs `body` with the current connection on the loop, when one is up.
    public func withCurrent(_ body: @escaping @Sendable (ConnectionHandle<Session, Wire>) -> Void) {
        eventLoop.execute {
            if let handle = self.state.value.handle { body(handle) }
        }
    }

    /// Reads the current session (nil when not connected) and the endpoint it is on or tries next with `body`, on the
    /// loop, from any thread (monitoring's snapshot).
    public func read<Value: Sendable>(_ body: @escaping @Sendable (Session?, Endpoint) -> Value) -> EventLoopFuture<Value> {
        eventLoop.submit { body(self.state.value.handle?.session, self.state.value.failover.current) }
    }

    /// The current connection, if one is up (on the loop only).
    public var current: ConnectionHandle<Session, Wire>? { state.value.handle }

    /// The endpoint connected to now, or tried next (on the loop only).
    public var currentEndpoint: Endpoint { state.value.failover.current }

    /// The peer asked to move (Reconnect): the current connection closes and the next attempt goes to `endpoint`
    /// at once (on the loop only).
    public func redirect(to endpoint: Endpoint) {
        state.value.failover.redirect(to: endpoint)
        state.value.handle?.close(reason: "moving to \(endpoint)")
    }

    /// The session of the current connection is set up: the next failure waits the shortest delay again.
    private func established() {
        state.value.failover.established()
    }

    private func connectNext() {
        guard !state.value.stopped else { return }
        state.value.attempt += 1
        let attempt = state.value.attempt
        let endpoint = state.value.failover.current
        configuration.logger.info("connecting to \(endpoint)")
        let hooks = ConnectionHooks<Session, Wire>(
            ready: { [self] handle in
                guard state.value.attempt == attempt, !state.value.stopped,
                      let session = self.hooks.makeSession(endpoint, handle)
                else { return nil }
                state.value.handle = handle
                return session
            },
            effect: { [self] effect, handle in self.hooks.effect(effect, handle) },
            setUp: { [self] _ in established() },
            closed: { [self] handle, session in
                if state.value.handle == handle { state.value.handle = nil }
                ended(attempt, endpoint: endpoint, session: session, reason: nil)
            },
            unknownFrame: { [self] frame, handle in self.hooks.unknownFrame(frame, handle) })
        let engine = ConnectionEngine(wire: wire, readiness: readiness, configuration: configuration, hooks: hooks)
        let connections = self.connections
        connect(endpoint, eventLoop) { channel in
            try channel.pipeline.syncOperations.addHandler(engine.handler(for: channel, registry: connections))
        }.whenFailure { [self] error in
            ended(attempt, endpoint: endpoint, session: nil, reason: "cannot connect: \(error)")
        }
    }

    private func ended(_ attempt: UInt64, endpoint: Endpoint, session: Session?, reason: String?) {
        guard attempt == state.value.attempt else { return }
        hooks.ended(endpoint, session)
        guard !state.value.stopped else { return }
        let (next, delay) = state.value.failover.failed()
        let when = delay == .zero ? "at once" : "in \(delay.secondsText) s"
        configuration.logger.warning("\(endpoint): \(reason ?? "connection ended"); trying \(next) \(when)")
        eventLoop.scheduleTask(in: TimeAmount(delay)) { [self] in connectNext() }
    }
}
