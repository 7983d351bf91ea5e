import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Sv1
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Monitoring
import Sv2MonitoringServer
import Sv2Network
import Sv2Sessions
import Synchronization

/// `sv2 translate`: Stratum V1 mining devices downstream, extended Sv2 channels upstream: one for all miners
/// (aggregated mode) or one per miner, each a ``TranslatorUpstream``. Every miner is an ``Sv1ServerSession`` on the
/// connection engine.
///
/// In aggregated mode every Sv1 connection gets its own extranonce1 (4 bytes, unique among live connections) inside
/// the upstream channel's extranonce, so all miners share one channel and one job stream. Upstream jobs become
/// mining.notify for everyone (the line encoded once per job and event loop); a miner's share is checked against its
/// own difficulty and forwarded when it meets the upstream target. When the upstream drops, miners stay connected:
/// the translator moves down its list of pools with backoff and sends fresh clean jobs once a channel is open again;
/// when no job arrives for the keepalive interval it re-issues the current one with a fresh ntime.
public final class TranslatorService: Service, Sendable {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Where Sv1 miners connect (port 0 picks one).
        public var listen: HostPort
        /// Pools in order of preference.
        public var upstreams: [UpstreamPool]
        /// One upstream channel for all miners (true) or one per miner, each on its own connection (false).
        public var aggregate: Bool
        /// The Sv1 side's difficulty, extranonce2 and version-rolling settings.
        public var downstream: Sv1ServerConfiguration
        /// Bytes of each miner's extranonce1.
        public var extranonce1Size: Int
        /// Longest line a miner may send.
        public var maximumLineLength: Int
        /// Most miners connected at once.
        public var maximumClients: Int
        /// Re-issue the current job with a fresh ntime when no job came for this long.
        public var jobKeepalive: Duration
        /// How often vardiff looks at every miner.
        public var vardiffInterval: Duration
        /// Reconnect delays: first, doubling up to the maximum.
        public var initialBackoff: Duration
        /// Longest reconnect delay.
        public var maximumBackoff: Duration
        /// Time a miner has to subscribe and authorize.
        public var setupTimeout: Duration
        /// Time without any line after which a miner's connection is closed.
        public var idleTimeout: Duration

