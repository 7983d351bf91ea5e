import Bitcoin
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Ledger
import Sv2Messages
import Sv2Monitoring
import Sv2MonitoringServer
import Sv2Network
import Sv2Sessions
import Synchronization

/// The mining server of `sv2 pool`: accepts miners over Noise and runs one ``PoolSession`` per connection on the
/// connection engine (on that connection's event loop: no locks or hops on the share path). Templates become jobs on
/// a ``PoolJobBoard``, whose snapshots every session reads; blocks go to the template provider. Per-user accepted
/// shares and work are kept for the life of the process and logged every minute and at the end. With a
/// ``ShareLedger``, accepted shares, blocks, rejections and connections are recorded, and each SubmitShares.Success
/// leaves only once the ledger has committed the shares it acknowledges.
public final class PoolService: Service, Sendable {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Where to listen (port 0 picks a free one).
        public var listen: HostPort
        /// Noise responder identity, or plaintext.
        public var transport: Sv2TransportConfiguration
        /// Channel, share and vardiff settings.
        public var session: PoolSessionConfiguration
        /// Where the block reward goes.
        public var rewardScript: [UInt8]
        /// The pool's tag in the coinbase (`Sv2/<pool_signature>//`).
        public var poolSignature: String
        /// How often vardiff looks at every channel.
        public var vardiffInterval: Duration
        /// How often per-user statistics are logged.
        public var statisticsInterval: Duration
        /// Where miners are sent (Reconnect, spec 3.9) when the pool shuts down; nil just closes their connections.
        public var shutdownReconnect: HostPort?
        /// Time a miner has for the Noise handshake and SetupConnection.
        public var setupTimeout: Duration
        /// Time without any message after which a miner's connection is closed.
        public var idleTimeout: Duration
        /// Bytes a connection may hold unsent while its miner does not read.
        public var outboundLimit: Int
        /// Each miner connection's kernel send buffer and NIO queue, fixed so that a miner that stops reading costs a
        /// bounded amount (nil: the kernel's autotuning, up to 4 MiB on Linux, and NIO's 64 KiB).
        public var buffers: Sv2Connections.OutboundBuffers?
        /// The authority key miners check the certificates against, for the URL logged at start.
        public var authorityPublicKey: XOnlyPublicKey?
        /// This instance's id among pools that share a ledger (0–65535): recorded with its shares, and, when not 0,
        /// the first two bytes of every extranonce prefix, so that instances behind one address never hand out the
        /// same work.
        public var serverID: UInt16

