import Logging
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Crypto
import Sv2Ledger
import Sv2MonitoringServer
import Sv2Network
import Sv2Sessions

/// `sv2 pool` put together from its settings: the template provider (an external one, or the embedded regtest
/// node of `sv2 tp` in-process on a loopback port), the Template Distribution client, the share ledger when one is
/// configured, the mining server, the job declarator and the monitoring server when they are configured, as the
/// services of one `ServiceGroup`. They start in that order and shut down in reverse: monitoring and the job
/// declarator first, then the mining server (no new miners, the ledger's pending acknowledgements sent, Reconnect where configured, connections flushed
/// and closed), then the ledger (what it holds committed), then the client, then the embedded node (its chain
/// flushed).
public struct PoolRole: Sendable {
    /// The embedded template provider, when there is no external one.
    public let embedded: TemplateProviderRole?
    /// The link to the template provider.
    public let client: TemplateDistributionClient
    /// The mining server.
    public let server: PoolService
    /// The share ledger, when one is configured.
    public let ledger: ShareLedger?
    /// The monitoring HTTP server, when `monitoring_address` is set.
    public let monitoring: MonitoringServer?
    /// The in-process job declarator, when `jd_listen_address` is set.
    public let declarator: JobDeclaratorService?

    /// The services in start order.
    public var services: [any Service] {
        (embedded?.services ?? []) + [client] + (ledger.map { [$0] } ?? []) + [server] + (declarator.map { [$0] } ?? []) + (monitoring.map { [$0] } ?? [])
    }

    /// Builds the pool; throws a clear error when a part cannot be built. With an `observer`, every connection's
    /// traffic is shown to a copy of it (`sv2 probe --serve` grades clients so).
    public init(
        settings: PoolSettings, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system, observer: (any PoolSessionObserver)? = nil
    ) throws {
        var random = SystemRandom()
        let authority = settings.authoritySecretKey ?? .generate(using: &random)
        if settings.authoritySecretKey == nil { logger.info("no authority key configured: generated one for this run") }
        guard var session = PoolSessionConfiguration(sharesPerMinute: settings.sharesPerMinute, versionRolling: settings.versionRolling) else {
            throw ConfigurationError(key: "shares_per_minute", reason: "\(settings.sharesPerMinute) cannot drive vardiff")
        }
        session.observer = observer
        session.jobTokenKey = settings.jobTokenKey
        session.payoutScript = settings.rewardScript
        let provider: TemplateDistributionClient.Provider
        if let external = settings.templateProvider {
            provider = .init(external, authority: settings.templateProviderKey)
            if settings.templateProviderKey == nil {
                logger.warning("no tp_authority_public_key: the template provider's certificate is not checked")
            }
            embedded = nil
        } else if let embeddedSettings = settings.embedded {
            var providerLogger = logger
            providerLogger[metadataKey: "component"] = "tp"
            let role = try TemplateProviderRole(settings: embeddedSettings, group: group, logger: providerLogger, clock: clock)
            provider = .init(embedded: role)
            embedded = role
        } else {
            throw TemplateSourceError.unavailable("no template provider configured")
        }
        let client = TemplateDistributionClient(
            provider: provider, coinbaseOutputMaximumSize: UInt32(settings.rewardScript.count + 9), group: group, logger: logger)
        self.client = client
        let ledger = settings.ledger.map {
            var ledgerLogger = logger
            ledgerLogger[metadataKey: "component"] = "ledger"
            return ShareLedger(
                configuration: .init(location: $0, serverID: Int(settings.serverID), pendingLimit: settings.ledgerPendingLimit),
                logger: ledgerLogger, clock: clock)
        }
        self.ledger = ledger
        let metrics = RoleMonitoring.metrics(address: settings.monitoringAddress)
        let server = PoolService(
            configuration: .init(
                listen: settings.listen,
                transport: .responder(authority: authority, certificateValidity: settings.certificateValidity, clock: clock),
                session: session, rewardScript: settings.rewardScript, poolSignature: settings.poolSignature,
                shutdownReconnect: settings.shutdownReconnect, authorityPublicKey: authority.xOnlyPublicKey, serverID: settings.serverID),
            group: group, logger: logger, clock: clock, ledger: ledger, metrics: metrics
        ) { solution, sent in client.submit(solution, sent: sent) }
        self.server = server
        monitoring = RoleMonitoring.server(address: settings.monitoringAddress, source: server, metrics: metrics, logger: logger)
        client.onEvent { [weak server] event in server?.handle(event) }
        if let listen = settings.jobDeclaration, let node = embedded?.node, let key = settings.jobTokenKey {
            var declaratorLogger = logger
            declaratorLogger[metadataKey: "component"] = "jn"
            declarator = JobDeclaratorService(
                configuration: .init(
                    listen: listen,
                    transport: .responder(authority: authority, certificateValidity: settings.certificateValidity, clock: clock),
                    session: .init(tokenKey: key, payoutScript: settings.rewardScript)),
                node: EmbeddedDeclaratorNode(node: node), group: group, logger: declaratorLogger, clock: clock)
        } else {
            declarator = nil
        }
        logger.info("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
        logger.info("block rewards to \(settings.rewardDescription)")
    }
}
