import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import Sv2Crypto
import Sv2Network
import Sv2Node
import Sv2Roles

/// `sv2 tp`: a Template Provider over an embedded regtest node or Bitcoin Core.
struct TemplateProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tp",
        abstract: "Template Provider: block templates over Sv2 from an embedded regtest node or Bitcoin Core.",
        discussion: """
            By default it runs an embedded regtest node (chain kept in --datadir, a transaction generator filling \
            its mempool) and serves Template Distribution (spec 7) over Noise on --listen-address. With --bitcoind \
            it takes templates from Bitcoin Core's getblocktemplate (long polling) and submits blocks with \
            submitblock. --rpc-listen serves Bitcoin Core's JSON-RPC interface for what the embedded node can \
            answer (getblocktemplate, submitblock, getblock, getblockheader, getblockchaininfo, getmininginfo, \
            getrawtransaction, decoderawtransaction, validateaddress and more: see `help`) with a cookie in the \
            datadir or --rpc-user/--rpc-password. --follow http://USER:PASSWORD@HOST:PORT keeps the embedded node, \
            started on a fresh --datadir, on another embedded node's chain (an sv2 tp or sv2 pool with --rpc-listen): \
            every --follow-interval seconds it fetches the blocks it lacks over JSON-RPC and connects them, while its \
            own generator keeps a mempool of its own; it does not reorganise, so a chain the other node does not \
            contain stops the following (logged once). \
            Settings come from \
            --config (TOML, the keys are the long option names with underscores), then SV2_TP_<KEY> environment \
            variables, then these options (each overrides the one before). Without an authority key a fresh one is made and its public key \
            logged. SIGINT or SIGTERM flush the chain and exit 0.
            """
    )

    @Option(help: "TOML configuration file.")
    var config: String?
    @Option(help: "Template Distribution listen HOST:PORT (default 127.0.0.1:8442).", transform: HostPort.argument)
    var listenAddress: HostPort?
    @OptionGroup(title: "Noise identity")
    var identity: AuthorityOptions
    @Flag(help: "Serve plaintext instead of Noise (local testing only).")
    var plaintext = false
    @Option(help: "bitcoind's cookie file (with --bitcoind).")
    var rpcCookie: String?
    @Option(help: "Bitcoin Core's RPC, http://HOST:PORT, instead of the embedded node.")
    var bitcoind: String?
    @OptionGroup(title: "Node and templates")
    var node: EmbeddedNodeOptions
    @OptionGroup(title: "Monitoring")
    var monitoring: MonitoringOptions
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    func run() async throws {
        let settings = try resolveSettings(
            role: "tp", config: config, keys: TemplateProviderSettings.keys,
            options: [
                SettingFlag("listen_address", listenAddress), SettingFlag("rpc_cookie", rpcCookie), SettingFlag("bitcoind", bitcoind),
                SettingFlag("plaintext", plaintext ? true : nil),
            ] + identity.settings + node.settings + monitoring.settings + logging.settings
        ) { layers throws(ConfigurationError) in try TemplateProviderSettings(layers) }
        let logger = settings.log.logger("tp")
        try await runRole(logger: logger) { group in try TemplateProviderRole(settings: settings, group: group, logger: logger).services }
    }
}