        /// Settings; vardiff every 5 s, statistics every 60 s, 30 s to set up, 15 minutes of silence at most. A miner
        /// that does not read fills the kernel's send buffer (fixed at 64 KiB, which the kernel doubles), then NIO's
        /// queue (16 KiB), then 32 KiB held by the engine, and is closed: a burst of jobs for a thousand standard
        /// channels still passes, and a stalled reader costs the pool about 100 KiB at most.
        public init(
            listen: HostPort, transport: Sv2TransportConfiguration, session: PoolSessionConfiguration, rewardScript: [UInt8],
            poolSignature: String, vardiffInterval: Duration = .seconds(5), statisticsInterval: Duration = .seconds(60),
            shutdownReconnect: HostPort? = nil, setupTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(900),
            outboundLimit: Int = 32 << 10, buffers: Sv2Connections.OutboundBuffers? = .init(sendBufferSize: 64 << 10, highWaterMark: 16 << 10),
            authorityPublicKey: XOnlyPublicKey? = nil, serverID: UInt16 = 0
        ) {
            self.listen = listen
            self.transport = transport
            self.session = session
            self.rewardScript = rewardScript
            self.poolSignature = poolSignature
            self.vardiffInterval = vardiffInterval
            self.statisticsInterval = statisticsInterval
            self.shutdownReconnect = shutdownReconnect
            self.setupTimeout = setupTimeout
            self.idleTimeout = idleTimeout
            self.outboundLimit = outboundLimit
            self.buffers = buffers
            self.authorityPublicKey = authorityPublicKey
            self.serverID = serverID
        }
    }

    /// Where a found block goes; `sent` reports whether it reached the template provider.
    public typealias Submitter = @Sendable (SubmitSolution, _ sent: @escaping @Sendable (Bool) -> Void) -> Void

    private let configuration: Configuration
    private let group: EventLoopGroup
    private let logger: Logger
    private let clock: Sv2Clock
    private let submitter: Submitter
    private let board: NIOLockedValueBox<PoolJobBoard>
    private let statistics = NIOLockedValueBox([String: ShareTally]())
    /// The prevhash of the last block handed to the template provider.
    private let lastBlockParent = NIOLockedValueBox<U256?>(nil)
    private let connections: ConnectionRegistry<PoolSession, Sv2TaggedInboundWire>
    private let miners = Atomic<Int>(0)
    private let server = NIOLockedValueBox<(channel: Channel, statistics: RepeatedTask)?>(nil)
    private let ledger: ShareLedger?
    /// Each live connection's number (its extranonce prefix, its row in the ledger, its client id in monitoring) and
    /// peer.
    private let clients = ClientNumbers()
    /// When the newest template or tip arrived.
    private let lastTemplate = NIOLockedValueBox<Timestamp?>(nil)
    /// Where share latencies go (with monitoring).
    private let metrics: MonitoringMetrics?
    /// Acknowledgements the ledger released that wait for their connection's loop, by connection.
    private let released = NIOLockedValueBox([ObjectIdentifier: [SubmitSharesSuccess]]())

    /// A service; nothing runs until ``start()``. Found blocks go to `submitter`; with a `ledger`, shares are
    /// recorded there before they are acknowledged (the sessions are configured to record them), and with `metrics`
    /// the time each read's shares wait for the ledger is recorded as the share latency.
    public init(
        configuration: Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system, ledger: ShareLedger? = nil,
        metrics: MonitoringMetrics? = nil, submitter: @escaping Submitter
    ) {
        var configuration = configuration
        configuration.session.recordsShares = ledger != nil
        self.configuration = configuration
        self.ledger = ledger
        self.metrics = metrics
        self.group = group
        self.logger = logger
        self.clock = clock
        self.submitter = submitter
        board = NIOLockedValueBox(PoolJobBoard(
            rewardScript: configuration.rewardScript, poolTag: configuration.poolSignature, extranonceLength: configuration.session.extranonceLength))
        connections = ConnectionRegistry(group: group, tickInterval: configuration.vardiffInterval)
    }

    /// Binds the listening socket; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let settings = ConnectionConfiguration(
            logger: logger, clock: clock, setupTimeout: configuration.setupTimeout, idleTimeout: configuration.idleTimeout,
            outboundLimit: configuration.outboundLimit)
        let hooks = ConnectionHooks<PoolSession, Sv2TaggedInboundWire>(
            ready: { [weak self] handle in self?.makeSession(handle) },
            effect: { [weak self] effect, handle in self?.perform(effect, on: handle) },
            closed: { [weak self] handle, session in
                guard let self, var session else { return }
                session.connectionObserver?.finished(peer: handle.peer)
                miners.subtract(1, ordering: .relaxed)
                record(session.collectTallies())
                if let connection = clients.remove(handle.id) {
                    ledger?.connectionClosed(connection.number)
                }
            })
        let engine = ConnectionEngine(wire: Sv2TaggedInboundWire(), readiness: .transportReady, configuration: settings, hooks: hooks)
        let (channel, address) = try await ListenError.listen(
            on: configuration.listen, transport: configuration.transport, group: group, buffers: configuration.buffers, engine: engine,
            registry: connections)
        let interval = TimeAmount(configuration.statisticsInterval)
        let task = group.any().scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in self?.logStatistics(final: false) }
        server.withLockedValue { $0 = (channel, task) }
        return address
    }

    /// Stops accepting; with a ledger, stops taking shares and lets the ledger commit what it holds (so that every
    /// share recorded is acknowledged before its connection closes); sends every miner Reconnect to
    /// ``Configuration/shutdownReconnect`` when set, closes the connections once what was written is flushed, and logs
    /// the final statistics.
    public func stop() async {
        guard let (channel, task) = server.withLockedValue({ $0 }) else { return }
        task.cancel()
        try? await channel.close().get()
        connections.stop()
        if let ledger {
            try? await connections.broadcast { session, _ in session.stopTakingShares() }?.get()
            await ledger.flush()
        }
        let count = connections.count
        var finalMessages: @Sendable (inout PoolSession, Timestamp) -> [PoolSession.Action] = { session, _ in
            session.stopping()
            return []
        }
        if let target = configuration.shutdownReconnect {
            if count > 0 { logger.info("sending \(count) connection(s) to \(target)") }
            finalMessages = { session, _ in
                session.stopping()
                return session.reconnect(host: target.host, port: UInt16(clamping: target.port))
            }
        }
        try? await connections.closeAll(reason: "the pool is shutting down", finally: finalMessages)?.get()
        logStatistics(final: true)
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let address = try await start().hostPortDescription
        let url = configuration.authorityPublicKey.map { " (stratum2+tcp://\(address)/\(AuthorityKeyText.encode($0)))" } ?? ""
        logger.info("mining on \(address)\(url)")
        try? await gracefulShutdown()
        await stop()
    }

    /// Miners connected now (Noise handshake done).
    public var connectionCount: Int { miners.load(ordering: .relaxed) }

    /// Accepted/rejected shares, work and blocks per user since start.
    public var userStatistics: [String: ShareTally] { statistics.withLockedValue { $0 } }

    // MARK: - Templates

    /// A template provider event: the board makes the job or activates the tip, and every session hears of it.
    public func handle(_ event: TemplateDistributionClientSession.Effect) {
        let published = board.withLockedValue { board -> Result<(PoolWork, PoolWorkChange), PoolJobBoard.Ignored>? in
            let change: Result<PoolWorkChange, PoolJobBoard.Ignored>
            switch event {
            case let .template(template): change = Result { () throws(PoolJobBoard.Ignored) in try board.apply(template) }
            case let .prevHash(prevHash): change = Result { () throws(PoolJobBoard.Ignored) in try board.apply(prevHash) }
            case .transactionData: return nil  // the pool does not ask for them
            }
            return change.map { (board.work, $0) }
        }
        let work: PoolWork, change: PoolWorkChange
        switch published {
        case nil:
            return
        case let .success(value):
            (work, change) = value
            lastTemplate.withLockedValue { $0 = clock.now() }
        case let .failure(ignored):
            logger.log(level: ignored.isExpected ? .info : .warning, "\(ignored)")
            return
        }
        if case let .tip(tip) = change {
            logger.info("new tip \(tip.prevHash.displayHex), mining job \(tip.jobID)")
        }
        connections.broadcast { session, _ in session.update(to: work, change: change) }
    }

    // MARK: - Connections

    /// A miner's connection is ready: its session, with an extranonce prefix unique among live connections (and
    /// among instances, led by the server id when it is not 0).
    private func makeSession(_ handle: ConnectionHandle<PoolSession, Sv2TaggedInboundWire>) -> PoolSession? {
        let index = clients.add(handle.id, peer: handle.peer)
        let serverID = configuration.serverID
        let prefix = (serverID == 0 ? [] : [UInt8(serverID >> 8), UInt8(truncatingIfNeeded: serverID)]) + connectionBytes(index, count: 4)
        do {
            let session = try PoolSession(configuration: configuration.session, connectionPrefix: prefix, work: board.withLockedValue { $0.work })
            miners.add(1, ordering: .relaxed)
            ledger?.connectionOpened(index, peer: handle.peer)
            return session
        } catch {
            clients.remove(handle.id)
            logger.error("no session for a new connection: \(error)")
            return nil
        }
    }

    private func perform(_ effect: PoolEffect, on handle: ConnectionHandle<PoolSession, Sv2TaggedInboundWire>) {
        switch effect {
        case let .submitBlock(block): submit(block)
        case let .tallies(tallies): record(tallies)
        case let .record(batch): record(batch, on: handle)
        case .forward, .reportedHashRate: break  // a proxy's concerns
        }
    }

    /// Hands a read's shares to the ledger; their SubmitShares.Success go out once it has committed them (or, when it
    /// refuses them, a SubmitShares.Error per share). What one commit releases for a connection leaves in one task on
    /// its loop, merged into one Success per channel: after an outage thousands of reads' acknowledgements are
    /// released at once, which one per read would push past the connection's outbound limit.
    private func record(_ batch: ShareBatch, on handle: ConnectionHandle<PoolSession, Sv2TaggedInboundWire>) {
        guard let ledger else { return }
        let logger = self.logger, released = self.released, metrics = self.metrics, clock = self.clock
        ledger.record(batch) { committed in
            guard committed else {
                logger.warning("ledger full: \(batch.accepted.count) valid share(s) answered \(PoolErrorCode.ledgerUnavailable)", metadata: ["peer": "\(handle.peer)"])
                let refusals = batch.refusals(code: PoolErrorCode.ledgerUnavailable)
                if !refusals.isEmpty { handle.update { _, _ in refusals.map { .send($0) } } }
                return
            }
            // The read's wait for its commit, from its first share's arrival (the clock stepping back counts as 0).
            if let metrics, let arrived = batch.accepted.first?.time {
                metrics.recordShareLatency(.nanoseconds(max(0, clock.now().nanoseconds - arrived.nanoseconds)))
            }
            guard !batch.acknowledgements.isEmpty else { return }
            let first = released.withLockedValue { waiting in
                defer { waiting[handle.id, default: []] += batch.acknowledgements }
                return waiting[handle.id] == nil
            }
            guard first else { return }  // a task is on its way to the loop and will take these too
            handle.update({ _, _ in
                let acknowledgements = released.withLockedValue { $0.removeValue(forKey: handle.id) } ?? []
                return ShareBatch.coalesced(acknowledgements).map { .send(.submitSharesSuccess($0)) }
            }, otherwise: { released.withLockedValue { _ = $0.removeValue(forKey: handle.id) } })
        }
    }

    /// A share that is a block: logged and submitted to the template provider.
    /// Hands a found block to the template provider, the first one on each prevhash only: a second block on the
    /// same prevhash could only compete with the first (on regtest half of all hashes are blocks), so it stays a
    /// share.
    private func submit(_ block: FoundBlock) {
        let logger = self.logger
        let first = lastBlockParent.withLockedValue { parent in
            defer { parent = block.previousBlockHash }
            return parent != block.previousBlockHash
        }
        guard first else {
            logger.debug("another block on \(block.previousBlockHash.displayHex) by \"\(block.user)\": counted as a share, not submitted")
            return
        }
        let ledger = self.ledger, found = clock.now()
        submitter(block.solution) { sent in
            if sent {
                ledger?.record(block: BlockRecord(block, at: found))
                logger.info("block found by \"\(block.user)\": \(block.hash.displayHex) (template \(block.templateID)), submitted")
            } else {
                logger.error("block found by \"\(block.user)\": \(block.hash.displayHex) but the template provider is not connected")
            }
        }
    }

    /// Adds a session's tallies to the per-user statistics.
    private func record(_ tallies: [String: ShareTally]) {
        guard !tallies.isEmpty else { return }
        statistics.withLockedValue { statistics in
            for (user, tally) in tallies { statistics[user, default: ShareTally()].add(tally) }
        }
    }

    private func logStatistics(final: Bool) {
        for (user, tally) in userStatistics.sorted(by: { $0.key < $1.key }) {
            logger.info(
                "\(final ? "final: " : "")user \"\(user)\": \(tally.accepted) accepted, \(tally.rejected) rejected, \(tally.blocks) blocks, work \(String(format: "%.3g", tally.work)) hashes",
                metadata: ["user": "\(user)"])
        }
    }
}

