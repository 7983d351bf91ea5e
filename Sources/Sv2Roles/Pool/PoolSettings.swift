import Bitcoin
import Sv2Binary
import Logging
import Sv2Crypto
import Sv2Ledger
import Sv2Node

/// The settings of `sv2 pool`, resolved from its configuration layers (TOML file, flags, `SV2_POOL_*` environment).
/// Key names follow SRI's pool configuration where they exist.
public struct PoolSettings: Sendable {
    /// Every key `sv2 pool` understands (TOML key = flag without dashes, with underscores).
    public static let keys = Set<String>([
        "listen_address", "authority_public_key", "authority_secret_key", "cert_validity_sec", "coinbase_reward_script",
        "pool_signature", "shares_per_minute", "tp_address", "tp_authority_public_key", "version_rolling", "shutdown_reconnect_address", "datadir",
        "rpc_listen", "rpc_user", "rpc_password", "generation_rate", "fee_delta", "template_interval",
        "ledger", "server_id", "ledger_pending_limit", "jd_token_key", "jd_listen_address", "follow", "follow_interval",
    ]).union(LogSettings.keys).union(RoleMonitoring.keys)

    /// Where miners connect (default 0.0.0.0:3333).
    public var listen: HostPort
    /// The authority key certificates are signed with; nil (only with the embedded node) means a fresh one for this
    /// run, its public key logged.
    public var authoritySecretKey: Secp256k1SecretKey?
    /// Certificate validity in seconds (default 3600).
    public var certificateValidity: UInt32
    /// The scriptPubKey block rewards pay to.
    public var rewardScript: [UInt8]
    /// How `coinbase_reward_script` was given, for the log.
    public var rewardDescription: String
    /// The pool's coinbase tag (default "sv2").
    public var poolSignature: String
    /// Shares per minute each channel aims at (default 6).
    public var sharesPerMinute: Double
    /// Whether miners may roll version bits (default true).
    public var versionRolling: Bool
    /// Where miners are sent (Reconnect) when the pool shuts down; nil just closes their connections.
    public var shutdownReconnect: HostPort?
    /// An external template provider `HOST:PORT`; nil runs the embedded regtest node in-process.
    public var templateProvider: HostPort?
    /// The external template provider's authority key (nil: its certificate is not checked, with a warning).
    public var templateProviderKey: XOnlyPublicKey?
    /// The embedded node's settings (when there is no external template provider).
    public var embedded: TemplateProviderSettings?
    /// Log level and format.
    public var log: LogSettings
    /// The share ledger: `ledger` (`sqlite:PATH`, `postgresql://…`, or `none`); by default `sqlite:DATADIR/ledger.sqlite`
    /// when `datadir` is given, else none.
    public var ledger: LedgerLocation?
    /// This instance's id among pools that share a ledger (`server_id`, 0–65535, default 0).
    public var serverID: UInt16
    /// Unwritten shares the ledger holds at most while its database fails (`ledger_pending_limit`, default 1,000,000).
    public var ledgerPendingLimit: Int
    /// Where the monitoring HTTP server listens (`monitoring_address`); nil: off.
    public var monitoringAddress: HostPort?
    /// The key shared with the job declarator that custom jobs' tokens are checked with (`jd_token_key`, 32 bytes as
    /// hex); nil: no custom jobs. With `jd_listen_address` and no key, one is drawn for the run.
    public var jobTokenKey: [UInt8]?
    /// Where the in-process job declarator listens (`jd_listen_address`); nil: none.
    public var jobDeclaration: HostPort?

    /// Resolves every setting, with a clear error for the first bad one.
    public init(_ layers: ConfigurationLayers) throws(ConfigurationError) {
        listen = try layers.hostPort("listen_address") ?? HostPort(host: "0.0.0.0", port: 3333)
        templateProvider = try layers.hostPort("tp_address")
        templateProviderKey = try layers.publicKey("tp_authority_public_key")
        embedded = templateProvider == nil ? try TemplateProviderSettings(layers, embedded: true) : nil
        log = try layers.logSettings()
        authoritySecretKey = try layers.authoritySecretKey()
        if authoritySecretKey == nil, templateProvider != nil {
            throw ConfigurationError(
                key: "authority_secret_key",
                reason: "required with tp_address (miners check the pool's certificates against its public key; `sv2 keygen` makes one)")
        }
        certificateValidity = UInt32(try layers.integer("cert_validity_sec", in: 1...Int64(UInt32.max)) ?? 3600)
        if let text = try layers.string("coinbase_reward_script") {
            rewardScript = try Self.script(text, layers: layers)
            rewardDescription = text
        } else if templateProvider == nil {
            rewardScript = NodeScripts.p2wshOpTrue
            rewardDescription = "the embedded node's anyone-can-spend P2WSH(OP_TRUE) (regtest only; set coinbase_reward_script)"
        } else {
            throw ConfigurationError(key: "coinbase_reward_script", reason: "required with tp_address (an address or a descriptor)")
        }
        poolSignature = try layers.string("pool_signature") ?? "sv2"
        guard poolSignature.utf8.count <= 50, poolSignature.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") }) else {
            throw layers.error("pool_signature", "at most 50 printable ASCII characters without \"/\", got \"\(poolSignature)\"")
        }
        sharesPerMinute = try layers.number("shares_per_minute", in: 0...6000) ?? 6
        guard sharesPerMinute > 0 else { throw layers.error("shares_per_minute", "must be above 0") }
        versionRolling = try layers.boolean("version_rolling") ?? true
        shutdownReconnect = try layers.hostPort("shutdown_reconnect_address")
        ledger = try Self.ledgerLocation(layers)
        serverID = UInt16(try layers.integer("server_id", in: 0...65535) ?? 0)
        ledgerPendingLimit = Int(try layers.integer("ledger_pending_limit", in: 1...100_000_000) ?? 1_000_000)
        monitoringAddress = try layers.hostPort("monitoring_address")
        jobDeclaration = try layers.hostPort("jd_listen_address")
        if jobDeclaration != nil, templateProvider != nil {
            throw layers.error("jd_listen_address", "runs on the embedded node; with tp_address run `sv2 jn --bitcoind` on the pool's node")
        }
        var random = SystemRandom()
        // In-process, the declarator and the pool share a key without it being configured.
        jobTokenKey = try JobDeclaratorSettings.tokenKey(layers) ?? (jobDeclaration == nil ? nil : random.bytes(32))
    }

    /// The `ledger` setting, or its default in the datadir.
    public static func ledgerLocation(_ layers: ConfigurationLayers) throws(ConfigurationError) -> LedgerLocation? {
        guard let text = try layers.string("ledger") else {
            return try layers.string("datadir").map { .sqlite(path: $0 + "/ledger.sqlite") }
        }
        if text == "none" { return nil }
        do {
            return try LedgerLocation(text)
        } catch {
            throw layers.error("ledger", error.description)
        }
    }

    /// The scriptPubKey of an address (any network) or a descriptor (`addr(...)`, `raw(...)`).
    static func script(_ text: String, layers: ConfigurationLayers) throws(ConfigurationError) -> [UInt8] {
        var firstError = ""
        for network in [Network.regtest, .testnet, .signet, .mainnet] {
            do {
                return text.contains("(") ? try Descriptor(text, network: network).scriptPubKey : try Address(text, network: network).scriptPubKey
            } catch {
                if firstError.isEmpty { firstError = error.description }
            }
        }
        throw layers.error("coinbase_reward_script", "\"\(text)\": \(firstError)")
    }
}
