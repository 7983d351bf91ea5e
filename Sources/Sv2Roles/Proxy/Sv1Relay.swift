import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv1
import Sv2Channels
import Sv2Messages
import Sv2Monitoring
import Sv2Network
import Sv2Sessions
import Synchronization

/// The glue of the proxy in front of a Stratum V1 pool: devices' connections run ``ProxyDeviceSession``s, each user
/// identity's Stratum V1 session an ``Sv1ClientSession`` kept up by its own ``ClientConnector`` (down the upstream
/// list with backoff), and one ``Sv1PoolProxy`` (behind a lock) relays between them.
final class Sv1Relay: DeviceRelay {
    typealias Device = ConnectionHandle<ProxyDeviceSession, Sv2MessageWire>
    private typealias Upstream = ClientConnector<Sv1ClientSession, Sv1Wire<Sv1Message>, HostPort>

    private struct State {
        var proxy: Sv1PoolProxy<Device>
        var upstreams = [String: Upstream]()
        /// The devices' shares and the pools' answers, for monitoring.
        var counters = DeviceShareCounters<Device>()
    }

    private let state: Mutex<State>
    private let pools: ProxyService.Sv1Pools
    private let configuration: ProxyService.Configuration
    private let group: EventLoopGroup
    private let logger: Logger
    /// Each device connection's number (its client id in monitoring).
    private let numbers = ClientNumbers()
    let connections: ConnectionRegistry<ProxyDeviceSession, Sv2MessageWire>
    let engine: ConnectionEngine<ProxyDeviceSession, Sv2MessageWire>

    init(pools: ProxyService.Sv1Pools, configuration: ProxyService.Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock) {
        self.pools = pools
        self.configuration = configuration
        self.group = group
        self.logger = logger
        state = Mutex(State(proxy: Sv1PoolProxy(
            sharesPerMinute: configuration.session.sharesPerMinute, defaultUser: pools.user)))
        connections = ConnectionRegistry(group: group, tickInterval: nil)
        let box = LateReference<Sv1Relay>()
        engine = ConnectionEngine(
            wire: Sv2MessageWire(), readiness: .transportReady, configuration: configuration.deviceConnections(logger: logger, clock: clock),
            hooks: ConnectionHooks(
                ready: { device in
                    box.object?.numbers.add(device.id, peer: device.peer)
                    return ProxyDeviceSession()
                },
                effect: { effect, device in
                    guard case let .mining(message) = effect else { return }
                    box.object?.apply { state in
                        state.counters.fromDevice(device, message)
                        return state.proxy.fromDevice(device, message)
                    }
                },
                closed: { device, session in
                    box.object?.numbers.remove(device.id)
                    guard session != nil else { return }
                    box.object?.apply { state in
                        state.counters.deviceGone(device)
                        return state.proxy.deviceGone(device)
                    }
                }))
        box.set(self)
    }

    /// Nothing connects before a device opens a channel.
    func start() {}

    /// Ends every user's session.
    func stopUpstream() async {
        let upstreams = state.withLock { state in
            defer { state.upstreams.removeAll() }
            return Array(state.upstreams.values)
        }
        for upstream in upstreams { try? await upstream.stop().get() }
    }

    /// Runs `body` on the proxy and carries out its outputs, under the lock.
    private func apply(_ body: (inout Sv1PoolProxy<Device>) -> [Sv1PoolProxy<Device>.Output]) {
        apply { (state: inout State) in body(&state.proxy) }
    }

