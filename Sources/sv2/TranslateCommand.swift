import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import Sv2Roles

/// `sv2 translate`: Stratum V1 mining devices to Sv2 pools.
struct TranslateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translator: Stratum V1 firmware downstream, Sv2 extended channels upstream.",
        discussion: """
            Sv1 miners connect on --listen-address (default 0.0.0.0:34255) and speak mining.subscribe, \
            mining.authorize, mining.configure (BIP310 version rolling, minimum-difficulty), mining.submit, \
            mining.suggest_difficulty and mining.extranonce.subscribe. Upstream the translator opens one extended \
            channel (aggregated mode; --aggregate-channels false opens one per miner, each on its own connection) on \
            the first reachable pool of --upstream \
            stratum2+tcp://HOST:PORT/<authority public key> (repeat it, in order of preference) or of [[upstreams]] \
            in the TOML file (address, port, authority_pubkey, user_identity). Every miner gets its own extranonce1 \
            inside that channel's extranonce and its own difficulty (vardiff towards --shares-per-minute, within \
            --min-difficulty/--max-difficulty, --pow2-difficulty for old firmware); shares that meet the upstream \
            target are forwarded, the rest are acknowledged locally. When the pool goes away the miners stay \
            connected and get clean jobs once a channel is open again. Settings: --config, then SV2_TRANSLATE_<KEY> \
            environment variables, then these options (each overrides the one before). --monitoring-address serves \
            SRI's monitoring JSON API (the upstream channels as its server, every miner as an Sv1 client) and \
            Prometheus metrics (/metrics). SIGINT or SIGTERM exit 0.
            """
    )

    @Option(help: "TOML configuration file.")
    var config: String?
    @Option(
        name: [.customLong("listen-address"), .customLong("listen")], help: "HOST:PORT Sv1 miners connect to (default 0.0.0.0:34255).",
        transform: HostPort.argument)
    var listenAddress: HostPort?
    @Option(help: "A pool, stratum2+tcp://HOST:PORT/<authority public key>; repeat in order of preference.")
    var upstream: [String] = []
    @Option(help: "user_identity of the upstream channel (default sv2-translator).")
    var userIdentity: String?
    @Option(help: "true: one upstream channel for all miners (default); false: one per miner.")
    var aggregateChannels: Bool?
    @Option(help: "Bytes of extranonce2 each miner rolls (default 4; cgminer takes at most 8).")
    var downstreamExtranonce2Size: Int?
    @Option(help: "Shares per minute each miner's difficulty aims at (default 6).")
    var sharesPerMinute: Double?
    @Option(help: "Difficulty a miner starts at (default 1).")
    var initialDifficulty: Double?
    @Option(help: "Lowest difficulty (default 1e-8).")
    var minDifficulty: Double?
    @Option(help: "Highest difficulty (default 1e15).")
    var maxDifficulty: Double?
    @Flag(help: "Round difficulties down to powers of two (old firmware).")
    var pow2Difficulty = false
    @Option(help: "Seconds without a new job before the current one gets a fresh ntime (default 60).")
    var jobKeepaliveIntervalSecs: Double?
    @Option(help: "Longest line a miner may send, in bytes (default 16384).")
    var maxLineLength: Int?
    @Option(help: "Most miners connected at once (default 100000).")
    var maxClients: Int?
    @OptionGroup(title: "Monitoring")
    var monitoring: MonitoringOptions
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    func run() async throws {
        let settings = try resolveSettings(
            role: "translate", config: config, keys: TranslatorSettings.keys,
            options: [
                SettingFlag("listen_address", listenAddress), SettingFlag("upstream", upstream.isEmpty ? nil : upstream),
                SettingFlag("user_identity", userIdentity), SettingFlag("aggregate_channels", aggregateChannels),
                SettingFlag("downstream_extranonce2_size", downstreamExtranonce2Size), SettingFlag("shares_per_minute", sharesPerMinute),
                SettingFlag("initial_difficulty", initialDifficulty), SettingFlag("min_difficulty", minDifficulty),
                SettingFlag("max_difficulty", maxDifficulty), SettingFlag("pow2_difficulty", pow2Difficulty ? true : nil),
                SettingFlag("job_keepalive_interval_secs", jobKeepaliveIntervalSecs), SettingFlag("max_line_length", maxLineLength),
                SettingFlag("max_clients", maxClients),
            ] + monitoring.settings + logging.settings
        ) { layers throws(ConfigurationError) in try TranslatorSettings(layers) }
        let logger = settings.log.logger("translate")
        try await runRole(logger: logger) { group in
            let metrics = RoleMonitoring.metrics(address: settings.monitoringAddress)
            let translator = TranslatorService(
                configuration: .init(
                    listen: settings.listen, upstreams: settings.upstreams, aggregate: settings.aggregate, downstream: settings.downstream,
                    maximumLineLength: settings.maximumLineLength, maximumClients: settings.maximumClients, jobKeepalive: settings.jobKeepalive),
                group: group, logger: logger, metrics: metrics)
            return RoleMonitoring.services(translator, address: settings.monitoringAddress, metrics: metrics, logger: logger)
        }
    }
}
