import Logging
import Sv2Channels
import Sv2Crypto
import Sv2Network

/// The settings of `sv2 proxy`, resolved from its configuration layers (TOML file, `SV2_PROXY_*` environment,
/// flags). Key names follow SRI's roles where they exist.
public struct ProxySettings: Sendable {
    /// Every key `sv2 proxy` understands.
    public static let keys = Set<String>([
        "listen_address", "authority_public_key", "authority_secret_key", "cert_validity_sec", "upstream", "upstreams",
        "user_identity", "channel_mode", "shares_per_minute", "downstream_extranonce_size", "upstream_user", "upstream_password",
        "jd_address", "jd_mode", "tp_address", "tp_authority_public_key", "coinbase_reward_script", "nominal_hashrate",
    ]).union(embeddedNodeKeys).union(LogSettings.keys).union(RoleMonitoring.keys)
    /// The keys of the embedded regtest node, run as the miner's template provider with `jd_address` and no
    /// `tp_address`.
    static let embeddedNodeKeys: Set<String> = [
        "datadir", "rpc_listen", "rpc_user", "rpc_password", "generation_rate", "fee_delta", "template_interval", "follow", "follow_interval",
    ]

    /// Where devices connect (default 0.0.0.0:34254).
    public var listen: HostPort
    /// The key the proxy's certificates are signed with; nil means a fresh one for this run.
    public var authoritySecretKey: Secp256k1SecretKey?
    /// Certificate validity in seconds (default 3600).
    public var certificateValidity: UInt32
    /// Sv2 pools in order of preference (empty with Stratum V1 pools).
    public var upstreams: [UpstreamPool]
    /// Stratum V1 pools (`stratum+tcp://`, nil with Sv2 pools), with the login defaults `upstream_user` (sv2-proxy)
    /// and `upstream_password` (x).
    public var sv1Pools: ProxyService.Sv1Pools?
    /// Group (default) or aggregate.
    public var mode: ProxyService.Mode
    /// Aggregate mode: the devices' channels (shares per minute, default 6; extranonce bytes, default 16).
    public var session: PoolSessionConfiguration
    /// As a job declarator client (`jd_address` with `coinbase_reward_script`); nil otherwise. With ``embedded``,
    /// ``ProxyRole`` points its template provider at the node it runs.
    public var jobDeclaration: ProxyService.JobDeclaration?
    /// The embedded regtest node as the miner's template provider (`jd_address` without `tp_address`; its datadir
    /// defaults to ~/.sv2/proxy-regtest); nil otherwise.
    public var embedded: TemplateProviderSettings?
    /// Log level and format.
    public var log: LogSettings
    /// Where the monitoring HTTP server listens (`monitoring_address`); nil: off.
    public var monitoringAddress: HostPort?

