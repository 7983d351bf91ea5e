import Logging
import Sv2Binary
import Sv2Crypto

/// The settings of `sv2 jn`, resolved from its configuration layers (TOML file, flags, `SV2_JN_*` environment).
public struct JobDeclaratorSettings: Sendable {
    /// Every key `sv2 jn` understands (TOML key = flag without dashes, with underscores).
    public static let keys = Set<String>([
        "listen_address", "authority_public_key", "authority_secret_key", "cert_validity_sec", "coinbase_reward_script",
        "jd_token_key", "bitcoind", "rpc_cookie", "token_lifetime",
    ]).union(LogSettings.keys)

    /// Where job declarator clients connect (default 0.0.0.0:34264).
    public var listen: HostPort
    /// The authority key certificates are signed with; nil means a fresh one for this run (its public key is logged).
    public var authoritySecretKey: Secp256k1SecretKey?
    /// Certificate validity in seconds (default 3600).
    public var certificateValidity: UInt32
    /// The pool's payout script (`coinbase_reward_script`, the pool's own setting).
    public var rewardScript: [UInt8]
    /// The key tokens are made with (`jd_token_key`, the pool's own setting: 32 bytes as hex).
    public var tokenKey: [UInt8]
    /// The pool's node: its JSON-RPC address.
    public var bitcoind: HostPort
    /// The node's RPC user and password, from the URL, or its cookie file.
    public var rpcCredentials: RPCCredentialSource
    /// Seconds a token stays valid (`token_lifetime`, default 600).
    public var tokenLifetime: UInt32
    /// Log level and format.
    public var log: LogSettings

    /// Where the node's RPC credentials come from.
    public enum RPCCredentialSource: Sendable, Hashable {
        /// Given in the `bitcoind` URL.
        case password(user: String, password: String)
        /// Read from this cookie file at start.
        case cookie(path: String)
    }

    /// Resolves every setting, with a clear error for the first bad one.
    public init(_ layers: ConfigurationLayers) throws(ConfigurationError) {
        listen = try layers.hostPort("listen_address") ?? HostPort(host: "0.0.0.0", port: 34264)
        authoritySecretKey = try layers.authoritySecretKey()
        certificateValidity = UInt32(try layers.integer("cert_validity_sec", in: 1...Int64(UInt32.max)) ?? 3600)
        guard let script = try layers.string("coinbase_reward_script") else {
            throw ConfigurationError(key: "coinbase_reward_script", reason: "required: the pool's payout address or descriptor")
        }
        rewardScript = try PoolSettings.script(script, layers: layers)
        guard let key = try Self.tokenKey(layers) else {
            throw ConfigurationError(key: "jd_token_key", reason: "required: the key the pool checks tokens with (sv2 pool --jd-token-key)")
        }
        tokenKey = key
        // The value is not echoed: it may hold a password.
        guard let text = try layers.string("bitcoind") else {
            throw ConfigurationError(key: "bitcoind", reason: "required: the pool's node, http://USER:PASSWORD@HOST:PORT (or with rpc_cookie)")
        }
        guard let url = RPCURL(text) else { throw layers.error("bitcoind", "expected http://[USER:PASSWORD@]HOST:PORT") }
        bitcoind = url.address
        if let user = url.user, let password = url.password {
            rpcCredentials = .password(user: user, password: password)
        } else if let cookie = try layers.string("rpc_cookie") {
            rpcCredentials = .cookie(path: cookie)
        } else {
            throw layers.error("bitcoind", "needs USER:PASSWORD@ in the URL or rpc_cookie")
        }
        tokenLifetime = UInt32(try layers.integer("token_lifetime", in: 10...86_400) ?? 600)
        log = try layers.logSettings()
    }

    /// The `jd_token_key` setting: 32 bytes as 64 hex digits, or nil when absent.
    static func tokenKey(_ layers: ConfigurationLayers) throws(ConfigurationError) -> [UInt8]? {
        guard let text = try layers.string("jd_token_key") else { return nil }
        guard let key = Hex.decode(text), key.count == 32 else { throw layers.error("jd_token_key", "expected 32 bytes as 64 hex digits") }
        return key
    }
}
