import ArgumentParser
import Logging
import Sv2Roles

/// `sv2 jn`: the pool's Job Declarator Server.
struct JobDeclaratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jn",
        abstract: "Job Declarator Server (spec 6): mining job tokens and declared jobs for a pool's customers.",
        discussion: """
            Job declarator clients (a miner's sv2 proxy --jd-address, SRI's jd-client) connect over Noise on \
            --listen-address (default 0.0.0.0:34264). AllocateMiningJobToken gets a token and the pool's payout \
            output (--coinbase-reward-script, the pool's own). DeclareMiningJob (full-template mode) is checked: the \
            token, a coinbase that pays the payout output, the wtxids against the node's mempool (unknown ones are \
            asked for with ProvideMissingTransactions, positions counted without the coinbase, and checked against \
            their wtxids), then the block the job makes, on the node's tip, as a getblocktemplate proposal. \
            DeclareMiningJob.Success carries a token for SetCustomMiningJob that commits to the tip, merkle path and \
            outputs. PushSolution is assembled with the most recent declared job whose target it meets and submitted. \
            Tokens are HMACs under --jd-token-key, the key given to sv2 pool --jd-token-key, so the pool checks them \
            without asking; they expire after --token-lifetime seconds. The node is the pool's: --bitcoind \
            http://USER:PASSWORD@HOST:PORT (Bitcoin Core, or an sv2 tp or sv2 pool with --rpc-listen), or \
            http://HOST:PORT with --rpc-cookie. sv2 pool --jd-listen-address runs the same server in-process on its \
            embedded node. Settings come from --config (TOML, the keys are the long option names with underscores), \
            then SV2_JN_<KEY> environment variables, then these options (each overrides the one before). SIGINT or \
            SIGTERM exit 0.
            """
    )

    @Option(help: "TOML configuration file.")
    var config: String?
    @Option(help: "HOST:PORT job declarator clients connect to (default 0.0.0.0:34264).", transform: HostPort.argument)
    var listenAddress: HostPort?
    @OptionGroup(title: "Noise identity")
    var identity: AuthorityOptions
    @Option(help: "The pool's payout address or addr()/raw() descriptor.")
    var coinbaseRewardScript: String?
    @Option(help: "The key tokens are made with, shared with sv2 pool --jd-token-key (32 bytes as hex).")
    var jdTokenKey: String?
    @Option(help: "The pool's node's JSON-RPC: http://USER:PASSWORD@HOST:PORT, or http://HOST:PORT with --rpc-cookie.")
    var bitcoind: String?
    @Option(help: "The node's cookie file (with --bitcoind http://HOST:PORT).")
    var rpcCookie: String?
    @Option(help: "Seconds a token stays valid, 10-86400 (default 600).")
    var tokenLifetime: Int?
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    func run() async throws {
        let settings = try resolveSettings(
            role: "jn", config: config, keys: JobDeclaratorSettings.keys,
            options: [
                SettingFlag("listen_address", listenAddress), SettingFlag("coinbase_reward_script", coinbaseRewardScript),
                SettingFlag("jd_token_key", jdTokenKey), SettingFlag("bitcoind", bitcoind), SettingFlag("rpc_cookie", rpcCookie),
                SettingFlag("token_lifetime", tokenLifetime),
            ] + identity.settings + logging.settings
        ) { layers throws(ConfigurationError) in try JobDeclaratorSettings(layers) }
        let logger = settings.log.logger("jn")
        try await runRole(logger: logger) { group in try JobDeclaratorRole(settings: settings, group: group, logger: logger).services }
    }
}