    /// Resolves every setting, with a clear error for the first bad one.
    public init(_ layers: ConfigurationLayers) throws(ConfigurationError) {
        listen = try layers.hostPort("listen_address") ?? HostPort(host: "0.0.0.0", port: 34254)
        authoritySecretKey = try layers.authoritySecretKey()
        certificateValidity = UInt32(try layers.integer("cert_validity_sec", in: 1...Int64(UInt32.max)) ?? 3600)
        let texts = try layers.strings("upstream") ?? []
        let sv1 = texts.filter { $0.hasPrefix(HostPort.stratumV1Scheme) }
        if sv1.isEmpty {
            upstreams = try layers.upstreamPools(user: try layers.string("user_identity") ?? "sv2-proxy")
            sv1Pools = nil
        } else {
            guard sv1.count == texts.count else {
                throw layers.error("upstream", "mixes stratum+tcp:// (Stratum V1) and stratum2+tcp:// (Stratum V2) pools")
            }
            var endpoints = [HostPort]()
            for text in sv1 {
                guard let endpoint = HostPort(stratumV1URL: text) else { throw layers.error("upstream", "\(text) is not stratum+tcp://HOST:PORT") }
                endpoints.append(endpoint)
            }
            upstreams = []
            sv1Pools = ProxyService.Sv1Pools(
                endpoints: endpoints, user: try layers.string("upstream_user") ?? "sv2-proxy", password: try layers.string("upstream_password") ?? "x")
        }
        let modeText = try layers.string("channel_mode") ?? ProxyService.Mode.group.rawValue
        guard let mode = ProxyService.Mode(rawValue: modeText) else {
            throw layers.error("channel_mode", "expected group or aggregate, got \"\(modeText)\"")
        }
        self.mode = mode
        let sharesPerMinute = try layers.number("shares_per_minute", in: 0.001...6000) ?? 6
        let extranonceSize = Int(try layers.integer("downstream_extranonce_size", in: 8...32) ?? 16)
        guard let session = PoolSessionConfiguration(sharesPerMinute: sharesPerMinute, extranonceLength: extranonceSize) else {
            throw layers.error("shares_per_minute", "\(sharesPerMinute) cannot drive vardiff")
        }
        self.session = session
        jobDeclaration = try Self.jobDeclaration(layers, upstreams: upstreams)
        if jobDeclaration != nil, !layers.isSet("tp_address") {
            if layers.isSet("tp_authority_public_key") {
                throw layers.error("tp_authority_public_key", "is the key of tp_address, which is not given (the embedded node needs none)")
            }
            embedded = try TemplateProviderSettings(layers, embedded: true, defaultDatadir: "proxy-regtest")
        } else {
            if let key = Self.embeddedNodeKeys.sorted().first(where: layers.isSet) {
                throw layers.error(key, "sets the embedded node, which runs only with jd_address and no tp_address")
            }
            embedded = nil
        }
        log = try layers.logSettings()
        monitoringAddress = try layers.hostPort("monitoring_address")
    }

    /// The job declarator client's settings, when `jd_address` is given (one per pool in their order, or one for
    /// all): `coinbase_reward_script` is then required, and the pools must be Stratum V2 ones. Without `tp_address`
    /// the template provider is the embedded node's, set by ``ProxyRole``.
    private static func jobDeclaration(_ layers: ConfigurationLayers, upstreams: [UpstreamPool]) throws(ConfigurationError) -> ProxyService.JobDeclaration? {
        guard let texts = try layers.strings("jd_address"), !texts.isEmpty else { return nil }
        guard !upstreams.isEmpty else { throw layers.error("jd_address", "needs Stratum V2 pools (stratum2+tcp://) upstream") }
        guard texts.count == 1 || texts.count == upstreams.count else {
            throw layers.error("jd_address", "give one for every pool, in the order of the pools (\(upstreams.count)), or one for all")
        }
        var declarators = [UpstreamPool]()
        for (index, upstream) in upstreams.enumerated() {
            let text = texts[texts.count == 1 ? 0 : index]
            let url: Sv2PoolURL
            do {
                url = try Sv2PoolURL(text.hasPrefix("stratum2+tcp://") ? text : "stratum2+tcp://" + text)
            } catch {
                throw layers.error("jd_address", error.description)
            }
            guard let key = url.authorityKey else { throw layers.error("jd_address", "\(text) has no authority public key (HOST:PORT/<key>)") }
            declarators.append(UpstreamPool(host: url.host, port: url.port, authority: key, userIdentity: upstream.userIdentity))
        }
        let templateProvider = try layers.hostPort("tp_address")
        let templateProviderKey = try layers.publicKey("tp_authority_public_key")
        guard let scriptText = try layers.string("coinbase_reward_script") else {
            throw ConfigurationError(key: "coinbase_reward_script", reason: "required with jd_address: where solo blocks pay when the pool is away")
        }
        let modeText = try layers.string("jd_mode") ?? JobDeclaratorClient.Mode.fullTemplate.rawValue
        guard let mode = JobDeclaratorClient.Mode(rawValue: modeText) else {
            throw layers.error("jd_mode", "expected full-template or coinbase-only, got \"\(modeText)\"")
        }
        let provider = templateProvider.map { TemplateDistributionClient.Provider($0, authority: templateProviderKey) }
        return ProxyService.JobDeclaration(
            templateProvider: provider ?? .embeddedNotRunning, declarators: declarators, mode: mode,
            soloScript: try PoolSettings.script(scriptText, layers: layers),
            nominalHashRate: Float(try layers.number("nominal_hashrate", in: 0...1e21) ?? 1e12), coinbaseOutputMaximumSize: 512)
    }
}
