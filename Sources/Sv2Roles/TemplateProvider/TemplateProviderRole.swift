import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Sv2Binary
import Sv2Crypto
import Sv2MonitoringServer
import Sv2Network
import Sv2Node
import Sv2NodeRPC
import Sv2Sessions

/// `sv2 tp` put together from its settings: the template source (the embedded regtest node or bitcoind), the
/// Template Distribution server and, for the embedded node, its JSON-RPC server and its follower of another chain,
/// as services of one `ServiceGroup` (shut down in reverse order: the follower, RPC, then the server, which stops
/// the source and flushes the chain).
public struct TemplateProviderRole: Sendable {
    /// The Template Distribution server.
    public let provider: TemplateProviderService
    /// The embedded node's JSON-RPC server, when configured.
    public let rpc: JSONRPCService?
    /// What keeps the embedded node on another node's chain (`follow`), when configured.
    public let follower: ChainFollower?
    /// The embedded node, when there is one (not with bitcoind).
    public let node: RegtestNode?
    /// The authority key clients check the certificates against (nil when serving plaintext).
    public let authorityPublicKey: XOnlyPublicKey?

    /// The monitoring HTTP server, when `monitoring_address` is set.
    public let monitoring: MonitoringServer?

    /// The services in start order.
    public var services: [any Service] {
        [provider] + (rpc.map { [$0] } ?? []) + (follower.map { [$0] } ?? []) + (monitoring.map { [$0] } ?? [])
    }

    /// Opens the source (the embedded node reads its datadir now) and builds the servers; throws a clear error when
    /// one cannot be built.
    public init(settings: TemplateProviderSettings, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) throws {
        let source: TemplateSource
        if let bitcoind = settings.bitcoind {
            let (user, password) = try Self.credentials(settings)
            source = BitcoindSource(
                client: JSONRPCClient(host: bitcoind.host, port: bitcoind.port, user: user, password: password, group: group), logger: logger)
            logger.info("templates from bitcoind at \(bitcoind)")
            rpc = nil
            follower = nil
            node = nil
        } else {
            // A follower takes its chain from the other node, bootstrap blocks included (its own would diverge), and
            // seeds its generator afresh so that its transactions are not the other node's.
            var random = SystemRandom()
            let seed = settings.follow == nil ? 0 : random.bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let node = try RegtestNode(configuration: RegtestNodeConfiguration(
                datadir: settings.datadir, generationRate: settings.generationRate, clock: clock, randomSeed: seed,
                bootstrapBlocks: settings.follow == nil ? 110 : 0))
            logger.info("embedded regtest node in \(settings.datadir): tip \(node.tip.hash.displayHex) at height \(node.tip.height)")
            source = EmbeddedNodeSource(node: node, eventLoop: group.next(), clock: clock)
            self.node = node
            rpc = settings.rpcListen.map { JSONRPCService(node: node, listen: $0, settings: settings, group: group, logger: logger) }
            follower = settings.follow.map { ChainFollower(node: node, source: $0, interval: settings.followInterval, group: group, logger: logger) }
        }
        let transport: Sv2TransportConfiguration
        if settings.plaintext {
            transport = Sv2TransportConfiguration(security: .plaintext, clock: clock)
            logger.warning("serving plaintext (no Noise): only for local testing")
            authorityPublicKey = nil
        } else {
            var random = SystemRandom()
            let authority = settings.authoritySecretKey ?? .generate(using: &random)
            if settings.authoritySecretKey == nil { logger.info("no authority key configured: generated one for this run") }
            logger.info("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
            authorityPublicKey = authority.xOnlyPublicKey
            transport = .responder(authority: authority, certificateValidity: settings.certificateValidity, clock: clock)
        }
        provider = TemplateProviderService(
            configuration: .init(listen: settings.listen, transport: transport, feeDelta: settings.feeDelta, templateInterval: settings.templateInterval),
            source: source, group: group, logger: logger, clock: clock)
        monitoring = RoleMonitoring.server(address: settings.monitoringAddress, source: provider, logger: logger)
    }

    private static func credentials(_ settings: TemplateProviderSettings) throws -> (String, String) {
        if let user = settings.rpcUser, let password = settings.rpcPassword { return (user, password) }
        guard let cookie = settings.rpcCookie else { throw TemplateSourceError.unavailable("no RPC credentials") }
        return try JSONRPCClient.credentials(cookieFile: cookie)
    }
}

/// The embedded node's bitcoind-compatible JSON-RPC server as a service: a cookie in the datadir (and the configured
/// user and password), removed when it stops.
public final class JSONRPCService: Service, Sendable {
    private let node: RegtestNode
    private let listen: HostPort
    private let settings: TemplateProviderSettings
    private let group: EventLoopGroup
    private let logger: Logger

    init(node: RegtestNode, listen: HostPort, settings: TemplateProviderSettings, group: EventLoopGroup, logger: Logger) {
        self.node = node
        self.listen = listen
        self.settings = settings
        self.group = group
        self.logger = logger
    }

    /// Writes the cookie, serves until graceful shutdown, then closes and removes the cookie.
    public func run() async throws {
        var accepted = [(user: String, password: String)]()
        if let user = settings.rpcUser, let password = settings.rpcPassword { accepted.append((user, password)) }
        var random = SystemRandom()
        let cookie = Hex.encode(random.bytes(32))
        let path = settings.datadir + "/.cookie"
        try JSONRPCCredentials.writeCookie(to: path, password: cookie)
        defer { try? FileManager.default.removeItem(atPath: path) }
        accepted.append(("__cookie__", cookie))
        let server: Channel
        do {
            server = try await JSONRPCServer.listen(
                host: listen.host, port: listen.port, group: group, credentials: JSONRPCCredentials(accepted: accepted),
                methods: rpcMethods(node: node, logger: logger)
            ).get()
        } catch {
            throw TemplateSourceError.unavailable("cannot serve JSON-RPC on \(listen): \(error)")
        }
        logger.info("JSON-RPC on \(server.localAddress?.hostPortDescription ?? "?") (cookie \(path))")
        try? await gracefulShutdown()
        try? await server.close().get()
    }
}
