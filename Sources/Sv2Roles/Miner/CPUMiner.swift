import Dispatch
import Foundation
import Logging
import NIOCore
import Sv2Channels
import Synchronization

/// The CPU miner of `sv2 mine --cpu`: a ``HashingEngine`` fed by the ``MinerSession`` of `Protocol` (Stratum V2 or
/// V1, see ``MinerProtocol``) over one pool connection at a time.
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
public final class CPUMiner<Protocol: MinerProtocol>: @unchecked Sendable {
    /// Shares handed to the event loop and not yet processed, beyond which new ones are dropped.
    public static var pendingShareLimit: Int { 4096 }

    /// Settings of the miner.
    public struct Configuration: Sendable {
        /// The protocol and what its sessions ask for.
        public var `protocol`: Protocol
        /// The pool's host (a move asked by the pool changes it).
        public var host: String
        /// The pool's port.
        public var port: Int
        /// Threads, lanes (one per channel), kernel, chunk size.
        public var engine: HashingEngine.Configuration
        /// Time between two hash rate lines.
        public var reportInterval: TimeAmount
        /// First delay before reconnecting; it doubles after each failure.
        public var initialBackoff: TimeAmount
        /// Longest delay before reconnecting.
        public var maximumBackoff: TimeAmount

        /// Settings; reconnecting waits 1 s at first, doubling to at most 30 s.
        public init(
            protocol: Protocol, host: String, port: Int, engine: HashingEngine.Configuration,
            reportInterval: TimeAmount = .seconds(5), initialBackoff: TimeAmount = .seconds(1),
            maximumBackoff: TimeAmount = .seconds(30)
        ) {
            self.protocol = `protocol`
            self.host = host
            self.port = port
            self.engine = engine
            self.reportInterval = reportInterval
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    /// Holds the miner weakly for the engine's share callback, which is made before the miner exists.
    private final class ShareRelay: @unchecked Sendable {
        weak var miner: CPUMiner?
    }

    private let configuration: Configuration
    private let eventLoop: EventLoop
    private let logger: Logger
    private let onFailure: @Sendable (String) -> Void
    private let engine: HashingEngine
    private let startedAt = DispatchTime.now().uptimeNanoseconds
    private let pendingShares = Atomic<Int>(0)
    private let droppedShares = Atomic<Int>(0)

    // Only touched on `eventLoop`.
    private var endpoint: (host: String, port: Int)
    private var connection: (id: UInt64, channel: Channel?)?
    private var connectionCount: UInt64 = 0
    private var session: Protocol.Session?
    private var carried = MinerStatistics()
    private var nextWorkID: UInt64 = 1
    private var backoff: TimeAmount
    private var movesAtOnce = false
    private var stopped = false
    private var failed = false
    private var reportTask: RepeatedTask?
    private var lastReport: (time: UInt64, hashes: UInt64) = (0, 0)

    /// A miner that runs on `eventLoop`; `onFailure` is called (once, on the loop) when mining cannot go on, e.g. the
    /// pool refused every channel or the user.
    public init(
        configuration: Configuration, eventLoop: EventLoop, logger: Logger, onFailure: @escaping @Sendable (String) -> Void
    ) throws(HashingEngine.ConfigurationError) {
        let relay = ShareRelay()
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.onFailure = onFailure
        self.engine = try HashingEngine(configuration: configuration.engine) { lane, share in
            relay.miner?.found(share, lane: lane)
        }
        self.endpoint = (configuration.host, configuration.port)
        self.backoff = configuration.initialBackoff
        relay.miner = self
    }

    /// Starts the hashing threads, connects and starts the hash rate reports.
    public func start() {
        engine.start()
        eventLoop.execute { [self] in
            lastReport = (DispatchTime.now().uptimeNanoseconds, engine.hashes)
            reportTask = eventLoop.scheduleRepeatedTask(
                initialDelay: configuration.reportInterval, delay: configuration.reportInterval
            ) { [weak self] _ in self?.report() }
            connect()
        }
    }

    /// Ends the session (CloseChannel for Stratum V2's channels), closes the connection, stops the threads and logs a summary (the first time); returns the
    /// final counts.
    @discardableResult
    public func stop() -> MinerStatistics {
        let closing = eventLoop.submit { [self] () -> (first: Bool, closed: EventLoopFuture<Void>?) in
            guard !stopped else { return (false, nil) }
            stopped = true
            reportTask?.cancel()
            guard let channel = connection?.channel else { return (true, nil) }
            if let actions = session?.close() { perform(actions, on: channel) }
            return (true, channel.close())
        }
        guard let (first, closed) = try? closing.wait(), first else { return statistics }
        try? closed?.wait()
        engine.stop()
        let statistics = self.statistics
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startedAt) / 1e9
        let average = HashingEngine.format(hashRate: Double(engine.hashes) / max(seconds, 0.001))
        logger.info("""
            stopped after \(Int(seconds)) s: \(engine.hashes) hashes, average \(average), accepted \(statistics.accepted), \
            rejected \(statistics.rejected), submitted \(statistics.submitted), discarded \(statistics.discarded), blocks \(statistics.blocks)
            """)
        return statistics
    }

    /// Share counts so far.
    public var statistics: MinerStatistics {
        (try? eventLoop.submit { [self] in currentStatistics() }.wait()) ?? MinerStatistics()
    }

