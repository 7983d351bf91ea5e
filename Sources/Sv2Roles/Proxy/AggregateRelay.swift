import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Channels
import Sv2Messages
import Sv2Monitoring
import Sv2Network
import Sv2Sessions
import Synchronization

/// The glue of the proxy's aggregate mode: one extended channel upstream (a ``MinerClientSession`` kept up by a
/// ``ClientConnector``), whose work an ``AggregateJobBoard`` turns into snapshots that every device's
/// ``PoolSession`` serves: each device has its own channels, extranonce prefix inside the upstream channel's, target
/// (vardiff) and share checks; the proxy answers its shares and forwards those that meet the upstream target.
final class AggregateRelay: DeviceRelay {
    private typealias Upstream = ClientConnector<MinerClientSession, Sv2TaggedWire, UpstreamPool>

    private let board: NIOLockedValueBox<AggregateJobBoard>
    private let carried = NIOLockedValueBox((statistics: MinerStatistics(), nextWorkID: UInt64(1)))
    /// The devices' reported hash rates summed, and what the upstream channel was last told.
    private let hashRate = NIOLockedValueBox((total: 0.0, announced: AnnouncedHashRate()))
    /// Each device connection's number (its extranonce prefix, its client id in monitoring).
    private let numbers = ClientNumbers()
    private let connector: Upstream
    private let session: PoolSessionConfiguration
    private let logger: Logger
    let connections: ConnectionRegistry<PoolSession, Sv2TaggedInboundWire>
    let engine: ConnectionEngine<PoolSession, Sv2TaggedInboundWire>

