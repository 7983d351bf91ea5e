import Logging
import NIOCore
import ServiceLifecycle
import Sv2Crypto
import Sv2Network
import Sv2Sessions

/// `sv2 proxy` put together from its settings: the embedded regtest node as the miner's template provider (a job
/// declarator client without `tp_address`, in-process on a loopback port as in `sv2 pool`), the proxy, and the
/// monitoring server when configured, as the services of one `ServiceGroup` (started in that order, shut down in
/// reverse: the embedded node's chain is flushed last).
public struct ProxyRole: Sendable {
    /// The embedded template provider, when the proxy runs one.
    public let embedded: TemplateProviderRole?
    /// The proxy.
    public let proxy: ProxyService
    /// The services in start order.
    public let services: [any Service]

    /// Builds the proxy signing its certificates with `authority`; throws a clear error when a part cannot be built.
    public init(settings: ProxySettings, authority: Secp256k1SecretKey, group: EventLoopGroup, logger: Logger, clock: Sv2Clock = .system) throws {
        var declaration = settings.jobDeclaration
        if let node = settings.embedded {
            var providerLogger = logger
            providerLogger[metadataKey: "component"] = "tp"
            let role = try TemplateProviderRole(settings: node, group: group, logger: providerLogger, clock: clock)
            logger.warning("""
                no tp_address: templates from the embedded regtest node (datadir \(node.datadir))\
                \(node.follow == nil ? "; it follows no node, so its chain is its own and the pool's declarator will refuse its jobs" : "")
                """)
            declaration?.templateProvider = .init(embedded: role)
            embedded = role
        } else {
            embedded = nil
        }
        let proxy = ProxyService(
            configuration: .init(
                listen: settings.listen,
                transport: .responder(authority: authority, certificateValidity: settings.certificateValidity, clock: clock),
                upstreams: settings.upstreams, sv1Pools: settings.sv1Pools, mode: settings.mode,
                jobDeclaration: declaration, session: settings.session, authorityPublicKey: authority.xOnlyPublicKey),
            group: group, logger: logger, clock: clock)
        self.proxy = proxy
        services = (embedded?.services ?? []) + RoleMonitoring.services(proxy, address: settings.monitoringAddress, logger: logger)
    }
}
