import Logging
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Crypto
import Sv2Network
import Sv2Sessions

/// `sv2 jn` put together from its settings: the Job Declaration server over the pool's node's JSON-RPC.
public struct JobDeclaratorRole: Sendable {
    /// The Job Declaration server.
    public let server: JobDeclaratorService

    /// The services in start order.
    public var services: [any Service] { [server] }

    /// Builds the server; throws a clear error when the node's cookie cannot be read.
    public init(settings: JobDeclaratorSettings, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) throws {
        let user: String
        let password: String
        switch settings.rpcCredentials {
        case let .password(givenUser, givenPassword): (user, password) = (givenUser, givenPassword)
        case let .cookie(path): (user, password) = try JSONRPCClient.credentials(cookieFile: path)
        }
        let client = JSONRPCClient(host: settings.bitcoind.host, port: settings.bitcoind.port, user: user, password: password, group: group)
        var random = SystemRandom()
        let authority = settings.authoritySecretKey ?? .generate(using: &random)
        if settings.authoritySecretKey == nil { logger.info("no authority key configured: generated one for this run") }
        logger.info("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
        logger.info("checking declared jobs against the node at http://\(settings.bitcoind)")
        server = JobDeclaratorService(
            configuration: .init(
                listen: settings.listen,
                transport: .responder(authority: authority, certificateValidity: settings.certificateValidity, clock: clock),
                session: .init(tokenKey: settings.tokenKey, payoutScript: settings.rewardScript, tokenLifetime: settings.tokenLifetime)),
            node: RPCDeclaratorNode(client: client), group: group, logger: logger, clock: clock)
    }
}
