import Logging
import NIOCore
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Monitoring
import Sv2Network
import Sv2Sessions
import Synchronization

/// The glue of the proxy's group mode: devices' connections run ``ProxyDeviceSession``s, the upstream connection a
/// ``ProxyUpstreamSession`` kept up by a ``ClientConnector``, and one ``GroupProxy`` (behind a lock) relays
/// between them. Outputs are handed to the connections while the lock is held, so that what one device is sent keeps
/// its order.
final class GroupRelay: DeviceRelay {
    typealias Device = ConnectionHandle<ProxyDeviceSession, Sv2MessageWire>

    private struct State {
        var proxy = GroupProxy<Device>()
        /// Device messages waiting for the end of the upstream's read burst.
        var held = [Device: [Sv2Message]]()
        /// The devices' shares and the pool's answers, for monitoring.
        var counters = DeviceShareCounters<Device>()
    }

    private let state = Mutex(State())
    /// The flags of the upstream's SetupConnection.Success, passed on to devices that set up later.
    private let upstreamFlags = Atomic<UInt32>(0)
    private let connector: ClientConnector<ProxyUpstreamSession, Sv2MessageWire, UpstreamPool>
    private let logger: Logger
    /// Each device connection's number (its client id in monitoring).
    private let numbers = ClientNumbers()
    let connections: ConnectionRegistry<ProxyDeviceSession, Sv2MessageWire>
    let engine: ConnectionEngine<ProxyDeviceSession, Sv2MessageWire>

    init(configuration: ProxyService.Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock) {
        self.logger = logger
        connections = ConnectionRegistry(group: group, tickInterval: nil)
        let (box, connector) = Self.upstream(configuration: configuration, group: group, logger: logger)
        self.connector = connector
        engine = ConnectionEngine(
            wire: Sv2MessageWire(), readiness: .transportReady, configuration: configuration.deviceConnections(logger: logger, clock: clock),
            hooks: ConnectionHooks(
                ready: { [box] device in
                    box.object?.numbers.add(device.id, peer: device.peer)
                    return ProxyDeviceSession(successFlags: box.object?.upstreamFlags.load(ordering: .relaxed) ?? 0)
                },
                effect: { [box] effect, device in
                    guard case let .mining(message) = effect else { return }
                    box.object?.apply { state in
                        state.counters.fromDevice(device, message)
                        return state.proxy.fromDevice(device, message)
                    }
                },
                closed: { [box] device, session in
                    box.object?.numbers.remove(device.id)
                    guard session != nil else { return }
                    box.object?.apply { state in
                        state.counters.deviceGone(device)
                        return state.proxy.deviceGone(device)
                    }
                },
                unknownFrame: { [box] frame, device in box.object?.apply { $0.unknownFromDevice(device, frame) } }))
        box.set(self)
    }

    /// Starts connecting upstream.
    func start() {
        connector.start()
    }

    /// Closes the upstream connection for good.
    func stopUpstream() async {
        try? await connector.stop().get()
    }

    /// Runs `body` on the proxy and carries out its outputs, under the lock. Device messages are written at once, or,
    /// with `hold`, when ``flush()`` says the upstream's read burst is over: a job and its SetNewPrevHash then go to a
    /// device in one write, and every device of an event loop is written in one task on that loop.
    private func apply(hold: Bool = false, _ body: (inout GroupProxy<Device>) -> [GroupProxy<Device>.Output]) {
        apply(hold: hold) { (state: inout State) in body(&state.proxy) }
    }

