import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Crypto
import Sv2Network
import Sv2Sessions

/// `sv2 proxy`: Sv2 mining devices downstream (Noise, the proxy's own authority key), one connection to the first
/// reachable pool of a list upstream. In group mode (``ProxyService/Mode/group``) every device channel is a
/// channel of its own upstream, grouped by the pool, and the proxy derives each standard channel's jobs from the
/// group's (``GroupProxy``); in aggregate mode one extended channel upstream carries every device
/// (``AggregateRelay``). When the pool goes away the devices stay connected; the proxy goes down its list with
/// backoff and gives them fresh jobs once a pool is back.
public final class ProxyService: Service, Sendable {
    /// How device channels map onto the upstream connection.
    public enum Mode: String, Sendable, CaseIterable {
        /// One upstream channel per device channel, standard ones grouped by the pool.
        case group
        /// One upstream extended channel for all devices.
        case aggregate
    }

    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Where devices connect (port 0 picks one).
        public var listen: HostPort
        /// The devices' side of Noise (the proxy's authority key), or plaintext.
        public var transport: Sv2TransportConfiguration
        /// Pools in order of preference.
        public var upstreams: [UpstreamPool]
        /// Group or aggregate.
        public var mode: Mode
        /// Aggregate mode: the devices' channels (vardiff towards shares per minute, extranonce bytes per device).
        public var session: PoolSessionConfiguration
        /// Aggregate mode: how often vardiff looks at every device channel.
        public var vardiffInterval: Duration
        /// Reconnect delays: first, doubling up to the maximum.
        public var initialBackoff: Duration
        /// Longest reconnect delay.
        public var maximumBackoff: Duration
        /// Time a device has for the Noise handshake and SetupConnection.
        public var setupTimeout: Duration
        /// Time without any message after which a device's connection is closed.
        public var idleTimeout: Duration
        /// Bytes a device connection may hold unsent while the device does not read.
        public var outboundLimit: Int
        /// The authority key devices check the certificates against, for the URL logged at start.
        public var authorityPublicKey: XOnlyPublicKey?

        /// Settings: reconnecting waits 1 s doubling to 5 s (devices get work again within seconds of the pool's
        /// return); 30 s to set up, 15 minutes of silence at most, 256 KiB held for a device that does not read.
        public init(
            listen: HostPort, transport: Sv2TransportConfiguration, upstreams: [UpstreamPool], mode: Mode = .group,
            session: PoolSessionConfiguration, vardiffInterval: Duration = .seconds(5), initialBackoff: Duration = .seconds(1),
            maximumBackoff: Duration = .seconds(5), setupTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(900),
            outboundLimit: Int = 256 << 10, authorityPublicKey: XOnlyPublicKey? = nil
        ) {
            self.listen = listen
            self.transport = transport
            self.upstreams = upstreams
            self.mode = mode
            self.session = session
            self.vardiffInterval = vardiffInterval
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.setupTimeout = setupTimeout
            self.idleTimeout = idleTimeout
            self.outboundLimit = outboundLimit
            self.authorityPublicKey = authorityPublicKey
        }

        /// The upstream list as a failover.
        var failover: Failover<UpstreamPool> {
            Failover(endpoints: upstreams, initialDelay: initialBackoff, maximumDelay: maximumBackoff)
        }

        /// The engine settings of device connections.
        func deviceConnections(logger: Logger, clock: Sv2Clock) -> ConnectionConfiguration {
            ConnectionConfiguration(logger: logger, clock: clock, setupTimeout: setupTimeout, idleTimeout: idleTimeout, outboundLimit: outboundLimit)
        }
    }

    private enum Relay: Sendable {
        case group(GroupRelay)
        case aggregate(AggregateRelay)
    }

    private let configuration: Configuration
    private let group: EventLoopGroup
    private let logger: Logger
    private let relay: Relay
    private let server = NIOLockedValueBox<Channel?>(nil)

    /// A service; nothing runs until ``start()``.
    public init(configuration: Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        switch configuration.mode {
        case .group: relay = .group(GroupRelay(configuration: configuration, group: group, logger: logger, clock: clock))
        case .aggregate: relay = .aggregate(AggregateRelay(configuration: configuration, group: group, logger: logger, clock: clock))
        }
    }

    /// Binds the devices' listener and starts connecting upstream; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let listen = configuration.listen
        let channel = try await ListenError.binding(listen) { () async throws -> Channel in
            switch relay {
            case let .group(relay):
                return try await Sv2Connections.listen(
                    host: listen.host, port: listen.port, group: group, configuration: configuration.transport,
                    engine: relay.engine, registry: relay.connections
                ).get()
            case let .aggregate(relay):
                return try await Sv2Connections.listen(
                    host: listen.host, port: listen.port, group: group, configuration: configuration.transport,
                    engine: relay.engine, registry: relay.connections
                ).get()
            }
        }
        server.withLockedValue { $0 = channel }
        switch relay {
        case let .group(relay): relay.start()
        case let .aggregate(relay): relay.start()
        }
        return try ListenError.localAddress(of: channel, configured: listen)
    }

    /// Stops: no new devices, the upstream closed, every device connection closed.
    public func stop() async {
        try? await server.withLockedValue({ $0 })?.close().get()
        switch relay {
        case let .group(relay):
            relay.connections.stop()
            await relay.stop()
            try? await relay.connections.closeAll(reason: "the proxy is shutting down")?.get()
        case let .aggregate(relay):
            relay.connections.stop()
            await relay.stop()
            try? await relay.connections.closeAll(reason: "the proxy is shutting down")?.get()
        }
        logger.info("stopped")
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let address = try await start().hostPortDescription
        let url = configuration.authorityPublicKey.map { " (stratum2+tcp://\(address)/\(AuthorityKeyText.encode($0)))" } ?? ""
        logger.info("devices on \(address)\(url), \(configuration.mode) mode")
        try? await gracefulShutdown()
        await stop()
    }

    /// Devices connected now (Noise handshake done).
    public var deviceCount: Int {
        switch relay {
        case let .group(relay): return relay.connections.count
        case let .aggregate(relay): return relay.connections.count
        }
    }
}
