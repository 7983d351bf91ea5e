import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Monitoring
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

    /// Stratum V1 pools upstream (`stratum+tcp://`): one session per device user identity.
    public struct Sv1Pools: Sendable {
        /// The pools, most preferred first.
        public var endpoints: [HostPort]
        /// The user name for channels that give no user_identity.
        public var user: String
        /// The password of mining.authorize.
        public var password: String

        /// Pools with their login defaults.
        public init(endpoints: [HostPort], user: String, password: String) {
            self.endpoints = endpoints
            self.user = user
            self.password = password
        }
    }

    /// The proxy as a job declarator client (`jd_address`): its own templates, declared to the pool's declarator
    /// and set on the pool as custom jobs; solo to `soloScript` while the pool or the declarator is away.
    public struct JobDeclaration: Sendable {
        /// The miner's template provider: an external one, or the embedded regtest node ``ProxyRole`` runs.
        public var templateProvider: TemplateDistributionClient.Provider
        /// Each pool's job declarator, in the order of the pools (their user identities are the ones tokens are asked
        /// for).
        public var declarators: [UpstreamPool]
        /// Full-template or coinbase-only.
        public var mode: JobDeclaratorClient.Mode
        /// What solo blocks pay.
        public var soloScript: [UInt8]
        /// The hash rate announced on the pool's channel.
        public var nominalHashRate: Float
        /// Bytes of coinbase outputs asked of the template provider (the pool's outputs must fit).
        public var coinbaseOutputMaximumSize: UInt32

        /// Settings from their values.
        public init(
            templateProvider: TemplateDistributionClient.Provider, declarators: [UpstreamPool], mode: JobDeclaratorClient.Mode,
            soloScript: [UInt8], nominalHashRate: Float, coinbaseOutputMaximumSize: UInt32
        ) {
            self.templateProvider = templateProvider
            self.declarators = declarators
            self.mode = mode
            self.soloScript = soloScript
            self.nominalHashRate = nominalHashRate
            self.coinbaseOutputMaximumSize = coinbaseOutputMaximumSize
        }
    }

    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Where devices connect (port 0 picks one).
        public var listen: HostPort
        /// The devices' side of Noise (the proxy's authority key), or plaintext.
        public var transport: Sv2TransportConfiguration
        /// Sv2 pools in order of preference.
        public var upstreams: [UpstreamPool]
        /// Stratum V1 pools instead (when set, `upstreams` and `mode` are not used).
        public var sv1Pools: Sv1Pools?
        /// Group or aggregate.
        public var mode: Mode
        /// As a job declarator client instead (when set, `mode` is not used).
        public var jobDeclaration: JobDeclaration?
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
            listen: HostPort, transport: Sv2TransportConfiguration, upstreams: [UpstreamPool], sv1Pools: Sv1Pools? = nil, mode: Mode = .group,
            jobDeclaration: JobDeclaration? = nil, session: PoolSessionConfiguration, vardiffInterval: Duration = .seconds(5), initialBackoff: Duration = .seconds(1),
            maximumBackoff: Duration = .seconds(5), setupTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(900),
            outboundLimit: Int = 256 << 10, authorityPublicKey: XOnlyPublicKey? = nil
        ) {
            self.listen = listen
            self.transport = transport
            self.upstreams = upstreams
            self.sv1Pools = sv1Pools
            self.mode = mode
            self.jobDeclaration = jobDeclaration
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

    private let configuration: Configuration
    private let group: EventLoopGroup
    private let logger: Logger
    private let relay: any DeviceRelay
    private let server = NIOLockedValueBox<Channel?>(nil)

    /// A service; nothing runs until ``start()``.
    public init(configuration: Configuration, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        if let pools = configuration.sv1Pools {
            relay = Sv1Relay(pools: pools, configuration: configuration, group: group, logger: logger, clock: clock)
            return
        }
        if let declaration = configuration.jobDeclaration {
            relay = JobDeclaratorClientRelay(configuration: configuration, declaration: declaration, group: group, logger: logger, clock: clock)
            return
        }
        switch configuration.mode {
        case .group: relay = GroupRelay(configuration: configuration, group: group, logger: logger, clock: clock)
        case .aggregate: relay = AggregateRelay(configuration: configuration, group: group, logger: logger, clock: clock)
        }
    }

    /// Binds the devices' listener and starts connecting upstream; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let listen = configuration.listen
        let channel = try await ListenError.binding(listen) {
            try await relay.listen(listen, group: group, transport: configuration.transport)
        }
        server.withLockedValue { $0 = channel }
        relay.start()
        return try ListenError.localAddress(of: channel, configured: listen)
    }

    /// Stops: no new devices, the upstream closed, every device connection closed.
    public func stop() async {
        try? await server.withLockedValue({ $0 })?.close().get()
        await relay.stop()
        logger.info("stopped")
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let address = try await start().hostPortDescription
        let url = configuration.authorityPublicKey.map { " (stratum2+tcp://\(address)/\(AuthorityKeyText.encode($0)))" } ?? ""
        let mode = configuration.sv1Pools != nil ? "Stratum V1 pool upstream"
            : configuration.jobDeclaration.map { "job declarator client (\($0.mode.rawValue))" } ?? "\(configuration.mode) mode"
        logger.info("devices on \(address)\(url), \(mode)")
        try? await gracefulShutdown()
        await stop()
    }

    /// Devices connected now (Noise handshake done).
    public var deviceCount: Int { relay.deviceCount }
}

extension ProxyService: MonitoringSource {
    /// The devices as Sv2 clients with their channels, and the upstream side: the aggregate channel or each device's
    /// own channel upstream (none in front of Stratum V1 pools).
    public func snapshot() async -> MonitoringSnapshot {
        await relay.snapshot()
    }
}

/// How the proxy serves its devices (group, aggregate, or in front of a Stratum V1 pool): the devices' engine and
/// registry, and its upstream side.
protocol DeviceRelay: Sendable {
    /// The devices' sessions.
    associatedtype Session: ConnectionSession where Session.Inbound: Sv2WireMessage, Session.Outbound == Sv2Message
    /// The devices' connections.
    var connections: ConnectionRegistry<Session, Sv2Wire<Session.Inbound, Sv2Message>> { get }
    /// The engine every device connection runs.
    var engine: ConnectionEngine<Session, Sv2Wire<Session.Inbound, Sv2Message>> { get }
    /// Starts the upstream side.
    func start()
    /// Stops the upstream side for good.
    func stopUpstream() async
    /// The devices, their channels and the upstream side, for monitoring.
    func snapshot() async -> MonitoringSnapshot
}

extension DeviceRelay {
    /// Listens for devices on `address`.
    func listen(_ address: HostPort, group: EventLoopGroup, transport: Sv2TransportConfiguration) async throws -> Channel {
        try await Sv2Connections.listen(
            host: address.host, port: address.port, group: group, configuration: transport, engine: engine, registry: connections
        ).get()
    }

    /// No more ticks, the upstream side stopped, every device connection closed.
    func stop() async {
        connections.stop()
        await stopUpstream()
        try? await connections.closeAll(reason: "the proxy is shutting down")?.get()
    }

    /// Devices connected now.
    var deviceCount: Int { connections.count }
}
