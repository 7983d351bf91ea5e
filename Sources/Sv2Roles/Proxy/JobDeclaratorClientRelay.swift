import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Monitoring
import Sv2Network
import Sv2Sessions

/// The glue of the proxy as a job declarator client (`--jd-address`): a ``JobDeclaratorClient`` fed by three links,
/// each kept up by its own connector: the miner's template provider (``TemplateDistributionClient``), the pool,
/// through its list (``CustomJobUpstreamSession``), and the declarator of the pool connected to
/// (``JobDeclaratorClientSession``): when a declarator cannot be reached twice in a row and there are other pools,
/// the pool connection is closed so that the next pool and its declarator are tried. The devices' ``PoolSession``s
/// serve the client's snapshots as in aggregate mode; their shares that meet the pool channel's target go to the
/// pool, their blocks to the template provider and the declarator.
final class JobDeclaratorClientRelay: DeviceRelay {
    private typealias PoolLink = ClientConnector<CustomJobUpstreamSession, Sv2MessageWire, UpstreamPool>
    private typealias DeclaratorLink = ClientConnector<JobDeclaratorClientSession, Sv2MessageWire, UpstreamPool>

    private let client: NIOLockedValueBox<JobDeclaratorClient>
    private let templates: TemplateDistributionClient
    private let pool: PoolLink
    private let declarator: DeclaratorLink
    /// Each device connection's number (its extranonce prefix, its client id in monitoring).
    private let numbers = ClientNumbers()
    /// Connections to the declarator that failed, and drops for its refusals, since the pool last took a job.
    private let declaratorFailures = NIOLockedValueBox(0)
    /// Declarator failures in a row after which the next pool is tried.
    private static let declaratorFailureLimit = 2
    private let session: PoolSessionConfiguration
    private let poolCount: Int
    private let logger: Logger
    let connections: ConnectionRegistry<PoolSession, Sv2TaggedInboundWire>
    let engine: ConnectionEngine<PoolSession, Sv2TaggedInboundWire>

