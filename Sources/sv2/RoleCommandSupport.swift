import ArgumentParser
import Dispatch
import Foundation
import Sv2Roles

/// A server's Noise identity options, shared by `sv2 tp` and `sv2 pool`.
struct AuthorityOptions: ParsableArguments {
    @Option(help: "Authority public key (checked against the secret key).")
    var authorityPublicKey: String?
    @Option(help: "Authority secret key that signs the Noise certificates.")
    var authoritySecretKey: String?
    @Option(help: "Certificate validity in seconds (default 3600).")
    var certValiditySec: String?

    /// The options given, by settings key.
    var settings: [(String, String?)] {
        [("authority_public_key", authorityPublicKey), ("authority_secret_key", authoritySecretKey), ("cert_validity_sec", certValiditySec)]
    }
}

/// Options of the embedded regtest node, shared by `sv2 tp` and `sv2 pool` (TOML keys: the names with underscores).
struct EmbeddedNodeOptions: ParsableArguments {
    @Option(help: "Data directory of the embedded regtest node (default ~/.sv2/regtest).")
    var datadir: String?
    @Option(help: "Serve the embedded node's JSON-RPC on this address (default off).")
    var rpcListen: String?
    @Option(help: "RPC user (accepted by --rpc-listen; sv2 tp also sends it to --bitcoind).")
    var rpcUser: String?
    @Option(help: "RPC password, likewise.")
    var rpcPassword: String?
    @Option(help: "Transactions the embedded node's generator adds per second (0 turns it off; default 2).")
    var generationRate: String?
    @Option(help: "Extra fees in satoshis that justify a new template on the same tip (default 1000).")
    var feeDelta: String?
    @Option(help: "Minimum seconds between two templates on the same tip (default 30).")
    var templateInterval: String?

    /// The options given, by settings key.
    var settings: [(String, String?)] {
        [
            ("datadir", datadir), ("rpc_listen", rpcListen), ("rpc_user", rpcUser), ("rpc_password", rpcPassword),
            ("generation_rate", generationRate), ("fee_delta", feeDelta), ("template_interval", templateInterval),
        ]
    }
}

/// Resolves a role's settings from its three layers: the TOML file `config`, the `options` given on the command line
/// (key and value; nil means not given) and the `SV2_<ROLE>_<KEY>` environment; a bad value is a ``CommandFailure``
/// naming the key and where it came from.
func resolveSettings<Settings>(
    role: String, config: String?, keys: Set<String>, options: [(String, String?)],
    _ make: (ConfigurationLayers) throws(ConfigurationError) -> Settings
) throws -> Settings {
    var flags = [String: String]()
    for (key, value) in options { if let value { flags[key] = value } }
    do {
        return try make(ConfigurationLayers(role: role, configPath: config, flags: flags, knownKeys: keys))
    } catch {
        throw CommandFailure("configuration: \(error)")
    }
}

/// Blocks until SIGINT or SIGTERM, or until something else signals `done`.
func waitForTermination(log: Sv2Log, or done: DispatchSemaphore = DispatchSemaphore(value: 0)) {
    var sources = [DispatchSourceSignal]()
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler {
            log(.info, "signal \(signalNumber == SIGINT ? "SIGINT" : "SIGTERM"): shutting down")
            done.signal()
        }
        source.resume()
        sources.append(source)
    }
    done.wait()
    for source in sources { source.cancel() }
}
