import Logging
import NIOCore
import Sv2Channels
import Sv2Messages
import Sv2Network
import Sv2Sessions
import Synchronization

/// The glue of the proxy's group mode: devices' connections run ``ProxyDeviceSession``s, the upstream connection a
/// ``ProxyUpstreamSession`` kept up by a ``ClientConnector``, and one ``GroupProxy`` (behind a lock) relays
/// between them. Outputs are written while the lock is held, so that what one device is sent keeps its order.
final class GroupRelay: Sendable {
    typealias Device = ConnectionHandle<ProxyDeviceSession, Sv2MessageWire>

    private let proxy = Mutex(GroupProxy<Device>())
    private let connector: ClientConnector<ProxyUpstreamSession, Sv2MessageWire, UpstreamPool>
    private let logger: Logger
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
                ready: { _ in ProxyDeviceSession() },
                effect: { [box] effect, device in
                    guard case let .mining(message) = effect else { return }
                    box.relay?.apply { $0.fromDevice(device, message) }
                },
                closed: { [box] device, session in
                    guard session != nil else { return }
                    box.relay?.apply { $0.deviceGone(device) }
                }))
        box.relay = self
    }

    /// Starts connecting upstream.
    func start() {
        connector.start()
    }

    /// Closes the upstream connection for good.
    func stop() async {
        try? await connector.stop().get()
    }

    /// Channels the devices have open.
    var channelCount: Int { proxy.withLock { $0.channelCount } }

    /// Runs `body` on the proxy and carries out its outputs, under the lock.
    private func apply(_ body: (inout GroupProxy<Device>) -> [GroupProxy<Device>.Output]) {
        proxy.withLock { proxy in
            let outputs = body(&proxy)
            var upstream = [Sv2Message]()
            var devices = [Device: [Sv2Message]]()
            for output in outputs {
                switch output {
                case let .upstream(message): upstream.append(message)
                case let .device(device, message): devices[device, default: []].append(message)
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
            for (device, messages) in devices {
                device.update { _, _ in messages.map { .send($0) } }
            }
        }
    }

    /// A late-bound reference from the hooks (made before the relay exists) to the relay.
    private final class Box: Sendable {
        private let value = Mutex<GroupRelay?>(nil)
        var relay: GroupRelay? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }

    private static func upstream(
        configuration: ProxyService.Configuration, group: EventLoopGroup, logger: Logger
    ) -> (Box, ClientConnector<ProxyUpstreamSession, Sv2MessageWire, UpstreamPool>) {
        let box = Box()
        let connector = ClientConnector<ProxyUpstreamSession, Sv2MessageWire, UpstreamPool>(
            eventLoop: group.next(), failover: configuration.failover, wire: Sv2MessageWire(), readiness: .transportReady,
            configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)),
            connect: UpstreamPool.connect,
            hooks: .init(
                makeSession: { upstream, _ in
                    ProxyUpstreamSession(setup: SetupNegotiation.request(
                        .mining, endpointHost: upstream.host, endpointPort: upstream.port, firmware: "sv2 proxy"))
                },
                effect: { effect, _ in
                    switch effect {
                    case .ready: box.relay?.apply { $0.upstreamUp() }
                    case let .message(message): box.relay?.apply { $0.fromUpstream(message) }
                    case let .reconnect(host, port): box.relay?.connector.redirect(host: host, port: port)
                    }
                },
                ended: { _, _ in box.relay?.apply { $0.upstreamDown() } }))
        return (box, connector)
    }
}
