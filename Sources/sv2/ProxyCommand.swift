import ArgumentParser
import Logging
import Sv2Crypto
import Sv2Network
import Sv2Roles

/// `sv2 proxy`: Sv2 devices to Sv2 pools through one upstream connection.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Mining proxy: many Sv2 devices downstream, one connection with group or extended channels upstream.",
        discussion: """
            Sv2 devices connect over Noise on --listen-address (default 0.0.0.0:34254); the proxy's authority key \
            signs its certificates (generated for the run and logged when none is given). Upstream it connects to the \
            first reachable pool of --upstream stratum2+tcp://HOST:PORT/<authority public key> (repeat it, in order \
            of preference) or of [[upstreams]] in the TOML file (address, port, authority_pubkey, user_identity). \
            --channel-mode group (the default) opens each device's channel upstream on the one connection, so the \
            pool sees every device and its user_identity and sends each job once to the group; the proxy derives \
            every standard channel's NewMiningJob. --channel-mode aggregate opens one extended channel upstream: \
            devices get extranonce prefixes inside it and their own targets (vardiff towards --shares-per-minute); \
            the proxy answers their shares and forwards those that meet the upstream target. When the pool goes \
            away the devices stay connected and get fresh jobs once a pool is back. With --upstream \
            stratum+tcp://HOST:PORT (a Stratum V1 pool; repeat for failover) the proxy serves Sv2 standard channels in \
            front of it: one Stratum V1 session per device user identity (mining.configure, subscribe, authorize as \
            that user, or --upstream-user when it gives none; mining.suggest_difficulty from the channel's hash rate), \
            channels of one user sharing it with their own extranonce2; mining.notify becomes each channel's \
            NewMiningJob, set_difficulty SetTarget, and the pool's answer to each mining.submit the device's \
            SubmitShares.Success or .Error. With --jd-address HOST:PORT/<key> (the pool's job declarator, sv2 jn) the \
            proxy is a job declarator client: it builds jobs from its own template provider (--tp-address, e.g. an \
            sv2 tp following the pool's node; without it the embedded regtest node of sv2 tp runs in-process, datadir \
            ~/.sv2/proxy-regtest, with --follow to keep it on the pool's chain), declares them (--jd-mode full-template, the default, with \
            ProvideMissingTransactions answered; or coinbase-only) and sets them on an extended channel of the pool \
            with SetCustomMiningJob; devices mine them as in aggregate mode, shares meeting the pool channel's target \
            go to the pool, blocks to the template provider (SubmitSolution) and the declarator (PushSolution). Give one \
            --jd-address per --upstream (in their order) or one for all; a declarator unreachable twice in a row moves \
            the proxy to the next pool and its declarator. While the pool or the declarator is away it mines solo on its own \
            templates, paying --coinbase-reward-script, and says so in its log; it returns to the pool when both are \
            back. Settings: --config, then \
            SV2_PROXY_<KEY> environment variables, then these options (each overrides the one before). SIGINT or \
            SIGTERM exit 0.
            """
    )

    @Option(help: "TOML configuration file.")
    var config: String?
    @Option(
        name: [.customLong("listen-address"), .customLong("listen")], help: "HOST:PORT devices connect to (default 0.0.0.0:34254).",
        transform: HostPort.argument)
    var listenAddress: HostPort?
    @OptionGroup(title: "Noise identity")
    var identity: AuthorityOptions
    @Option(help: "A pool, stratum2+tcp://HOST:PORT/<authority public key>; repeat in order of preference.")
    var upstream: [String] = []
    @Option(help: "user_identity of the upstream channel in aggregate mode (default sv2-proxy).")
    var userIdentity: String?
    @Option(help: "With stratum+tcp:// pools: the user name for channels that give no user_identity (default sv2-proxy).")
    var upstreamUser: String?
    @Option(help: "With stratum+tcp:// pools: the password of mining.authorize (default x).")
    var upstreamPassword: String?
    @Option(help: "group (default): each device channel upstream, grouped by the pool; aggregate: one extended channel.")
    var channelMode: String?
    @Option(help: "Aggregate mode: shares per minute each device's target aims at (default 6).")
    var sharesPerMinute: Double?
    @Option(help: "Aggregate mode: extranonce bytes the devices share inside the upstream channel (8-32, default 16).")
    var downstreamExtranonceSize: Int?
    @Option(help: "The pool's job declarator, HOST:PORT/<authority public key>: mine own templates as custom jobs (default off); one per --upstream in their order, or one for all.")
    var jdAddress: [String] = []
    @Option(help: "With --jd-address: full-template (default) or coinbase-only.")
    var jdMode: String?
    @Option(help: "With --jd-address: the miner's template provider HOST:PORT (default: the embedded regtest node).", transform: HostPort.argument)
    var tpAddress: HostPort?
    @Option(help: "With --jd-address: the template provider's authority public key.")
    var tpAuthorityPublicKey: String?
    @Option(help: "With --jd-address: where solo blocks pay (an address or an addr()/raw() descriptor).")
    var coinbaseRewardScript: String?
    @Option(help: "With --jd-address: the hash rate announced on the pool's channel (default 1e12).")
    var nominalHashrate: Double?
    @OptionGroup(title: "Embedded regtest node (with --jd-address and no --tp-address)")
    var node: EmbeddedNodeOptions
    @OptionGroup(title: "Monitoring")
    var monitoring: MonitoringOptions
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    func run() async throws {
        let settings = try resolveSettings(
            role: "proxy", config: config, keys: ProxySettings.keys,
            options: [
                SettingFlag("listen_address", listenAddress), SettingFlag("upstream", upstream.isEmpty ? nil : upstream),
                SettingFlag("user_identity", userIdentity), SettingFlag("channel_mode", channelMode),
                SettingFlag("upstream_user", upstreamUser), SettingFlag("upstream_password", upstreamPassword),
                SettingFlag("shares_per_minute", sharesPerMinute), SettingFlag("downstream_extranonce_size", downstreamExtranonceSize),
                SettingFlag("jd_address", jdAddress.isEmpty ? nil : jdAddress), SettingFlag("jd_mode", jdMode), SettingFlag("tp_address", tpAddress),
                SettingFlag("tp_authority_public_key", tpAuthorityPublicKey), SettingFlag("coinbase_reward_script", coinbaseRewardScript),
                SettingFlag("nominal_hashrate", nominalHashrate),
            ] + identity.settings + node.settings + monitoring.settings + logging.settings
        ) { layers throws(ConfigurationError) in try ProxySettings(layers) }
        let logger = settings.log.logger("proxy")
        var random = SystemRandom()
        let authority = settings.authoritySecretKey ?? .generate(using: &random)
        if settings.authoritySecretKey == nil { logger.info("no authority key configured: generated one for this run") }
        logger.info("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
        try await runRole(logger: logger) { group in
            try ProxyRole(settings: settings, authority: authority, group: group, logger: logger).services
        }
    }
}