        /// Settings with the defaults of the issue (16 KiB lines, 60 s keepalive); reconnecting waits 1 s, doubling to
        /// 5 s, so miners get work again within seconds of the pool's return; 60 s to subscribe and authorize, 15
        /// minutes of silence at most.
        public init(
            listen: HostPort, upstreams: [UpstreamPool], aggregate: Bool = true, downstream: Sv1ServerConfiguration, extranonce1Size: Int = 4,
            maximumLineLength: Int = 16_384, maximumClients: Int = 100_000, jobKeepalive: Duration = .seconds(60),
            vardiffInterval: Duration = .seconds(5), initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(5),
            setupTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(900)
        ) {
            self.listen = listen
            self.upstreams = upstreams
            self.aggregate = aggregate
            self.downstream = downstream
            self.extranonce1Size = extranonce1Size
            self.maximumLineLength = maximumLineLength
            self.maximumClients = maximumClients
            self.jobKeepalive = jobKeepalive
            self.vardiffInterval = vardiffInterval
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.setupTimeout = setupTimeout
            self.idleTimeout = idleTimeout
        }
    }

    /// A miner's connection.
    typealias Miner = ConnectionHandle<Sv1ServerSession, Sv1Wire<Sv1Message>>

    private let configuration: Configuration
    private let group: EventLoopGroup
    private let logger: Logger
    private let clock: Sv2Clock
    /// Where upstream share round trips go (with monitoring).
    private let metrics: MonitoringMetrics?
    private let connections: ConnectionRegistry<Sv1ServerSession, Sv1Wire<Sv1Message>>
    /// One mining.notify buffer per event loop and job, so that a job costs one encoding and one buffer per loop.
    private let notifyLines: [ObjectIdentifier: NIOLoopBoundBox<(line: [UInt8], buffer: ByteBuffer)?>]
    private let clients = Atomic<Int>(0)
    private let currentJob = NIOLockedValueBox<TranslatorJob?>(nil)
    /// Whether the aggregated upstream channel is open (shares can be credited).
    private let upstreamAvailable = NIOLockedValueBox(false)
    /// The one upstream channel of aggregated mode (nil in per-miner mode, where every miner has its own).
    private let aggregated: TranslatorUpstream?
    private let ownUpstreams = NIOLockedValueBox([ObjectIdentifier: TranslatorUpstream]())
    private let server = NIOLockedValueBox<Channel?>(nil)
    /// Each live miner's number (its extranonce1, its client id in monitoring) and peer.
    private let minerNumbers = ClientNumbers()
    /// When the aggregated upstream's newest job arrived.
    private let lastJob = NIOLockedValueBox<Timestamp?>(nil)

    /// A service; nothing runs until ``start()``. With `metrics`, each share's round trip upstream is recorded there.
    public init(configuration: Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system, metrics: MonitoringMetrics? = nil) {
        self.configuration = configuration
        self.metrics = metrics
        self.group = group
        self.logger = logger
        self.clock = clock
        connections = ConnectionRegistry(group: group, tickInterval: configuration.vardiffInterval)
        var notifyLines = [ObjectIdentifier: NIOLoopBoundBox<(line: [UInt8], buffer: ByteBuffer)?>]()
        for loop in group.makeIterator() { notifyLines[ObjectIdentifier(loop)] = .makeEmptyBox(eventLoop: loop) }
        self.notifyLines = notifyLines
        aggregated = configuration.aggregate ? TranslatorUpstream(configuration: configuration, eventLoop: group.next(), logger: logger) : nil
        aggregated?.onEffect { [weak self] effect in self?.broadcast(effect) }
    }

    /// Binds the Sv1 listener and starts connecting upstream; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let settings = ConnectionConfiguration(
            logger: logger, clock: clock, setupTimeout: configuration.setupTimeout, idleTimeout: configuration.idleTimeout, outboundLimit: 256 << 10)
        let hooks = ConnectionHooks<Sv1ServerSession, Sv1Wire<Sv1Message>>(
            ready: { [weak self] miner in self?.admit(miner) },
            effect: { [weak self] effect, miner in self?.perform(effect, for: miner) },
            setUp: { [weak self] miner in self?.startOwnUpstream(for: miner) },
            closed: { [weak self] miner, session in self?.left(miner, session: session) })
        let engine = ConnectionEngine(
            wire: Sv1Wire<Sv1Message>(maximumLineLength: configuration.maximumLineLength), readiness: .active, configuration: settings, hooks: hooks)
        let connections = self.connections
        let channel = try await ListenError.binding(configuration.listen) {
            try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(engine.handler(for: channel, registry: connections))
                    }
                }
                .bind(host: configuration.listen.host, port: configuration.listen.port).get()
        }
        server.withLockedValue { $0 = channel }
        aggregated?.start()
        return try ListenError.localAddress(of: channel, configured: configuration.listen)
    }

    /// Stops: closes the upstream channel and every miner connection.
    public func stop() async {
        await aggregated?.stop()
        try? await server.withLockedValue({ $0 })?.close().get()
        connections.stop()
        // Taken first, so that the miners leaving below do not stop them in tasks of their own that could outlive this.
        let upstreams = ownUpstreams.withLockedValue { upstreams in
            defer { upstreams.removeAll() }
            return Array(upstreams.values)
        }
        try? await connections.closeAll(reason: "the translator is shutting down")?.get()
        for upstream in upstreams { await upstream.stop() }
        if let statistics = aggregated?.statistics {
            logger.info("stopped: upstream accepted \(statistics.accepted), rejected \(statistics.rejected), blocks \(statistics.blocks)")
        } else {
            logger.info("stopped")
        }
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let address = try await start().hostPortDescription
        logger.info("Sv1 miners on \(address) (stratum+tcp://\(address))")
        try? await gracefulShutdown()
        await stop()
    }

    /// Miners connected now.
    public var clientCount: Int { clients.load(ordering: .relaxed) }

    // MARK: - Miners

    /// A new miner connection (on its loop): its session with its own extranonce1 and the current job; nil when the
    /// connection limit is reached.
    private func admit(_ miner: Miner) -> Sv1ServerSession? {
        guard clients.add(1, ordering: .relaxed).newValue <= configuration.maximumClients else {
            clients.subtract(1, ordering: .relaxed)
            logger.warning("refused: the translator has its maximum of clients", metadata: ["peer": "\(miner.peer)"])
            return nil
        }
        let index = minerNumbers.add(miner.id, peer: miner.peer)
        let extranonce1 = connectionBytes(index, count: configuration.extranonce1Size)
        var session = Sv1ServerSession(configuration: configuration.downstream, extranonce1: extranonce1, now: clock.now())
        if configuration.aggregate {
            if let job = currentJob.withLockedValue({ $0 }) { _ = session.newJob(job, now: clock.now()) }
            _ = session.upstream(available: upstreamAvailable.withLockedValue { $0 })
        } else {
            _ = session.upstream(available: false)
        }
        return session
    }

    /// A miner has subscribed and authorized: in per-miner mode its own upstream channel opens, under its user name.
    private func startOwnUpstream(for miner: Miner) {
        guard !configuration.aggregate else { return }
        let upstream = TranslatorUpstream(configuration: configuration, eventLoop: miner.eventLoop, logger: logger)
        let metrics = self.metrics
        upstream.onEffect { effect in
            if case let .acknowledged(trips) = effect {
                for trip in trips { metrics?.recordShareLatency(trip) }
            } else {
                miner.update { session, now in session.upstream(effect, now: now) }
            }
        }
        ownUpstreams.withLockedValue { $0[miner.id] = upstream }
        miner.update { session, _ in
            upstream.report(miner: miner.id, hashRate: session.hashRate)
            upstream.start(userIdentity: session.userName)
            return []
        }
    }

    private func left(_ miner: Miner, session: Sv1ServerSession?) {
        minerNumbers.remove(miner.id)
        guard session != nil else { return }
        clients.subtract(1, ordering: .relaxed)
        aggregated?.report(miner: miner.id, hashRate: nil)
        if let upstream = ownUpstreams.withLockedValue({ $0.removeValue(forKey: miner.id) }) {
            Task { await upstream.stop() }
        }
    }

    private func perform(_ effect: Sv1ServerSession.Effect, for miner: Miner) {
        switch effect {
        case let .notify(job):
            let line = notifyLine(for: job, on: miner.eventLoop)
            miner.write(encoded: line, bytes: line.readableBytes)
        case let .submit(share, worker):
            if let aggregated {
                aggregated.submit(share, worker: worker)
            } else {
                ownUpstreams.withLockedValue { $0[miner.id] }?.submit(share, worker: nil)
            }
        case let .hashRate(rate):
            (aggregated ?? ownUpstreams.withLockedValue { $0[miner.id] })?.report(miner: miner.id, hashRate: rate)
        }
    }

    /// The mining.notify line of `job` in a buffer shared by the connections of `loop` (on that loop).
    private func notifyLine(for job: TranslatorJob, on loop: EventLoop) -> ByteBuffer {
        guard let box = notifyLines[ObjectIdentifier(loop)] else { return ByteBuffer(bytes: job.notifyLine) }
        if let cached = box.value, cached.line == job.notifyLine { return cached.buffer }
        let buffer = ByteBuffer(bytes: job.notifyLine)
        box.value = (job.notifyLine, buffer)
        return buffer
    }

    /// Sends the aggregated upstream's job, or its channel's opening or closing, to every miner, one task per event
    /// loop.
    private func broadcast(_ effect: TranslatorUpstreamSession.Effect) {
        switch effect {
        case let .acknowledged(trips):
            for trip in trips { metrics?.recordShareLatency(trip) }
            return
        case let .job(job):
            currentJob.withLockedValue { $0 = job }
            lastJob.withLockedValue { $0 = clock.now() }
        case let .upstream(available):
            guard upstreamAvailable.withLockedValue({ state in
                defer { state = available }
                return state != available
            }) else { return }
            logger.log(level: available ? .info : .warning, available
                ? "upstream channel open: miners' shares are forwarded again"
                : "upstream channel lost: miners' shares are answered with an error until it returns")
        }
        connections.broadcast { session, now in session.upstream(effect, now: now) }
    }
}