    /// ``apply(hold:_:)`` with the whole state (the proxy and the share counters).
    private func apply(hold: Bool = false, _ body: (inout State) -> [GroupProxy<Device>.Output]) {
        state.withLock { state in
            let outputs = body(&state)
            var upstream = [Sv2Message]()
            for output in outputs {
                switch output {
                case let .upstream(message): upstream.append(message)
                case let .device(device, message):
                    state.counters.toDevice(device, message)
                    state.held[device, default: []].append(message)
                case let .deviceFrame(device, frame): device.write(encoded: .frame(frame), bytes: Sv2FrameHeader.size + frame.payload.count)
                case let .upstreamFrame(frame):
                    connector.withCurrent { $0.write(encoded: .frame(frame), bytes: Sv2FrameHeader.size + frame.payload.count) }
                case let .log(line): logger.log(level: line.level, "\(line.message)", metadata: line.metadata.mapValues { .string($0) })
                }
            }
            if !upstream.isEmpty {
                let logger = self.logger
                let upstream = upstream
                connector.update({ _, _ in upstream.map { .send($0) } }, otherwise: {
                    logger.warning("messages for the pool dropped: not connected", metadata: ["messages": "\(upstream.count)"])
                })
            }
            if !hold { Device.send(&state.held) }
        }
    }

    /// The devices and their channels (each opened upstream as a channel of its own: the same channels, under the
    /// pool's ids, are the server side), with the shares they sent and the pool's answers.
    func snapshot() async -> MonitoringSnapshot {
        let kinds = await connections.clientKinds()
        let (channels, counters) = state.withLock { ($0.proxy.monitoredChannels(), $0.counters) }
        let fixedVersion = upstreamFlags.load(ordering: .relaxed) & MinerClientSession.requiresFixedVersionFlag
        let clients = relayedClients(
            channels.map { ($0.device, $0.channel) }, counters: counters, numbers: numbers, id: \.id,
            kinds: kinds)
        let upstream = channels.compactMap { entry -> ChannelSnapshot? in
            guard let upstreamID = entry.upstreamID else { return nil }
            var channel = entry.channel
            channel.channelID = upstreamID
            channel.versionRolling = fixedVersion == 0
            channel.shares = counters.counters(device: entry.device, channelID: entry.channel.channelID)
            return channel
        }
        let address = (try? await connector.read { session, endpoint in (session?.isSetUp ?? false, "\(endpoint.host):\(endpoint.port)") }.get()) ?? (false, "")
        return MonitoringSnapshot(
            server: ServerChannels(channels: upstream), sv2Clients: clients,
            connections: MonitoringSnapshot.connections(ready: kinds.count, total: connections.count),
            upstream: UpstreamState(address: address.1, connected: address.0))
    }

    /// The upstream's read burst is over: the device messages it made are written.
    private func flush() {
        state.withLock { Device.send(&$0.held) }
    }

    private static func upstream(
        configuration: ProxyService.Configuration, group: EventLoopGroup, logger: Logger
    ) -> (LateReference<GroupRelay>, ClientConnector<ProxyUpstreamSession, Sv2MessageWire, UpstreamPool>) {
        let box = LateReference<GroupRelay>()
        let connector = ClientConnector<ProxyUpstreamSession, Sv2MessageWire, UpstreamPool>(
            eventLoop: group.next(), failover: configuration.failover, wire: Sv2MessageWire(), readiness: .transportReady,
            configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)),
            connect: UpstreamPool.connect,
            hooks: .init(
                makeSession: { upstream, _ in
                    ProxyUpstreamSession(setup: SetupNegotiation.request(
                        .mining, endpointHost: upstream.host, endpointPort: upstream.port, hardwareVersion: HostPlatform.hardwareVersion,
                        firmware: "sv2 proxy"))
                },
                effect: { effect, _ in
                    switch effect {
                    case let .ready(flags):
                        box.object?.upstreamFlags.store(flags, ordering: .relaxed)
                        box.object?.apply { $0.upstreamUp() }
                    case let .message(message): box.object?.apply(hold: true) { $0.fromUpstream(message) }
                    case .readComplete: box.object?.flush()
                    case let .reconnect(host, port): box.object?.connector.redirect(host: host, port: port)
                    }
                },
                ended: { _, _ in box.object?.apply { $0.upstreamDown() } },
                unknownFrame: { frame, _ in box.object?.apply { $0.unknownFromUpstream(frame) } }))
        return (box, connector)
    }
}
