import Logging
import Sv2Channels
import Sv2Crypto
import Sv2Formats

/// The settings of `sv2 translate`, resolved from its configuration layers (TOML file, flags,
/// `SV2_TRANSLATE_*` environment). Key names follow SRI's translator where they exist.
public struct TranslatorSettings: Sendable {
    /// Every key `sv2 translate` understands.
    public static let keys = Set<String>([
        "listen_address", "upstream", "upstreams", "user_identity", "aggregate_channels", "downstream_extranonce2_size",
        "shares_per_minute", "initial_difficulty", "min_difficulty", "max_difficulty", "pow2_difficulty",
        "job_keepalive_interval_secs", "max_line_length", "max_clients",
    ]).union(LogSettings.keys).union(RoleMonitoring.keys)

    /// Where Sv1 miners connect (default 0.0.0.0:34255).
    public var listen: HostPort
    /// Pools in order of preference.
    public var upstreams: [UpstreamPool]
    /// One extended channel for all miners (true, the default) or one per miner.
    public var aggregate: Bool
    /// The Sv1 side's settings.
    public var downstream: Sv1ServerConfiguration
    /// Time without a new job before the current one is re-issued with a fresh ntime (default 60 s).
    public var jobKeepalive: Duration
    /// Longest line a miner may send (default 16 KiB).
    public var maximumLineLength: Int
    /// Most miners at once (default 100,000).
    public var maximumClients: Int
    /// Log level and format.
    public var log: LogSettings
    /// Where the monitoring HTTP server listens (`monitoring_address`); nil: off.
    public var monitoringAddress: HostPort?

    /// Resolves every setting, with a clear error for the first bad one.
    public init(_ layers: ConfigurationLayers) throws(ConfigurationError) {
        listen = try layers.hostPort("listen_address") ?? HostPort(host: "0.0.0.0", port: 34255)
        let user = try layers.string("user_identity") ?? "sv2-translator"
        upstreams = try layers.upstreamPools(user: user)
        aggregate = try layers.boolean("aggregate_channels") ?? true
        let extranonce2Size = Int(try layers.integer("downstream_extranonce2_size", in: 1...16) ?? 4)
        let sharesPerMinute = try layers.number("shares_per_minute") ?? 6
        let initial = try layers.number("initial_difficulty") ?? 1
        let minimum = try layers.number("min_difficulty") ?? 1e-8
        let maximum = try layers.number("max_difficulty") ?? 1e15
        guard let downstream = Sv1ServerConfiguration(
            extranonce2Size: extranonce2Size, sharesPerMinute: sharesPerMinute, initialDifficulty: initial, minimumDifficulty: minimum,
            maximumDifficulty: maximum, powerOfTwoDifficulty: try layers.boolean("pow2_difficulty") ?? false)
        else {
            throw ConfigurationError(
                key: "shares_per_minute",
                reason: "shares_per_minute, initial_difficulty, min_difficulty and max_difficulty must be positive with min <= max")
        }
        self.downstream = downstream
        jobKeepalive = try layers.seconds("job_keepalive_interval_secs", in: 1...86400) ?? .seconds(60)
        maximumLineLength = Int(try layers.integer("max_line_length", in: 256...16_777_216) ?? 16_384)
        maximumClients = Int(try layers.integer("max_clients", in: 1...10_000_000) ?? 100_000)
        log = try layers.logSettings()
        monitoringAddress = try layers.hostPort("monitoring_address")
    }
}
