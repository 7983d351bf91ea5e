import NIOCore
import Sv2Sessions
import Synchronization

/// The live connections of one server (or client pool), kept per event loop: a broadcast is one task per loop that
/// updates each of its connections, and one timer per loop ticks them all (sessions' vardiff and keepalives, the
/// engine's idle timeout), so that a connection costs no timer of its own.
public final class ConnectionRegistry<Session: ConnectionSession, Wire: ConnectionWire>: Sendable
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    private let loops: [ObjectIdentifier: LoopConnections<Session, Wire>]
    private let counter = MemberCounter()

    /// A registry for the loops of `group`, ticking every connection every `tickInterval` (nil: no ticks).
    public init(group: EventLoopGroup, tickInterval: Duration?) {
        var loops = [ObjectIdentifier: LoopConnections<Session, Wire>]()
        for loop in group.makeIterator() {
            loops[ObjectIdentifier(loop)] = LoopConnections(eventLoop: loop, tickInterval: tickInterval, counter: counter)
        }
        self.loops = loops
    }

    /// The connections of `loop` (a handler's ticker and membership), nil for a loop outside the group.
    public func connections(on loop: EventLoop) -> LoopConnections<Session, Wire>? {
        loops[ObjectIdentifier(loop)]
    }

    /// Connections open now (from TCP up to closed).
    public var count: Int { counter.value.load(ordering: .relaxed) }

    /// Runs `body` on every connection's session, one task per event loop; each connection flushes once. The future
    /// (nil with no event loop) completes once every loop has run it.
    @discardableResult
    public func broadcast(
        _ body: @escaping @Sendable (inout Session, Timestamp) -> [SessionAction<Session.Outbound, Session.Effect>]
    ) -> EventLoopFuture<Void>? {
        guard let any = loops.values.first?.eventLoop else { return nil }
        let done = loops.values.map { members in members.eventLoop.submit { members.forEachHandler { $0.update(body) } } }
        return EventLoopFuture.andAllComplete(done, on: any)
    }

    /// Reads every connection's session with `body` on its loop (given the session and the connection's
    /// ``ConnectionHandle/id``) and gathers what it returns, nil left out: monitoring's snapshot, taken without a
    /// lock on the connections' path. Nil with no event loop.
    public func collect<Value: Sendable>(
        _ body: @escaping @Sendable (Session, ObjectIdentifier) -> Value?
    ) -> EventLoopFuture<[Value]>? {
        guard let any = loops.values.first?.eventLoop else { return nil }
        let parts = loops.values.map { members in
            members.eventLoop.submit {
                var values = [Value]()
                members.forEachHandler { handler in
                    if let session = handler.currentSession, let value = body(session, ObjectIdentifier(handler)) { values.append(value) }
                }
                return values
            }
        }
        return EventLoopFuture.whenAllSucceed(parts, on: any).map { $0.flatMap { $0 } }
    }

    /// Writes values encoded once (a job's frames) to every connection whose session `include` accepts, one task per
    /// event loop; `make` builds the values on each loop (so that no buffer is shared between threads).
    public func broadcast(
        encoded make: @escaping @Sendable () -> [(value: Wire.OutboundOut, bytes: Int)], to include: @escaping @Sendable (Session) -> Bool
    ) {
        for members in loops.values {
            members.eventLoop.execute {
                // Encoded and boxed once per loop, on the first connection that takes them.
                var boxed: [(value: NIOAny, bytes: Int)]?
                members.forEachHandler { handler in
                    guard handler.sessionSatisfies(include) else { return }
                    let values = boxed ?? handler.box(make())
                    boxed = values
                    handler.write(boxed: values)
                }
            }
        }
    }

    /// Runs `body` on every connection's session (as ``broadcast(_:)``) and then closes the connections; completes
    /// once every connection of every loop is closed.
    public func closeAll(
        reason: String, finally body: @escaping @Sendable (inout Session, Timestamp) -> [SessionAction<Session.Outbound, Session.Effect>] = { _, _ in [] }
    ) -> EventLoopFuture<Void>? {
        guard let any = loops.values.first?.eventLoop else { return nil }
        let closed = loops.values.map { members in
            members.eventLoop.flatSubmit {
                var futures = [EventLoopFuture<Void>]()
                members.forEachHandler { handler in
                    handler.update(body)
                    if let closed = handler.closeFuture { futures.append(closed) }
                    handler.close(reason: reason, level: .info)
                }
                return EventLoopFuture.andAllComplete(futures, on: members.eventLoop)
            }
        }
        return EventLoopFuture.andAllComplete(closed, on: any)
    }

    /// Stops the tick timers.
    public func stop() {
        for members in loops.values { members.stop() }
    }
}

/// The connections of one event loop, touched only on that loop, and its tick timer.
public final class LoopConnections<Session: ConnectionSession, Wire: ConnectionWire>: Sendable
where Wire.Message == Session.Inbound, Wire.Outbound == Session.Outbound {
    /// The loop.
    public let eventLoop: EventLoop
    private let handlers: NIOLoopBoundBox<[ObjectIdentifier: ConnectionHandler<Session, Wire>]>
    private let timer: NIOLoopBoundBox<RepeatedTask?>
    private let tickInterval: Duration?
    private let counter: MemberCounter

    fileprivate init(eventLoop: EventLoop, tickInterval: Duration?, counter: MemberCounter) {
        self.eventLoop = eventLoop
        self.tickInterval = tickInterval
        self.counter = counter
        handlers = .makeBoxSendingValue([:], eventLoop: eventLoop)
        timer = .makeEmptyBox(valueType: RepeatedTask.self, eventLoop: eventLoop)
    }

    /// A connection joins (on the loop); the first one starts the timer.
    func add(_ handler: ConnectionHandler<Session, Wire>) {
        handlers.value[ObjectIdentifier(handler)] = handler
        counter.value.add(1, ordering: .relaxed)
        if timer.value == nil, let tickInterval {
            timer.value = eventLoop.scheduleRepeatedTask(initialDelay: TimeAmount(tickInterval), delay: TimeAmount(tickInterval)) { [weak self] _ in
                self?.forEachHandler { $0.tick() }
            }
        }
    }

    /// A connection leaves (on the loop).
    func remove(_ handler: ConnectionHandler<Session, Wire>) {
        guard handlers.value.removeValue(forKey: ObjectIdentifier(handler)) != nil else { return }
        counter.value.subtract(1, ordering: .relaxed)
    }

    /// Calls `body` for each connection (on the loop; connections may leave meanwhile).
    func forEachHandler(_ body: (ConnectionHandler<Session, Wire>) -> Void) {
        for handler in handlers.value.values { body(handler) }
    }

    fileprivate func stop() {
        eventLoop.execute { self.timer.value?.cancel() }
    }
}

/// The number of connections of a registry, counted by its loops.
private final class MemberCounter: Sendable {
    let value = Atomic<Int>(0)
}