extension TranslatorService: MonitoringSource {
    /// The upstream channels (SRI's "server": the aggregated channel, or one per miner), the Sv1 miners, connections
    /// by state, the age of the aggregated channel's newest job and the upstream link's state.
    public func snapshot() async -> MonitoringSnapshot {
        var upstreams = [ObjectIdentifier?: (channels: [ChannelSnapshot], state: UpstreamState)]()
        if let aggregated {
            upstreams[nil] = await aggregated.snapshot()
        } else {
            // Per-miner mode: every miner's upstream at once, each read on its own loop.
            await withTaskGroup(of: (ObjectIdentifier, (channels: [ChannelSnapshot], state: UpstreamState)).self) { group in
                for (id, upstream) in ownUpstreams.withLockedValue({ $0 }) { group.addTask { (id, await upstream.snapshot()) } }
                for await (id, snapshot) in group { upstreams[id] = snapshot }
            }
        }
        let channelIDs = upstreams.mapValues { $0.channels.first?.channelID }
        let numbers = minerNumbers, aggregate = configuration.aggregate
        let miners = (try? await connections.collect { session, id -> Sv1Client? in
            guard let miner = numbers[id] else { return nil }
            let channelID = aggregate ? channelIDs[nil] ?? nil : channelIDs[id] ?? nil
            return session.monitored(clientID: UInt64(miner.number), address: miner.peer, channelID: channelID)
        }?.get()) ?? []
        let states = upstreams.values.map(\.state)
        let mining = miners.filter { $0.hashrate != nil }.count
        let now = clock.now()
        return MonitoringSnapshot(
            server: ServerChannels(channels: upstreams.values.flatMap(\.channels)), sv1Clients: miners,
            connections: ["sv1_mining": mining, "sv1_setting_up": max(0, connections.count - mining)],
            templateAge: MonitoringSnapshot.age(of: lastJob.withLockedValue { $0 }, now: now),
            upstream: states.first.map { UpstreamState(address: $0.address, connected: states.contains(where: \.connected)) })
    }
}
