import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Network
import Sv2Sessions
import Synchronization

/// The CPU miner of `sv2 mine --cpu`: a ``HashingEngine`` fed by the ``MinerSession`` of `Protocol` (Stratum V2 or
/// V1, see ``MinerProtocol``) over one pool connection at a time, on the connection engine.
///
/// All connection and session state lives on one event loop: messages from the pool, shares from the hashing
/// threads (handed over with `EventLoop.execute`), timers. A lost connection idles the engine and is retried after
/// 1 s, doubling up to 30 s; a completed setup (SetupConnection.Success, the mining.subscribe answer) resets the
/// delay. A pool asking the miner to move (Reconnect, client.reconnect) moves it at once. Every report interval one
/// line gives the hash rate and the accepted and rejected share counts.
///
/// At most ``pendingShareLimit`` shares wait for the event loop, and none is written while the connection's send
/// buffer is full: when a target far too easy makes the threads find more than the pool takes, the excess is
/// dropped and counted as discarded instead of queueing without bound.
public final class CPUMiner<Protocol: MinerProtocol>: Service, Sendable {
    /// Shares handed to the event loop and not yet processed, beyond which new ones are dropped.
    public static var pendingShareLimit: Int { 4096 }

    /// Settings of the miner.
    public struct Configuration: Sendable {
        /// The protocol and what its sessions ask for.
        public var `protocol`: Protocol
        /// The pool (a move asked by the pool changes it).
        public var pool: HostPort
        /// Threads, lanes (one per channel), kernel, chunk size.
        public var engine: HashingEngine.Configuration
        /// Time between two hash rate lines.
        public var reportInterval: Duration
        /// First delay before reconnecting; it doubles after each failure.
        public var initialBackoff: Duration
        /// Longest delay before reconnecting.
        public var maximumBackoff: Duration

        /// Settings; reconnecting waits 1 s at first, doubling to at most 30 s.
        public init(
            protocol: Protocol, pool: HostPort, engine: HashingEngine.Configuration, reportInterval: Duration = .seconds(5),
            initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(30)
        ) {
            self.protocol = `protocol`
            self.pool = pool
            self.engine = engine
            self.reportInterval = reportInterval
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    /// What outlives one connection's session.
    private struct Carried {
        var statistics = MinerStatistics()
        var nextWorkID: UInt64 = 1
    }

    /// Holds the miner weakly for the engine's share callback, which is made before the miner exists.
    private final class ShareRelay: Sendable {
        private let miner = NIOLockedValueBox<Weak?>(nil)
        struct Weak { weak var value: CPUMiner? }

        func set(_ value: CPUMiner) { miner.withLockedValue { $0 = Weak(value: value) } }
        var value: CPUMiner? { miner.withLockedValue { $0?.value } }
    }

    private typealias Connector = ClientConnector<Protocol.Session, Protocol.Wire, HostPort>

    private let configuration: Configuration
    private let logger: Logger
    private let engine: HashingEngine
    private let connector: Connector
    private let startedAt = DispatchTime.now().uptimeNanoseconds
    private let pendingShares = Atomic<Int>(0)
    private let droppedShares = Atomic<Int>(0)
    private let carried = NIOLockedValueBox(Carried())
    private let reports = NIOLockedValueBox<(task: RepeatedTask?, last: (time: UInt64, hashes: UInt64))>((nil, (0, 0)))
    private let finished: Completion
    private let stopped = NIOLockedValueBox(false)

    /// A miner that runs on `eventLoop`; `onFailure` is called (once, on the loop) when mining cannot go on, e.g. the
    /// pool refused every channel or the user.
    public init(
        configuration: Configuration, eventLoop: EventLoop, logger: Logger, onFailure: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(HashingEngine.ConfigurationError) {
        let relay = ShareRelay()
        self.configuration = configuration
        self.logger = logger
        self.engine = try HashingEngine(configuration: configuration.engine) { lane, share in relay.value?.found(share, lane: lane) }
        finished = Completion(eventLoop.makePromise())
        let carried = self.carried
        let engine = self.engine
        let miningProtocol = configuration.protocol
        let lanes = configuration.engine.lanes
        let finishedPromise = finished
        let connectorBox = NIOLockedValueBox<Connector?>(nil)
        connector = ClientConnector(
            eventLoop: eventLoop,
            failover: Failover(endpoints: [configuration.pool], initialDelay: configuration.initialBackoff, maximumDelay: configuration.maximumBackoff),
            wire: miningProtocol.wire, readiness: miningProtocol.readiness,
            configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)), tickInterval: .seconds(1),
            connect: { endpoint, loop, handler in miningProtocol.connect(to: endpoint, eventLoop: loop, engine: handler) },
            hooks: .init(
                makeSession: { endpoint, _ in
                    logger.info("connected to \(endpoint)")
                    let state = carried.withLockedValue { $0 }
                    return miningProtocol.makeSession(endpoint: endpoint, statistics: state.statistics, firstWorkID: state.nextWorkID)
                },
                effect: { effect, connection in
                    switch effect {
                    case let .setWork(lane, work):
                        engine.setWork(work, lane: lane)
                    case let .event(event):
                        let line = miningProtocol.logLine(for: event)
                        logger.log(level: line.level, "\(line.text)")
                    case let .reconnect(host, port):
                        logger.info("the pool asks to reconnect to \(host):\(port)")
                        connectorBox.withLockedValue { $0 }?.redirect(to: HostPort(host: host, port: port))
                    case let .fail(reason):
                        connection.close(reason: reason, level: .error)
                        finishedPromise.complete(.failure(MinerFailure(reason: reason)))
                    }
                },
                ended: { _, session in
                    if let session { carried.withLockedValue { $0 = Carried(statistics: session.statistics, nextWorkID: session.nextWorkID) } }
                    for lane in 0..<lanes { engine.setWork(nil, lane: lane) }
                }))
        connectorBox.withLockedValue { $0 = connector }
        relay.set(self)
        finished.future.whenFailure { error in onFailure((error as? MinerFailure)?.reason ?? "\(error)") }
    }

