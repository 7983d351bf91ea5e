import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Sv2Formats
import Sv2Roles
import UnixSignals

/// A server's Noise identity options, shared by `sv2 tp` and `sv2 pool`.
struct AuthorityOptions: ParsableArguments {
    @Option(help: "Authority public key (checked against the secret key).")
    var authorityPublicKey: String?
    @Option(help: "Authority secret key that signs the Noise certificates.")
    var authoritySecretKey: String?
    @Option(help: "Certificate validity in seconds (default 3600).")
    var certValiditySec: Int?

    /// The options given, by settings key.
    var settings: [SettingFlag] {
        [
            SettingFlag("authority_public_key", authorityPublicKey), SettingFlag("authority_secret_key", authoritySecretKey),
            SettingFlag("cert_validity_sec", certValiditySec),
        ]
    }
}

/// Logging options shared by every role.
struct LoggingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Lowest level logged (default info).", valueName: "level"))
    var logLevel: Logger.Level?
    @Option(help: ArgumentHelp("Log lines as text (default) or json (one object per line).", valueName: "format"))
    var logFormat: LogFormat?

    /// The options given, by settings key.
    var settings: [SettingFlag] {
        [SettingFlag("log_level", logLevel?.rawValue), SettingFlag("log_format", logFormat?.rawValue)]
    }
}

/// The monitoring option every serving role shares (TOML key `monitoring_address`).
struct MonitoringOptions: ParsableArguments {
    @Option(
        help: "Serve SRI's monitoring API and Prometheus metrics (/metrics) over HTTP on this HOST:PORT (default off).",
        transform: HostPort.argument)
    var monitoringAddress: HostPort?

    /// The option given, by settings key.
    var settings: [SettingFlag] { [SettingFlag("monitoring_address", monitoringAddress)] }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

/// Options of the embedded regtest node, shared by `sv2 tp`, `sv2 pool` and `sv2 proxy` (TOML keys: the names with
/// underscores).
struct EmbeddedNodeOptions: ParsableArguments {
    @Option(help: "Data directory of the embedded regtest node (default ~/.sv2/regtest; for sv2 proxy ~/.sv2/proxy-regtest).")
    var datadir: String?
    @Option(help: "Serve the embedded node's JSON-RPC on this HOST:PORT (default off).", transform: HostPort.argument)
    var rpcListen: HostPort?
    @Option(help: "RPC user (accepted by --rpc-listen; sv2 tp also sends it to --bitcoind).")
    var rpcUser: String?
    @Option(help: "RPC password, likewise.")
    var rpcPassword: String?
    @Option(help: "Transactions the embedded node's generator adds per second (0 turns it off; default 2).")
    var generationRate: Int?
    @Option(help: "Extra fees in satoshis that justify a new template on the same tip (default 1000).")
    var feeDelta: UInt64?
    @Option(help: "Minimum seconds between two templates on the same tip (default 30).")
    var templateInterval: Double?
    @Option(help: "Keep the embedded node on another node's chain: its JSON-RPC, http://USER:PASSWORD@HOST:PORT.")
    var follow: String?
    @Option(help: "Seconds between two looks at the followed node's chain (default 1).")
    var followInterval: Double?

    /// The options given, by settings key.
    var settings: [SettingFlag] {
        [
            SettingFlag("datadir", datadir), SettingFlag("rpc_listen", rpcListen), SettingFlag("rpc_user", rpcUser),
            SettingFlag("rpc_password", rpcPassword), SettingFlag("generation_rate", generationRate), SettingFlag("fee_delta", feeDelta),
            SettingFlag("template_interval", templateInterval), SettingFlag("follow", follow), SettingFlag("follow_interval", followInterval),
        ]
    }
}

/// Resolves a role's settings from its three layers: the TOML file `config`, the `SV2_<ROLE>_<KEY>` environment and
/// the `options` given on the command line (which win); a bad value is a ``CommandFailure`` naming the flag, the
/// variable or the file key it came from.
func resolveSettings<Settings>(
    role: String, config: String?, keys: Set<String>, options: [SettingFlag],
    _ make: (ConfigurationLayers) throws(ConfigurationError) -> Settings
) throws -> Settings {
    var flags = [String: TOMLValue]()
    for option in options { if let value = option.value { flags[option.key] = value } }
    do {
        return try make(ConfigurationLayers(role: role, configPath: config, flags: flags, knownKeys: keys))
    } catch {
        throw CommandFailure("configuration: \(error)")
    }
}

/// Builds a role's services on a new event loop group (`threads` loops) with `make`, then runs them in one
/// `ServiceGroup` until SIGINT or SIGTERM (logged), shuts them down in reverse order, then the event loops; a
/// service that fails, or a role that cannot be built, is an error naming why.
func runRole(
    threads: Int = System.coreCount, logger: Logger, _ make: (MultiThreadedEventLoopGroup) throws -> [any Service]
) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    let services: [any Service]
    do {
        services = try make(group)
    } catch {
        try? await group.shutdownGracefully()
        throw CommandFailure("\(error)")
    }
    let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
        services: services.map {
            .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        },
        logger: logger))
    let signals = Task {
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            logger.info("signal \(signal): shutting down")
            await serviceGroup.triggerGracefulShutdown()
            return
        }
    }
    defer { signals.cancel() }
    do {
        try await withCleanup { try await serviceGroup.run() } cleanup: { try? await group.shutdownGracefully() }
    } catch {
        throw CommandFailure("\(error)")
    }
}