extension PoolService: MonitoringSource {
    /// The pool's clients (every set-up connection and its channels, by connection number), the accepted work per
    /// user and worker since start, connections by state and the template's age. The pool has no upstream channels
    /// (SRI's pool: `server` absent).
    public func snapshot() async -> MonitoringSnapshot {
        let clients = await connections.monitoredClients(numbers: self.clients)
        let workers = userStatistics.map { user, tally in
            let (account, worker) = AcceptedShare.account(user)
            return WorkerWork(user: account, worker: worker, accepted: tally.accepted, rejected: tally.rejected, work: tally.work, blocks: tally.blocks)
        }
        let now = clock.now()
        return MonitoringSnapshot(
            sv2Clients: clients, workers: workers,
            connections: MonitoringSnapshot.connections(ready: clients.count, total: connections.count),
            templateAge: MonitoringSnapshot.age(of: lastTemplate.withLockedValue { $0 }, now: now))
    }
}

/// Why the pool could not start.
extension PoolJobBoard.Ignored {
    /// True for what happens in normal operation (a current-tip template before the first tip).
    var isExpected: Bool {
        if case .noTipYet = self { return true }
        return false
    }
}

extension BlockRecord {
    /// The ledger's record of `block`, found at `time`; its height read from the coinbase's BIP34 push.
    init(_ block: FoundBlock, at time: Timestamp) {
        let (user, worker) = AcceptedShare.account(block.user)
        let height = (try? Transaction(bytes: block.coinbase)).flatMap { $0.inputs.first }.flatMap { try? BIP34.height(inScriptSig: $0.scriptSig) }
        self.init(
            time: time, hash: block.hash, height: height, user: user, worker: worker, templateID: block.templateID,
            previousBlockHash: block.previousBlockHash)
    }
}