    /// Starts the hashing threads, connects and starts the hash rate reports.
    public func start() {
        logger.info("mining on \(configuration.pool) (\(configuration.protocol.name))")
        engine.start()
        let interval = TimeAmount(configuration.reportInterval)
        let task = connector.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in self?.report() }
        reports.withLockedValue { $0 = (task, (DispatchTime.now().uptimeNanoseconds, 0)) }
        connector.start()
    }

    /// Ends the session (CloseChannel for Stratum V2's channels), closes the connection, stops the threads and logs a
    /// summary (the first time); returns the final counts.
    @discardableResult
    public func stop() async -> MinerStatistics {
        guard !stopped.withLockedValue({ stopped in defer { stopped = true }; return stopped }) else { return await statistics }
        reports.withLockedValue { $0.task?.cancel() }
        await engine.stop()
        await awaitAnswers()
        // Read while the session is still current: nothing changes them once the threads stopped and the answers came.
        let statistics = await self.statistics
        try? await connector.stop { session, _ in session.close() }.get()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startedAt) / 1e9
        let average = HashingEngine.format(hashRate: Double(engine.hashes) / max(seconds, 0.001))
        logger.info("""
            stopped after \(Int(seconds)) s: \(engine.hashes) hashes, average \(average), accepted \(statistics.accepted), \
            rejected \(statistics.rejected), submitted \(statistics.submitted), discarded \(statistics.discarded), blocks \(statistics.blocks)
            """)
        finished.complete(.success(()))
        return statistics
    }

    /// Waits (at most 2 s) until the pool has answered every share sent, so that a miner stopping never leaves a share
    /// the pool accepts without the miner hearing of it.
    private func awaitAnswers() async {
        let connector = self.connector
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            let unanswered = try? await connector.eventLoop.submit { connector.current?.session?.unansweredShares ?? 0 }.get()
            guard let unanswered, unanswered > 0 else { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Mines until graceful shutdown, or until the pool makes mining impossible (then the error ends the group).
    public func run() async throws {
        start()
        try await withCleanup {
            try await withGracefulShutdownHandler {
                try await finished.future.get()
            } onGracefulShutdown: {
                self.finished.complete(.success(()))
            }
        } cleanup: {
            await stop()
        }
    }

    /// Share counts so far: the current session's (or the last one's), with the shares dropped before reaching it.
    public var statistics: MinerStatistics {
        get async {
            let connector = self.connector
            let current = try? await connector.eventLoop.submit { connector.current?.session?.statistics }.get()
            return withDropped((current ?? nil) ?? carried.withLockedValue { $0.statistics })
        }
    }

    /// `statistics` with the shares dropped before reaching a session.
    private func withDropped(_ statistics: MinerStatistics) -> MinerStatistics {
        var statistics = statistics
        statistics.discarded += droppedShares.load(ordering: .relaxed)
        return statistics
    }

    /// A share from a hashing thread.
    private func found(_ share: FoundShare, lane: Int) {
        guard pendingShares.add(1, ordering: .relaxed).newValue <= Self.pendingShareLimit else {
            pendingShares.subtract(1, ordering: .relaxed)
            droppedShares.add(1, ordering: .relaxed)
            return
        }
        let connector = self.connector
        connector.eventLoop.execute { [self] in
            pendingShares.subtract(1, ordering: .relaxed)
            guard let connection = connector.current, connection.channel.isWritable else {
                droppedShares.add(1, ordering: .relaxed)
                return
            }
            connection.update { session, _ in session.submit(share, lane: lane) }
        }
    }

    private func report() {
        let now = DispatchTime.now().uptimeNanoseconds
        let hashes = engine.hashes
        let last = reports.withLockedValue { state in
            defer { state.last = (now, hashes) }
            return state.last
        }
        let seconds = Double(now - last.time) / 1e9
        let rate = Double(hashes - last.hashes) / max(seconds, 0.001)
        let statistics = withDropped(connector.current?.session?.statistics ?? carried.withLockedValue { $0.statistics })
        logger.info("hashrate \(HashingEngine.format(hashRate: rate)), accepted \(statistics.accepted), rejected \(statistics.rejected)")
    }
}

/// A promise completed once: by a failure of the pool, or by the end of mining, whichever comes first.
private final class Completion: Sendable {
    private let promise: EventLoopPromise<Void>
    private let done = Atomic<Bool>(false)

    init(_ promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    /// Completes when mining ends.
    var future: EventLoopFuture<Void> { promise.futureResult }

    /// Completes the promise with `result` unless it is already complete.
    func complete(_ result: Result<Void, Error>) {
        guard !done.exchange(true, ordering: .relaxed) else { return }
        promise.completeWith(result)
    }
}

/// Mining cannot go on: the pool refused the setup, every channel or the user.
public struct MinerFailure: Error, CustomStringConvertible {
    /// Why.
    public var reason: String

    /// A sentence for the user.
    public var description: String { reason }
}
