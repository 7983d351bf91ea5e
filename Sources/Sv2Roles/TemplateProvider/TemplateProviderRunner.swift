import Foundation
import Logging
import NIOCore
import Sv2Binary
import Sv2Crypto
import Sv2Network
import Sv2Node
import Sv2NodeRPC
import Sv2Sessions

/// Puts a template provider together from its settings: the source (embedded node or bitcoind), the Template
/// Distribution server and, for the embedded node, its JSON-RPC server.
public final class TemplateProviderRunner: @unchecked Sendable {
    private let settings: TemplateProviderSettings
    private let group: EventLoopGroup
    private let logger: Logger
    private var service: TemplateProviderService?
    private var rpcServer: Channel?
    private var cookiePath: String?
    /// Where Template Distribution listens, once started.
    public private(set) var address: SocketAddress?
    /// The authority key clients must check the certificates against (nil when serving plaintext), once started.
    public private(set) var authorityPublicKey: XOnlyPublicKey?

    /// A runner; nothing starts until ``start()``.
    public init(settings: TemplateProviderSettings, group: EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.group = group
        self.logger = logger
    }

    /// Opens the source and the servers; throws a clear error when one cannot start.
    public func start() throws {
        let clock = Sv2Clock.system
        let source: TemplateSource
        if let bitcoind = settings.bitcoind {
            let (user, password) = try credentials()
            source = BitcoindSource(
                client: JSONRPCClient(host: bitcoind.host, port: bitcoind.port, user: user, password: password, group: group), logger: logger)
            logger.info("templates from bitcoind at \(bitcoind.host):\(bitcoind.port)")
        } else {
            let node = try RegtestNode(configuration: RegtestNodeConfiguration(
                datadir: settings.datadir, generationRate: settings.generationRate, clock: clock))
            logger.info("embedded regtest node in \(settings.datadir): tip \(node.tip.hash.displayHex) at height \(node.tip.height)")
            source = EmbeddedNodeSource(node: node, eventLoop: group.next(), clock: clock)
            if let rpc = settings.rpcListen { try startRPC(node: node, on: rpc) }
        }
        let transport: Sv2TransportConfiguration
        if settings.plaintext {
            transport = Sv2TransportConfiguration(security: .plaintext, clock: clock)
            logger.warning("serving plaintext (no Noise): only for local testing")
        } else {
            var random = SystemRandom()
            let authority = settings.authoritySecretKey ?? .generate(using: &random)
            if settings.authoritySecretKey == nil { logger.info("no authority key configured: generated one for this run") }
            logger.info("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
            authorityPublicKey = authority.xOnlyPublicKey
            transport = Sv2TransportConfiguration(
                security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority, certificateValidity: settings.certificateValidity)),
                clock: clock)
        }
        let service = TemplateProviderService(
            configuration: .init(
                host: settings.listen.host, port: settings.listen.port, transport: transport, feeDelta: settings.feeDelta,
                templateInterval: TimeAmount(settings.templateInterval)),
            source: source, group: group, logger: logger)
        let address = try service.start()
        self.service = service
        self.address = address
        logger.info("Template Distribution on \(address?.hostPortDescription ?? "?")")
    }

    private func credentials() throws -> (String, String) {
        if let user = settings.rpcUser, let password = settings.rpcPassword { return (user, password) }
        guard let cookie = settings.rpcCookie else { throw TemplateSourceError.unavailable("no RPC credentials") }
        return try JSONRPCClient.credentials(cookieFile: cookie)
    }

    private func startRPC(node: RegtestNode, on address: HostPort) throws {
        var accepted = [(user: String, password: String)]()
        if let user = settings.rpcUser, let password = settings.rpcPassword { accepted.append((user, password)) }
        var random = SystemRandom()
        let cookie = Hex.encode(random.bytes(32))
        let path = settings.datadir + "/.cookie"
        try JSONRPCCredentials.writeCookie(to: path, password: cookie)
        cookiePath = path
        accepted.append(("__cookie__", cookie))
        rpcServer = try JSONRPCServer.listen(
            host: address.host, port: address.port, group: group, credentials: JSONRPCCredentials(accepted: accepted),
            methods: rpcMethods(node: node)
        ).wait()
        logger.info("JSON-RPC on \(rpcServer?.localAddress?.hostPortDescription ?? "?") (cookie \(path))")
    }

    /// Stops serving, flushes the chain and removes the RPC cookie.
    public func stop() {
        try? rpcServer?.close().wait()
        service?.stop()
        if let cookiePath { try? FileManager.default.removeItem(atPath: cookiePath) }
        logger.info("stopped")
    }
}
