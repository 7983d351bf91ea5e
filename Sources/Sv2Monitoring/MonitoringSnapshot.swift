import Sv2Binary
import Sv2Sessions

/// Where a role's monitoring data comes from: a snapshot taken when monitoring asks (the role gathers it from its
/// sessions on their event loops, so the share path carries no monitoring cost).
public protocol MonitoringSource: Sendable {
    /// The role's state now.
    func snapshot() async -> MonitoringSnapshot
}

/// What a role exposes to monitoring at one moment, in the shapes of SRI's monitoring API (sv2-apps,
/// `stratum-apps/src/monitoring`): the channels it holds with its upstream ("server"), its Sv2 clients
/// (downstream connections and their channels) and its Sv1 clients, each nil when the role has no such side. Beyond
/// SRI: accepted work per user and worker, connections by state, the template's age and the upstream's state.
public struct MonitoringSnapshot: Sendable, Hashable {
    /// The channels opened with the upstream; nil for a role without one (a pool).
    public var server: ServerChannels?
    /// Downstream Sv2 connections; nil for a role that serves none (a translator).
    public var sv2Clients: [Sv2Client]?
    /// Downstream Sv1 miners; nil for a role that serves none.
    public var sv1Clients: [Sv1Client]?
    /// Accepted shares and work per user and worker since the process started.
    public var workers: [WorkerWork]
    /// Connections by state (`setting_up`, `ready`, `upstream_connected`...).
    public var connections: [String: Int]
    /// Seconds since the newest template or job arrived; nil before the first.
    public var templateAge: Double?
    /// The upstream link; nil for a role without one.
    public var upstream: UpstreamState?

    /// Connections by state as servers count them: `ready` (set up) and `setting_up` (the rest of `total`).
    public static func connections(ready: Int, total: Int) -> [String: Int] {
        ["ready": ready, "setting_up": max(0, total - ready)]
    }

    /// Seconds from `time` to `now` (nil when there was no such time; 0 when the clock went back).
    public static func age(of time: Timestamp?, now: Timestamp) -> Double? {
        time.map { max(0, Double(now.nanoseconds - $0.nanoseconds) / 1e9) }
    }

    /// A snapshot; every side absent unless given.
    public init(
        server: ServerChannels? = nil, sv2Clients: [Sv2Client]? = nil, sv1Clients: [Sv1Client]? = nil, workers: [WorkerWork] = [],
        connections: [String: Int] = [:], templateAge: Double? = nil, upstream: UpstreamState? = nil
    ) {
        self.server = server
        self.sv2Clients = sv2Clients
        self.sv1Clients = sv1Clients
        self.workers = workers
        self.connections = connections
        self.templateAge = templateAge
        self.upstream = upstream
    }
}

/// The kind of an Sv2 channel.
public enum ChannelKind: String, Sendable, Hashable {
    /// A standard channel (header-only mining).
    case standard
    /// An extended channel (the client rolls extranonce).
    case extended
}

/// Share counters of one channel, as either side of it keeps them.
public struct ShareCounters: Sendable, Hashable {
    /// Shares accepted (by the upstream for a server channel; by this role for a client channel).
    public var accepted: UInt32 = 0
    /// Shares submitted (server channels: sent upstream).
    public var submitted: UInt32 = 0
    /// Shares rejected, by SubmitShares.Error code.
    public var rejectedByReason: [String: UInt32] = [:]
    /// Work of the accepted shares: the sum of their targets' difficulties.
    public var workSum: Double = 0
    /// new_shares_sum of the SubmitShares.Success messages (server channels), or the shares' weights (client channels).
    public var acknowledgedWorkSum: UInt64 = 0
    /// The best share's difficulty.
    public var bestDifficulty: Double = 0
    /// Blocks found.
    public var blocksFound: UInt32 = 0
    /// The sequence number of the last share.
    public var lastSequenceNumber: UInt32 = 0
    /// Shares accepted in the last acknowledgement.
    public var lastBatchAccepted: UInt32 = 0
    /// new_shares_sum of the last acknowledgement.
    public var lastBatchWorkSum: UInt64 = 0

    /// No shares yet.
    public init() {}

    /// Shares rejected for any reason.
    public var rejected: UInt32 { rejectedByReason.values.reduce(0, &+) }
}

/// One channel as monitoring shows it.
public struct ChannelSnapshot: Sendable, Hashable {
    /// Channel id.
    public var channelID: UInt32
    /// Standard or extended.
    public var kind: ChannelKind
    /// The user_identity it was opened with.
    public var userIdentity: String
    /// The hash rate the channel declares (nominal_hash_rate, UpdateChannel), or the role's estimate; nil when none.
    public var nominalHashrate: Float?
    /// True when vardiff has settled on the rate.
    public var stableHashrate: Bool
    /// The channel's current target.
    public var target: U256
    /// The max_target the client asked for.
    public var requestedMaximumTarget: U256
    /// The extranonce prefix the channel was given.
    public var extranoncePrefix: [UInt8]
    /// The whole extranonce's size (prefix and the part the client rolls).
    public var fullExtranonceSize: Int
    /// Bytes of extranonce the client rolls (extended channels).
    public var rollableExtranonceSize: UInt16
    /// Whether version rolling is allowed (nil when the role does not know; shown for server channels only).
    public var versionRolling: Bool?
    /// Shares per minute vardiff aims at.
    public var expectedSharesPerMinute: Float
    /// Share counters.
    public var shares: ShareCounters

