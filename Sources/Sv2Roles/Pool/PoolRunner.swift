import Foundation
import Logging
import NIOCore
import Sv2Channels
import Sv2Crypto
import Sv2Network
import Sv2Sessions

/// Puts `sv2 pool` together from its settings: the template provider (an external one, or the embedded regtest
/// node of `sv2 tp` run in-process on a loopback port), the Template Distribution client and the mining server.
public final class PoolRunner: @unchecked Sendable {
    private let settings: PoolSettings
    private let group: EventLoopGroup
    private let logger: Logger
    private var embedded: TemplateProviderRunner?
    private var client: TemplateDistributionClient?
    private var service: PoolService?

    /// A runner; nothing starts until ``start()``.
    public init(settings: PoolSettings, group: EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.group = group
        self.logger = logger
    }

    /// Starts the template provider connection and the mining server; throws a clear error when one cannot start.
    public func start() throws {
        let clock = Sv2Clock.system
        var random = SystemRandom()
        let authority = settings.authoritySecretKey ?? .generate(using: &random)
        if settings.authoritySecretKey == nil { logger.info("no authority key configured: generated one for this run") }
        guard let session = PoolSessionConfiguration(sharesPerMinute: settings.sharesPerMinute, versionRolling: settings.versionRolling) else {
            throw ConfigurationError(key: "shares_per_minute", reason: "\(settings.sharesPerMinute) cannot drive vardiff")
        }
        let service = PoolService(
            configuration: .init(
                host: settings.listen.host, port: settings.listen.port,
                transport: Sv2TransportConfiguration(
                    security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority, certificateValidity: settings.certificateValidity)),
                    clock: clock),
                session: session, rewardScript: settings.rewardScript, poolSignature: settings.poolSignature,
                shutdownReconnect: settings.shutdownReconnect.map { ($0.host, $0.port) }),
            group: group, logger: logger)

        let provider: (host: String, port: Int, key: XOnlyPublicKey?)
        if let external = settings.templateProvider {
            provider = (external.host, external.port, settings.templateProviderKey)
            if settings.templateProviderKey == nil {
                logger.warning("no tp_authority_public_key: the template provider's certificate is not checked")
            }
        } else if let embeddedSettings = settings.embedded {
            var providerLogger = logger
            providerLogger[metadataKey: "component"] = "tp"
            let runner = TemplateProviderRunner(settings: embeddedSettings, group: group, logger: providerLogger)
            try runner.start()
            embedded = runner
            guard let port = runner.address?.port else { throw TemplateSourceError.unavailable("the embedded template provider did not bind") }
            provider = ("127.0.0.1", port, runner.authorityPublicKey)
        } else {
            throw TemplateSourceError.unavailable("no template provider configured")
        }
        let client = TemplateDistributionClient(
            host: provider.host, port: provider.port, authority: provider.key,
            coinbaseOutputMaximumSize: UInt32(settings.rewardScript.count + 9), group: group, logger: logger
        ) { [weak service] event in service?.handle(event) }
        let address = try service.start { [weak client] solution in client?.submit(solution) ?? false }
        self.service = service
        self.client = client
        client.start()
        logger.info("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
        logger.info("block rewards to \(settings.rewardDescription)")
        logger.info("mining on \(address?.hostPortDescription ?? "?") (stratum2+tcp://\(address?.hostPortDescription ?? "?")/\(AuthorityKeyText.encode(authority.xOnlyPublicKey)))")
    }

    /// Accepted shares, work and blocks per user since start.
    public var userStatistics: [String: ShareTally] { service?.userStatistics ?? [:] }

    /// Stops serving miners, disconnects from the template provider and stops the embedded node.
    public func stop() {
        service?.stop()
        client?.stop()
        embedded?.stop()
        logger.info("stopped")
    }
}
