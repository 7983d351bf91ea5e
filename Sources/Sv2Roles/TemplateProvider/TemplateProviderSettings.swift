import Foundation
import Logging
import Sv2Crypto

/// The settings of `sv2 tp`, resolved from its configuration layers (TOML file, flags, `SV2_TP_*` environment).
public struct TemplateProviderSettings: Sendable {
    /// Every key `sv2 tp` understands (TOML key = flag without dashes, with underscores).
    public static let keys = Set<String>([
        "listen_address", "authority_public_key", "authority_secret_key", "cert_validity_sec", "plaintext", "datadir",
        "rpc_listen", "rpc_user", "rpc_password", "rpc_cookie", "bitcoind", "generation_rate", "fee_delta",
        "template_interval", "follow", "follow_interval",
    ]).union(LogSettings.keys).union(RoleMonitoring.keys)

    /// Where the Template Distribution server listens (default 127.0.0.1:8442).
    public var listen: HostPort
    /// The authority key certificates are signed with; nil means a fresh one for this run (its public key is logged).
    public var authoritySecretKey: Secp256k1SecretKey?
    /// Certificate validity in seconds (default 3600).
    public var certificateValidity: UInt32
    /// Serve plaintext instead of Noise (local testing only).
    public var plaintext: Bool
    /// The embedded node's data directory (default ~/.sv2/regtest).
    public var datadir: String
    /// Where the embedded node's JSON-RPC listens, if anywhere.
    public var rpcListen: HostPort?
    /// RPC user: accepted by our RPC server, or sent to bitcoind.
    public var rpcUser: String?
    /// RPC password, likewise.
    public var rpcPassword: String?
    /// bitcoind's cookie file (with `bitcoind`).
    public var rpcCookie: String?
    /// Bitcoin Core's RPC address, `http://HOST:PORT`, to use instead of the embedded node.
    public var bitcoind: HostPort?
    /// Transactions the embedded node's generator adds per second (0 turns it off; default 2).
    public var generationRate: Int
    /// Satoshis of extra fees that justify a new template on the same tip (default 1000).
    public var feeDelta: UInt64
    /// Minimum time between two templates on the same tip (default 30 s).
    public var templateInterval: Duration
    /// Log level and format.
    public var log: LogSettings
    /// Where the monitoring HTTP server listens (`monitoring_address`); nil: off.
    public var monitoringAddress: HostPort?
    /// Another node whose chain the embedded node follows (`follow`), nil when it mines its own.
    public var follow: FollowSource?
    /// How often the other node is asked for new blocks (`follow_interval`, default 1 s).
    public var followInterval: Duration

    /// Resolves every setting, with a clear error for the first bad one. `embedded` is the template provider a pool
    /// or a proxy runs in-process: it listens on a free loopback port with a fresh authority key, and reads only the
    /// node's keys. Without `datadir` the chain lives in ~/.sv2/`defaultDatadir`.
    public init(_ layers: ConfigurationLayers, embedded: Bool = false, defaultDatadir: String = "regtest") throws(ConfigurationError) {
        if embedded {
            listen = HostPort(host: "127.0.0.1", port: 0)
            authoritySecretKey = nil
        } else {
            listen = try layers.hostPort("listen_address") ?? HostPort(host: "127.0.0.1", port: 8442)
            authoritySecretKey = try layers.authoritySecretKey()
        }
        certificateValidity = embedded ? 3600 : UInt32(try layers.integer("cert_validity_sec", in: 1...Int64(UInt32.max)) ?? 3600)
        plaintext = embedded ? false : try layers.boolean("plaintext") ?? false
        datadir = try layers.string("datadir") ?? ((ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.sv2/" + defaultDatadir)
        rpcListen = try layers.hostPort("rpc_listen")
        rpcUser = try layers.string("rpc_user")
        rpcPassword = try layers.string("rpc_password")
        rpcCookie = embedded ? nil : try layers.string("rpc_cookie")
        guard (rpcUser == nil) == (rpcPassword == nil) else {
            let given = rpcUser == nil ? "rpc_password" : "rpc_user"
            throw layers.error(given, "rpc_user and rpc_password go together")
        }
        if !embedded, let url = try layers.string("bitcoind") {
            guard let parsed = RPCURL(url), parsed.user == nil else { throw layers.error("bitcoind", "expected http://HOST:PORT, got \"\(url)\"") }
            bitcoind = parsed.address
            guard rpcCookie != nil || rpcUser != nil else { throw layers.error("bitcoind", "needs rpc_cookie or rpc_user/rpc_password") }
        } else {
            bitcoind = nil
        }
        generationRate = Int(try layers.integer("generation_rate", in: 0...10_000) ?? 2)
        feeDelta = UInt64(try layers.integer("fee_delta", in: 0...2_100_000_000_000_000) ?? 1000)
        templateInterval = try layers.seconds("template_interval", in: 0...86400) ?? .seconds(30)
        log = try layers.logSettings()
        if let text = try layers.string("follow") {
            // The value is not echoed: it may hold a password.
            guard let source = FollowSource(text) else { throw layers.error("follow", "expected http://USER:PASSWORD@HOST:PORT") }
            guard bitcoind == nil else { throw layers.error("follow", "is for the embedded node, not with bitcoind") }
            follow = source
        } else {
            follow = nil
        }
        followInterval = try layers.seconds("follow_interval", in: 0.05...3600) ?? .seconds(1)
        // In-process (sv2 pool), the pool's monitoring covers it.
        monitoringAddress = embedded ? nil : try layers.hostPort("monitoring_address")
    }
}
