import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import Sv2Ledger
import Sv2Roles

/// `sv2 pool`: a Stratum V2 pool over an external template provider or the embedded regtest node.
struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Sv2 pool: standard, extended and group channels, vardiff, share validation, blocks to the template provider.",
        discussion: """
            Miners connect over Noise on --listen-address (default 0.0.0.0:3333); the URL to give them, \
            stratum2+tcp://HOST:PORT/<authority public key>, is logged at start. Templates come from --tp-address \
            (an sv2 tp or Bitcoin Core's template provider; --tp-authority-public-key checks its certificate) or, \
            without it, from the embedded regtest node of `sv2 tp` run in-process (--datadir, --rpc-listen, \
            --generation-rate as for sv2 tp), so `sv2 pool` alone mines a regtest chain. With --tp-address, \
            --authority-secret-key and --coinbase-reward-script (an address or an addr()/raw() descriptor) are \
            required; on the embedded node a missing authority key is generated for the run and rewards go to the \
            node's anyone-can-spend script. Channel targets aim at --shares-per-minute through vardiff. Settings \
            come from --config (TOML, keys are the long option names with underscores, as in SRI's pool config), \
            then SV2_POOL_<KEY> environment variables, then these options (each overrides the one before). \
            With --ledger (sqlite:PATH or postgresql://USER:PASS@HOST:PORT/DB; by default sqlite:DATADIR/ledger.sqlite \
            when --datadir is given; none turns it off) every accepted share, block, refused-share count and \
            connection is recorded, and a share's SubmitShares.Success is sent only once the ledger has committed it; \
            several instances with different --server-id values may share one PostgreSQL ledger. `sv2 pool stats` \
            reports from it. With --jd-token-key (a key shared with the job declarator) the pool accepts \
            REQUIRES_WORK_SELECTION and SetCustomMiningJob on extended channels when the key authenticates the mining \
            job token (an allocation token for the channel's user, or a declared-job token for the pool's tip and the \
            job's merkle path), the job is on the pool's tip and its coinbase pays the reward script; shares on custom \
            jobs are validated like any other, and blocks on them are the miner's to propagate. --jd-listen-address runs \
            the job declarator of `sv2 jn` in-process on the embedded node, with the pool's reward script and token key \
            (one drawn for the run when --jd-token-key is not given). --monitoring-address serves SRI's monitoring JSON API (/api/v1/…, each miner connection \
            a client) and Prometheus metrics (/metrics). SIGINT or SIGTERM log the per-user statistics and exit 0.
            """,
        subcommands: [PoolStatsCommand.self]
    )

    @Option(help: "TOML configuration file.")
    var config: String?
    @Option(help: "HOST:PORT miners connect to (default 0.0.0.0:3333).", transform: HostPort.argument)
    var listenAddress: HostPort?
    @OptionGroup(title: "Noise identity")
    var identity: AuthorityOptions
    @Option(help: "Where block rewards go: an address or an addr()/raw() descriptor.")
    var coinbaseRewardScript: String?
    @Option(help: "The pool's tag in the coinbase (default sv2).")
    var poolSignature: String?
    @Option(help: "Shares per minute each channel aims at (default 6).")
    var sharesPerMinute: Double?
    @Option(help: "Template provider HOST:PORT (default: the embedded regtest node in-process).", transform: HostPort.argument)
    var tpAddress: HostPort?
    @Option(help: "The template provider's authority public key.")
    var tpAuthorityPublicKey: String?
    @Option(help: "Allow version rolling: true or false (default true).")
    var versionRolling: Bool?
    @Option(help: "On shutdown, send miners to this HOST:PORT (Reconnect) instead of just closing (default off).", transform: HostPort.argument)
    var shutdownReconnectAddress: HostPort?
    @Option(help: "Share ledger: sqlite:PATH, postgresql://USER:PASS@HOST:PORT/DB or none (default sqlite:DATADIR/ledger.sqlite with --datadir).")
    var ledger: String?
    @Option(help: "This instance's id among pools sharing a ledger, 0-65535 (default 0).")
    var serverId: Int?
    @Option(help: "Unwritten shares held at most while the ledger's database fails (default 1000000).")
    var ledgerPendingLimit: Int?
    @Option(help: "Take custom jobs (SetCustomMiningJob) whose mining job tokens this key, shared with the job declarator, authenticates (32 bytes as hex; default off).")
    var jdTokenKey: String?
    @Option(help: "Run the job declarator (sv2 jn) in-process on the embedded node at HOST:PORT, sharing the token key and reward script (default off).", transform: HostPort.argument)
    var jdListenAddress: HostPort?
    @OptionGroup(title: "Node and templates")
    var node: EmbeddedNodeOptions
    @OptionGroup(title: "Monitoring")
    var monitoring: MonitoringOptions
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    /// Every flag given, as the setting it sets.
    private var settingFlags: [SettingFlag] {
        [
            SettingFlag("listen_address", listenAddress), SettingFlag("coinbase_reward_script", coinbaseRewardScript),
            SettingFlag("pool_signature", poolSignature), SettingFlag("shares_per_minute", sharesPerMinute),
            SettingFlag("tp_address", tpAddress), SettingFlag("tp_authority_public_key", tpAuthorityPublicKey),
            SettingFlag("version_rolling", versionRolling), SettingFlag("shutdown_reconnect_address", shutdownReconnectAddress),
            SettingFlag("ledger", ledger), SettingFlag("server_id", serverId), SettingFlag("ledger_pending_limit", ledgerPendingLimit),
            SettingFlag("jd_token_key", jdTokenKey), SettingFlag("jd_listen_address", jdListenAddress),
        ] + identity.settings + node.settings + monitoring.settings + logging.settings
    }

    /// The ledger these flags, the configuration file and the environment name (for `sv2 pool stats`).
    func ledgerLocation() throws -> LedgerLocation? {
        try resolveSettings(role: "pool", config: config, keys: PoolSettings.keys, options: settingFlags) { layers throws(ConfigurationError) in
            try PoolSettings.ledgerLocation(layers)
        }
    }

    func run() async throws {
        let settings = try resolveSettings(
            role: "pool", config: config, keys: PoolSettings.keys, options: settingFlags
        ) { layers throws(ConfigurationError) in try PoolSettings(layers) }
        let logger = settings.log.logger("pool")
        try await runRole(logger: logger) { group in try PoolRole(settings: settings, group: group, logger: logger).services }
    }
}