    init(configuration: ProxyService.Configuration, declaration: ProxyService.JobDeclaration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock) {
        self.logger = logger
        session = configuration.session
        client = NIOLockedValueBox(JobDeclaratorClient(configuration: .init(
            mode: declaration.mode, soloScript: declaration.soloScript, extranonceSize: configuration.session.extranonceLength)))
        connections = ConnectionRegistry(group: group, tickInterval: configuration.vardiffInterval)
        let box = LateReference<JobDeclaratorClientRelay>()
        templates = TemplateDistributionClient(
            provider: declaration.templateProvider,
            coinbaseOutputMaximumSize: declaration.coinbaseOutputMaximumSize, firmware: "sv2 proxy", group: group, logger: logger)
        let size = configuration.session.extranonceLength
        let links = ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30))
        pool = PoolLink(
            eventLoop: group.next(), failover: configuration.failover, wire: Sv2MessageWire(), readiness: .transportReady, configuration: links,
            connect: UpstreamPool.connect,
            hooks: .init(
                makeSession: { upstream, _ in
                    box.object?.follow(upstream, pools: configuration.upstreams, declarators: declaration.declarators)
                    return CustomJobUpstreamSession(
                        setup: SetupNegotiation.request(
                            .mining, endpointHost: upstream.host, endpointPort: upstream.port, hardwareVersion: HostPlatform.hardwareVersion,
                            firmware: "sv2 proxy"),
                        user: upstream.userIdentity, nominalHashRate: declaration.nominalHashRate, extranonceSize: size)
                },
                effect: { effect, _ in
                    switch effect {
                    case let .channel(channel): box.object?.run { $0.poolChannel(channel) }
                    case let .jobSet(request, job):
                        box.object?.declaratorFailures.withLockedValue { $0 = 0 }
                        box.object?.run { $0.customJobSet(requestID: request, jobID: job) }
                    case let .jobRefused(request, code): box.object?.run { $0.customJobRefused(requestID: request, code: code) }
                    case let .reconnect(host, port): box.object?.pool.redirect(host: host, port: port)
                    }
                },
                ended: { _, session in
                    guard let session, session.isSetUp else { return }
                    logger.info("the pool accepted \(session.accepted) shares and refused \(session.rejected) on that connection")
                    box.object?.run { $0.poolChannel(nil) }
                }))
        declarator = DeclaratorLink(
            eventLoop: group.next(),
            failover: Failover(endpoints: [declaration.declarators[0]], initialDelay: configuration.initialBackoff, maximumDelay: configuration.maximumBackoff),
            wire: Sv2MessageWire(), readiness: .transportReady, configuration: links, connect: UpstreamPool.connect,
            hooks: .init(
                makeSession: { endpoint, _ in
                    let flags = declaration.mode == .fullTemplate ? JobDeclarationSetupFlags.declareTransactionData.rawValue : 0
                    return JobDeclaratorClientSession(
                        setup: SetupNegotiation.request(
                            .jobDeclaration, flags: flags, endpointHost: endpoint.host, endpointPort: endpoint.port,
                            hardwareVersion: HostPlatform.hardwareVersion, firmware: "sv2 proxy"),
                        user: endpoint.userIdentity)
                },
                effect: { effect, _ in
                    switch effect {
                    case .ready: box.object?.run { $0.declarator(ready: true) }
                    case let .token(token, outputs): box.object?.run { $0.token(token, outputs: outputs) }
                    case let .declared(request, token): box.object?.run { $0.declared(requestID: request, token: token) }
                    case let .refused(request, code): box.object?.run { $0.declarationRefused(requestID: request, code: code) }
                    }
                },
                ended: { endpoint, session in
                    if session?.isSetUp == true { box.object?.run { $0.declarator(ready: false) } }
                    box.object?.declaratorEnded(endpoint, wasReady: session?.isSetUp == true, pools: configuration.upstreams.count)
                }))
        poolCount = configuration.upstreams.count
        engine = ConnectionEngine(
            wire: Sv2TaggedInboundWire(), readiness: .transportReady, configuration: configuration.deviceConnections(logger: logger, clock: clock),
            hooks: ConnectionHooks(
                ready: { device in box.object?.makeSession(device.id, peer: device.peer) },
                effect: { effect, _ in box.object?.perform(effect) },
                closed: { device, _ in box.object?.numbers.remove(device.id) }))
        box.set(self)
        templates.onEvent { [weak self] event in self?.run { $0.templateProvider(event) } }
    }

    /// Starts the three links.
    func start() {
        templates.start()
        declarator.start()
        pool.start()
        logger.info("mining solo to the coinbase reward script until the pool and its job declarator are connected")
    }

    /// Closes the three links for good.
    func stopUpstream() async {
        try? await pool.stop().get()
        try? await declarator.stop().get()
        await templates.stop()
    }

    /// The devices and their channels, and the pool's custom-job channel.
    func snapshot() async -> MonitoringSnapshot {
        let clients = await connections.monitoredClients(numbers: numbers)
        return MonitoringSnapshot(sv2Clients: clients, connections: MonitoringSnapshot.connections(ready: clients.count, total: connections.count))
    }

    /// The pool link connects to `upstream`: the declarator link goes to that pool's declarator.
    private func follow(_ upstream: UpstreamPool, pools: [UpstreamPool], declarators: [UpstreamPool]) {
        guard let index = pools.firstIndex(where: { $0.host == upstream.host && $0.port == upstream.port }) else { return }
        let target = declarators[index]
        let declarator = self.declarator
        declarator.eventLoop.execute {
            guard declarator.currentEndpoint.description != target.description else { return }
            declarator.redirect(to: target)
        }
    }

    /// The declarator link ended: a connection that never got set up counts as a failure.
    private func declaratorEnded(_ endpoint: UpstreamPool, wasReady: Bool, pools: Int) {
        guard !wasReady else { return }
        declaratorFailed("its job declarator \(endpoint) cannot be reached", pools: pools)
    }

    /// After ``declaratorFailureLimit`` failures since the pool last took a job, with other pools to try, the pool
    /// link moves on (and the declarator link with it).
    private func declaratorFailed(_ reason: String, pools: Int) {
        let failures = declaratorFailures.withLockedValue { count -> Int in
            count += 1
            return count
        }
        guard failures >= Self.declaratorFailureLimit, pools > 1 else { return }
        declaratorFailures.withLockedValue { $0 = 0 }
        pool.withCurrent { $0.close(reason: "\(reason): trying the next pool", level: .warning) }
    }

    /// A device's connection is ready: its session, with an extranonce prefix unique among live connections.
    private func makeSession(_ id: ObjectIdentifier, peer: String) -> PoolSession? {
        numbers.deviceSession(id, peer: peer, configuration: session, work: client.withLockedValue { $0.work }, logger: logger)
    }

    private func perform(_ effect: PoolEffect) {
        switch effect {
        case let .forward(share): run { $0.forward(share) }
        case let .submitBlock(block): run { $0.found(block) }
        case .reportedHashRate, .tallies, .record: break
        }
    }

    /// Runs `body` on the client and carries out what it says. Snapshots go to the devices under the lock, so that
    /// they reach every connection in the order the client made them.
    private func run(_ body: (inout JobDeclaratorClient) -> [JobDeclaratorClient.Command]) {
        let connections = self.connections
        let commands = client.withLockedValue { client -> [JobDeclaratorClient.Command] in
            let commands = body(&client)
            for case let .publish(work, changes) in commands {
                for change in changes { connections.broadcast { session, _ in session.update(to: work, change: change) } }
            }
            return commands
        }
        for command in commands {
            switch command {
            case .publish:
                break
            case let .requestTransactions(id):
                templates.requestTransactionData(templateID: id)
            case .allocateToken:
                declarator.update { session, _ in session.allocate() }
            case let .declare(declaration, transactions):
                declarator.update { session, _ in session.declare(declaration, transactions: transactions) }
            case let .setCustomJob(job):
                pool.update { session, _ in session.setCustomJob(job) }
            case let .submitShare(jobID, nonce, ntime, version, extranonce):
                pool.update { session, _ in session.submit(jobID: jobID, nonce: nonce, ntime: ntime, version: version, extranonce: extranonce) }
            case let .submitSolution(solution):
                let logger = self.logger
                templates.submit(solution) { sent in
                    if !sent { logger.error("a block could not be sent: the template provider is not connected") }
                }
            case let .pushSolution(solution):
                declarator.update { session, _ in session.push(solution) }
            case let .dropDeclarator(reason):
                declarator.update { _, _ in [.close(reason)] }
                declaratorFailed(reason, pools: poolCount)
            case let .dropPool(reason):
                pool.withCurrent { $0.close(reason: reason, level: .warning) }
            case let .retry(delay):
                pool.eventLoop.scheduleTask(in: TimeAmount(delay)) { [weak self] in self?.run { $0.retryRefused() } }
            case let .log(line):
                logger.log(level: line.level, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
            }
        }
    }
}