    /// ``apply(_:)`` with the whole state (the proxy and the share counters).
    private func apply(_ body: (inout State) -> [Sv1PoolProxy<Device>.Output]) {
        state.withLock { state in
            var devices = [Device: [Sv2Message]]()
            for output in body(&state) {
                switch output {
                case let .device(device, message):
                    state.counters.toDevice(device, message)
                    devices[device, default: []].append(message)
                case let .connect(user, difficulty):
                    guard state.upstreams[user] == nil else { continue }
                    let upstream = makeUpstream(user: user, suggestedDifficulty: difficulty)
                    state.upstreams[user] = upstream
                    upstream.start()
                case let .disconnect(user):
                    if let upstream = state.upstreams.removeValue(forKey: user) { _ = upstream.stop() }
                case let .submit(user, share, tag):
                    submit(share, tag: tag, user: user, upstream: state.upstreams[user])
                case let .log(line):
                    logger.log(level: line.level, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
                }
            }
            Device.send(&devices)
        }
    }

    /// Hands a device's share to its user's session; the request id comes back to the proxy from the session's loop.
    private func submit(_ share: FoundShare, tag: Sv1PoolProxy<Device>.ShareTag, user: String, upstream: Upstream?) {
        guard let upstream else { return }
        upstream.update({ [weak self] session, _ in
            let actions = session.submit(share, lane: Sv1ClientSession.lane)
            let requestID = actions.lazy.compactMap { action -> UInt64? in
                guard case let .send(.request(id, method, _)) = action, method == Sv1Method.submit, case let .number(text) = id else { return nil }
                return UInt64(text)
            }.first
            self?.apply { $0.submitted(user: user, tag: tag, requestID: requestID) }
            return actions
        }, otherwise: { [weak self] in
            self?.apply { $0.submitted(user: user, tag: tag, requestID: nil) }
        })
    }

    private func makeUpstream(user: String, suggestedDifficulty: Double?) -> Upstream {
        let protocolHelper = Sv1MinerProtocol(session: Sv1ClientConfiguration(
            user: user, password: pools.password, userAgent: "sv2-proxy/\(SetupNegotiation.version)", endpointHost: "", endpointPort: 0,
            suggestedDifficulty: suggestedDifficulty, subscribesToExtranonce: true))
        var userLogger = logger
        userLogger[metadataKey: "user"] = "\(user)"
        let logger = userLogger
        let connector = Upstream(
            eventLoop: group.next(),
            failover: Failover(endpoints: pools.endpoints, initialDelay: configuration.initialBackoff, maximumDelay: configuration.maximumBackoff),
            wire: Sv1Wire(), readiness: .active, configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)),
            connect: { endpoint, loop, engine in protocolHelper.connect(to: endpoint, eventLoop: loop, engine: engine) },
            hooks: .init(
                makeSession: { endpoint, _ in protocolHelper.makeSession(endpoint: endpoint, statistics: MinerStatistics(), firstWorkID: 1) },
                effect: { [weak self] effect, handle in
                    let relay = self
                    switch effect {
                    case let .setWork(_, work): if let work { relay?.apply { $0.work(user: user, work) } }
                    case .event(.jobsCleaned): relay?.apply { $0.cleaned(user: user); return [] }
                    case let .event(.shareAccepted(requestID)):
                        relay?.apply { $0.answered(user: user, requestID: requestID, accepted: true, reason: nil) }
                    case let .event(.shareRejected(requestID, reason)):
                        relay?.apply { $0.answered(user: user, requestID: requestID, accepted: false, reason: reason) }
                    case let .event(event):
                        let line = protocolHelper.logLine(for: event)
                        logger.log(level: line.level, "\(line.text)")
                    case let .reconnect(host, port): relay?.redirect(user: user, to: HostPort(host: host, port: port))
                    case let .fail(reason):
                        relay?.apply { $0.refused(user: user, reason: reason) }
                        handle.close(reason: reason, level: .warning)
                    }
                },
                ended: { [weak self] _, _ in self?.apply { $0.upstreamLost(user: user) } }))
        return connector
    }

    /// The devices and their channels, with the shares they sent and the pools' answers; no Sv2 upstream (the pools
    /// speak Stratum V1), its connections (one per user) counted by state.
    func snapshot() async -> MonitoringSnapshot {
        let kinds = await connections.clientKinds()
        let (channels, counters, upstreams) = state.withLock { ($0.proxy.monitoredChannels(), $0.counters, $0.proxy.upstreamConnections) }
        let clients = relayedClients(
            channels, counters: counters, numbers: numbers, id: \.id, kinds: kinds)
        return MonitoringSnapshot(
            sv2Clients: clients,
            connections: MonitoringSnapshot.connections(ready: kinds.count, total: connections.count).merging([
                "sv1_upstream_connected": upstreams.connected, "sv1_upstream_connecting": upstreams.total - upstreams.connected,
            ]) { first, _ in first })
    }

    /// The pool asked `user`'s session to move (client.reconnect).
    private func redirect(user: String, to endpoint: HostPort) {
        state.withLock { $0.upstreams[user] }?.redirect(to: endpoint)
    }
}

extension ConnectionHandle where Session == ProxyDeviceSession, Wire == Sv2MessageWire {
    /// Writes each device its messages, in one task per event loop, and empties `held`.
    static func send(_ held: inout [ConnectionHandle: [Sv2Message]]) {
        guard !held.isEmpty else { return }
        var loops = [ObjectIdentifier: (loop: EventLoop, batch: [(ConnectionHandle, [Sv2Message])])]()
        for (device, messages) in held {
            loops[ObjectIdentifier(device.eventLoop), default: (device.eventLoop, [])].batch.append((device, messages))
        }
        held.removeAll(keepingCapacity: true)
        for (loop, batch) in loops.values {
            loop.execute {
                for (device, messages) in batch { device.update { _, _ in messages.map { .send($0) } } }
            }
        }
    }
}