    /// A channel.
    public init(
        channelID: UInt32, kind: ChannelKind, userIdentity: String, nominalHashrate: Float?, stableHashrate: Bool = false, target: U256,
        requestedMaximumTarget: U256, extranoncePrefix: [UInt8], fullExtranonceSize: Int, rollableExtranonceSize: UInt16,
        versionRolling: Bool?, expectedSharesPerMinute: Float, shares: ShareCounters
    ) {
        self.channelID = channelID
        self.kind = kind
        self.userIdentity = userIdentity
        self.nominalHashrate = nominalHashrate
        self.stableHashrate = stableHashrate
        self.target = target
        self.requestedMaximumTarget = requestedMaximumTarget
        self.extranoncePrefix = extranoncePrefix
        self.fullExtranonceSize = fullExtranonceSize
        self.rollableExtranonceSize = rollableExtranonceSize
        self.versionRolling = versionRolling
        self.expectedSharesPerMinute = expectedSharesPerMinute
        self.shares = shares
    }
}

/// The channels a role holds with its upstream.
public struct ServerChannels: Sendable, Hashable {
    /// Channels, extended and standard.
    public var channels: [ChannelSnapshot]

    /// The channels.
    public init(channels: [ChannelSnapshot]) { self.channels = channels }
}

/// The kind of an Sv2 client, from its SetupConnection (SRI's `client_kind`).
public enum Sv2ClientKind: String, Sendable, Hashable {
    /// A mining device or miner software.
    case miner
    /// A translator proxy.
    case translatorProxy = "translator_proxy"
    /// Not known (SetupConnection had no vendor and no hardware version).
    case unknown
}

/// One downstream Sv2 connection.
public struct Sv2Client: Sendable, Hashable {
    /// The connection's number in this process.
    public var clientID: UInt64
    /// What kind of client it is.
    public var kind: Sv2ClientKind
    /// The peer's address.
    public var peer: String
    /// Its channels.
    public var channels: [ChannelSnapshot]

    /// A client.
    public init(clientID: UInt64, kind: Sv2ClientKind, peer: String, channels: [ChannelSnapshot]) {
        self.clientID = clientID
        self.kind = kind
        self.peer = peer
        self.channels = channels
    }

    /// The kind SetupConnection's vendor and hardware version tell (SRI's rule; `sv2 translate` counts as a translator).
    public static func kind(vendor: String, hardwareVersion: String, firmware: String) -> Sv2ClientKind {
        if vendor == "SRI", hardwareVersion == "Translator Proxy" { return .translatorProxy }
        if firmware == "sv2 translate" { return .translatorProxy }
        if vendor.isEmpty, hardwareVersion.isEmpty { return .unknown }
        return .miner
    }
}

/// One downstream Sv1 miner.
public struct Sv1Client: Sendable, Hashable {
    /// The connection's number in this process.
    public var clientID: UInt64
    /// The upstream channel its shares go to, when one is open.
    public var channelID: UInt32?
    /// The peer's address (without the port).
    public var connectionIP: String
    /// The name it authorized with, before the first dot.
    public var username: String
    /// The rest of the name, after the first dot (empty when none).
    public var workerName: String
    /// Its current target.
    public var target: U256
    /// Its estimated hash rate; nil before one is known.
    public var hashrate: Float?
    /// True when vardiff has settled on the rate.
    public var stableHashrate: Bool
    /// Its extranonce1.
    public var extranonce1: [UInt8]
    /// The extranonce2 size it was given.
    public var extranonce2Length: Int
    /// The version-rolling mask agreed with mining.configure; nil without version rolling.
    public var versionRollingMask: UInt32?
    /// The minimum bit count it asked for; nil when it did not.
    public var versionRollingMinimumBitCount: UInt32?
    /// Shares it submitted that were accepted (its own difficulty).
    public var sharesAccepted: UInt64
    /// Shares it submitted that were refused.
    public var sharesRejected: UInt64

    /// A miner.
    public init(
        clientID: UInt64, channelID: UInt32?, connectionIP: String, username: String, workerName: String, target: U256, hashrate: Float?,
        stableHashrate: Bool, extranonce1: [UInt8], extranonce2Length: Int, versionRollingMask: UInt32?, versionRollingMinimumBitCount: UInt32?,
        sharesAccepted: UInt64, sharesRejected: UInt64
    ) {
        self.clientID = clientID
        self.channelID = channelID
        self.connectionIP = connectionIP
        self.username = username
        self.workerName = workerName
        self.target = target
        self.hashrate = hashrate
        self.stableHashrate = stableHashrate
        self.extranonce1 = extranonce1
        self.extranonce2Length = extranonce2Length
        self.versionRollingMask = versionRollingMask
        self.versionRollingMinimumBitCount = versionRollingMinimumBitCount
        self.sharesAccepted = sharesAccepted
        self.sharesRejected = sharesRejected
    }
}

/// Accepted shares and work of one worker of one user.
public struct WorkerWork: Sendable, Hashable {
    /// The account (the user identity before its first dot).
    public var user: String
    /// The worker (after the first dot, or the extension 0x0002 user_identity of its shares; empty when none).
    public var worker: String
    /// Shares accepted.
    public var accepted: UInt64
    /// Shares rejected.
    public var rejected: UInt64
    /// Expected hashes the accepted shares stand for.
    public var work: Double
    /// Blocks found.
    public var blocks: UInt64

    /// A worker's figures.
    public init(user: String, worker: String, accepted: UInt64, rejected: UInt64, work: Double, blocks: UInt64) {
        self.user = user
        self.worker = worker
        self.accepted = accepted
        self.rejected = rejected
        self.work = work
        self.blocks = blocks
    }
}

/// The state of a role's upstream link.
public struct UpstreamState: Sendable, Hashable {
    /// Where it is connected or trying to connect (`host:port`).
    public var address: String
    /// True while a channel is open upstream; false while it fails over or reconnects.
    public var connected: Bool

    /// A state.
    public init(address: String, connected: Bool) {
        self.address = address
        self.connected = connected
    }
}