    init(configuration: ProxyService.Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock) {
        self.logger = logger
        session = configuration.session
        board = NIOLockedValueBox(AggregateJobBoard(extranonceSize: configuration.session.extranonceLength))
        let connections = ConnectionRegistry<PoolSession, Sv2TaggedInboundWire>(group: group, tickInterval: configuration.vardiffInterval)
        self.connections = connections
        let box = LateReference<AggregateRelay>()
        let carried = self.carried
        let hashRate = self.hashRate
        let size = UInt16(configuration.session.extranonceLength)
        connector = Upstream(
            eventLoop: group.next(), failover: configuration.failover, wire: Sv2TaggedWire(), readiness: .transportReady,
            configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)), tickInterval: .seconds(1),
            connect: UpstreamPool.connect,
            hooks: .init(
                makeSession: { upstream, _ in
                    let settings = MinerSessionConfiguration(
                        userIdentity: upstream.userIdentity, channelKind: .extended, channelCount: 1, requiresStandardJobs: false,
                        nominalHashRate: Float(hashRate.withLockedValue { rate -> Double in
                            rate.announced.record(rate.total)
                            return rate.total
                        }),
                        minimumExtranonceSize: size, endpointHost: upstream.host,
                        endpointPort: UInt16(clamping: upstream.port), vendor: "sv2", hardwareVersion: HostPlatform.hardwareVersion, firmware: "sv2 proxy",
                        worker: upstream.userIdentity, pausesAfterBlocks: false)
                    let (statistics, nextWorkID) = carried.withLockedValue { $0 }
                    return MinerClientSession(configuration: settings, statistics: statistics, firstWorkID: nextWorkID)
                },
                effect: { effect, handle in
                    switch effect {
                    case let .setWork(_, work): if let work { box.object?.publish(work) }
                    case let .event(event): if let line = event.upstreamLog { logger.log(level: line.level, "\(line.message)") }
                    case let .reconnect(host, port): box.object?.connector.redirect(host: host, port: port)
                    case let .fail(reason): handle.close(reason: reason, level: .error)
                    }
                },
                ended: { _, session in
                    if let session { carried.withLockedValue { $0 = (session.statistics, session.nextWorkID) } }
                    box.object?.upstreamLost()
                }))
        engine = ConnectionEngine(
            wire: Sv2TaggedInboundWire(), readiness: .transportReady, configuration: configuration.deviceConnections(logger: logger, clock: clock),
            hooks: ConnectionHooks(
                ready: { device in box.object?.makeSession(device.id, peer: device.peer) },
                effect: { effect, _ in box.object?.perform(effect) },
                closed: { device, session in
                    box.object?.numbers.remove(device.id)
                    if let session, session.reportedHashRate > 0 { box.object?.reported(change: -session.reportedHashRate) }
                }))
        box.set(self)
    }

    /// Starts connecting upstream.
    func start() {
        connector.start()
    }

    /// Closes the upstream channel (CloseChannel) and connection for good.
    func stopUpstream() async {
        try? await connector.stop { session, _ in session.close() }.get()
        let statistics = carried.withLockedValue { $0.statistics }
        logger.info("upstream accepted \(statistics.accepted), rejected \(statistics.rejected), blocks \(statistics.blocks)")
    }

    /// A device's connection is ready: its session, with an extranonce prefix unique among live connections.
    private func makeSession(_ id: ObjectIdentifier, peer: String) -> PoolSession? {
        numbers.deviceSession(id, peer: peer, configuration: session, work: board.withLockedValue { $0.work }, logger: logger)
    }

    /// The devices and their channels (each judged by the proxy), and the one upstream channel.
    func snapshot() async -> MonitoringSnapshot {
        let clients = await connections.monitoredClients(numbers: numbers)
        let upstream = await connector.monitored(nominalHashRate: Float(hashRate.withLockedValue { $0.total }))
        return MonitoringSnapshot(
            server: ServerChannels(channels: upstream.channels), sv2Clients: clients,
            connections: MonitoringSnapshot.connections(ready: clients.count, total: connections.count), upstream: upstream.state)
    }

    /// New upstream work: the board's changes go to every device.
    private func publish(_ next: MiningWork) {
        let published = board.withLockedValue { board -> Result<(PoolWork, [PoolWorkChange]), AggregateJobBoard.Refusal> in
            Result { () throws(AggregateJobBoard.Refusal) in try board.apply(next) }.map { (board.work, $0) }
        }
        switch published {
        case let .success((work, changes)):
            for change in changes {
                connections.broadcast { session, _ in session.update(to: work, change: change) }
            }
        case let .failure(refusal):
            logger.error("upstream work cannot be served: \(refusal)")
        }
    }

    /// The upstream connection ended: the devices' jobs become stale until the next pool's work.
    private func upstreamLost() {
        let lost = board.withLockedValue { board in board.upstreamLost() ? board.work : nil }
        guard let work = lost else { return }
        connections.broadcast { session, _ in session.update(to: work, change: .upstreamTarget) }
    }

    private func perform(_ effect: PoolEffect) {
        switch effect {
        case let .forward(share):
            guard let found = board.withLockedValue({ $0.upstreamShare(share) }) else {
                logger.info("a share for a job the upstream replaced: not forwarded", metadata: ["user": "\(share.user)"])
                return
            }
            let logger = self.logger
            connector.update({ session, _ in session.submit(found, lane: 0, worker: share.user) }, otherwise: {
                logger.warning("a share could not be forwarded: no upstream channel", metadata: ["user": "\(share.user)"])
            })
        case let .submitBlock(block):
            logger.info("block found by \"\(block.user)\": \(block.hash.displayHex), forwarded upstream")
        case let .reportedHashRate(change):
            reported(change: change)
        case .tallies, .record:
            break
        }
    }

    /// The devices' reported hash rates changed: the upstream channel hears of a change of more than a tenth (spec
    /// 5.3: a proxy's channel carries its devices' cumulative rate) with UpdateChannel.
    private func reported(change: Double) {
        let total = hashRate.withLockedValue { rate -> Double? in
            rate.total = max(0, rate.total + change)
            return rate.announced.announce(rate.total)
        }
        guard let total else { return }
        connector.update { session, _ in
            guard let channelID = session.openChannels.values.first else { return [] }
            return [.send(.updateChannel(UpdateChannel(channelID: channelID, nominalHashRate: Float(total), maximumTarget: .max)))]
        }
    }
}

extension ClientNumbers {
    /// A device connection of a proxy serving `work` is ready: its number, and a ``PoolSession`` with that number as
    /// its extranonce prefix (unique among live connections); nil, logged, when no session can be made.
    func deviceSession(_ id: ObjectIdentifier, peer: String, configuration: PoolSessionConfiguration, work: PoolWork, logger: Logger) -> PoolSession? {
        let index = add(id, peer: peer)
        do {
            return try PoolSession(configuration: configuration, connectionPrefix: connectionBytes(index, count: 4), work: work)
        } catch {
            remove(id)
            logger.error("no session for a new device: \(error)")
            return nil
        }
    }
}