    /// The counts of the current session (or the last one), with the shares dropped before reaching it.
    private func currentStatistics() -> MinerStatistics {
        var statistics = session?.statistics ?? carried
        statistics.discarded += droppedShares.load(ordering: .relaxed)
        return statistics
    }

    // MARK: - Connection (on the event loop)

    private func connect() {
        guard !stopped, !failed else { return }
        connectionCount += 1
        let id = connectionCount
        connection = (id, nil)
        let (host, port) = endpoint
        logger.info("connecting to \(host):\(port) (\(configuration.protocol.name))")
        let link = MinerLink<Protocol.Session.Message>(
            ready: { [self] channel in transportReady(id, channel: channel) },
            received: { [self] message in received(message, on: id) },
            ended: { [self] reason in connectionEnded(id, reason: reason) },
            failed: { [self] error in connectionError(id, error) })
        configuration.protocol.connect(host: host, port: port, eventLoop: eventLoop, link: link).whenFailure { [self] error in
            connectionEnded(id, reason: "cannot connect: \(error)")
        }
    }

    /// Connection `id` can carry messages (TCP up, handshake done): set up the session.
    private func transportReady(_ id: UInt64, channel: Channel) {
        guard connection?.id == id, !stopped, !failed else {
            channel.close(promise: nil)
            return
        }
        connection = (id, channel)
        logger.info("connected to \(endpoint.host):\(endpoint.port)")
        var session = configuration.protocol.makeSession(
            host: endpoint.host, port: endpoint.port, statistics: carried, firstWorkID: nextWorkID)
        let actions = session.start()
        self.session = session
        perform(actions, on: channel)
    }

    /// A message from the pool on connection `id`.
    private func received(_ message: Protocol.Session.Message, on id: UInt64) {
        guard connection?.id == id, let channel = connection?.channel, let actions = session?.receive(message) else { return }
        perform(actions, on: channel)
    }

    /// Connection `id` closed or could not be made: idle the engine and connect again (at once after Reconnect).
    private func connectionEnded(_ id: UInt64, reason: String) {
        guard connection?.id == id else { return }
        connection = nil
        if let session {
            carried = session.statistics
            nextWorkID = session.nextWorkID
        }
        session = nil
        for lane in 0..<configuration.engine.lanes { engine.setWork(nil, lane: lane) }
        guard !stopped, !failed else { return }
        let peer = "\(endpoint.host):\(endpoint.port)"
        if movesAtOnce {
            movesAtOnce = false
            logger.info("\(peer): \(reason); connecting to the new address at once")
            connect()
            return
        }
        let delay = backoff
        backoff = min(backoff * 2, configuration.maximumBackoff)
        logger.warning("\(peer): \(reason); reconnecting in \(Double(delay.nanoseconds) / 1e9) s")
        eventLoop.scheduleTask(in: delay) { [weak self] in self?.connect() }
    }

    /// An error on connection `id` (the transport closes the connection itself when it must).
    private func connectionError(_ id: UInt64, _ error: Error) {
        guard connection?.id == id else { return }
        logger.warning("\(endpoint.host):\(endpoint.port): \(error)")
    }

    /// A share from a hashing thread.
    private func found(_ share: FoundShare, lane: Int) {
        guard pendingShares.add(1, ordering: .relaxed).newValue <= Self.pendingShareLimit else {
            pendingShares.subtract(1, ordering: .relaxed)
            droppedShares.add(1, ordering: .relaxed)
            return
        }
        eventLoop.execute { [self] in
            pendingShares.subtract(1, ordering: .relaxed)
            guard let channel = connection?.channel, channel.isWritable else {
                droppedShares.add(1, ordering: .relaxed)
                return
            }
            if let actions = session?.submit(share, lane: lane) { perform(actions, on: channel) }
        }
    }

    private func perform(_ actions: [MinerSessionAction<Protocol.Session.Message, Protocol.Session.Event>], on channel: Channel) {
        for action in actions {
            switch action {
            case let .send(message):
                configuration.protocol.write(message, to: channel)
            case let .setWork(lane, work):
                engine.setWork(work, lane: lane)
            case let .event(event):
                let line = configuration.protocol.logLine(for: event)
                if line.isSetUp { backoff = configuration.initialBackoff }
                logger.log(level: line.level, "\(line.text)")
            case let .close(reason):
                logger.warning("closing the connection: \(reason)")
                channel.close(promise: nil)
            case let .reconnect(host, port):
                logger.info("the pool asks to reconnect to \(host):\(port)")
                endpoint = (host, port)
                movesAtOnce = true
                channel.close(promise: nil)
            case let .fail(reason):
                guard !failed else { continue }
                failed = true
                channel.close(promise: nil)
                onFailure(reason)
            }
        }
    }

    // MARK: - Log

    private func report() {
        let now = DispatchTime.now().uptimeNanoseconds
        let hashes = engine.hashes
        let seconds = Double(now - lastReport.time) / 1e9
        let rate = Double(hashes - lastReport.hashes) / max(seconds, 0.001)
        lastReport = (now, hashes)
        let statistics = currentStatistics()
        logger.info("hashrate \(HashingEngine.format(hashRate: rate)), accepted \(statistics.accepted), rejected \(statistics.rejected)")
    }
}
