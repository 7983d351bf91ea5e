import Sv2Binary

/// The kind of mining channel a miner opens (spec 5.2).
public enum MiningChannelKind: String, Hashable, Sendable, CaseIterable {
    /// Header-only mining: the server fixes the merkle root (NewMiningJob), shares are SubmitSharesStandard.
    case standard
    /// The miner rolls an extranonce in the coinbase (NewExtendedMiningJob), shares are SubmitSharesExtended.
    case extended
}

/// What a ``MinerClientSession`` asks the pool for.
public struct MinerSessionConfiguration: Hashable, Sendable {
    /// user_identity of every channel (the pool's account or worker name).
    public var userIdentity: String
    /// The kind of the channels opened.
    public var channelKind: MiningChannelKind
    /// How many channels to open; channel `i` is mined by the engine's lane `i`.
    public var channelCount: Int
    /// Set REQUIRES_STANDARD_JOBS in SetupConnection (spec 5.3.1): the pool must send NewMiningJob only.
    public var requiresStandardJobs: Bool
    /// The hash rate of the whole miner in hashes per second, shared evenly by the channels' nominal_hash_rate.
    public var nominalHashRate: Float
    /// min_extranonce_size of extended channels: the bytes the engine needs to give every thread its own values.
    public var minimumExtranonceSize: UInt16
    /// endpoint_host of SetupConnection: the host the miner connects to; also the host a Reconnect without one keeps.
    public var endpointHost: String
    /// endpoint_port of SetupConnection; also the port a Reconnect without one keeps.
    public var endpointPort: UInt16
    /// vendor of SetupConnection.
    public var vendor: String
    /// hardware_version of SetupConnection.
    public var hardwareVersion: String
    /// firmware of SetupConnection.
    public var firmware: String
    /// device_id of SetupConnection.
    public var deviceID: String
    /// The worker named in extension 0x0002's user_identity on extended shares: with one, the session requests the
    /// extension (RequestExtensions right after SetupConnection.Success) and, once the pool confirms it, tags every
    /// SubmitSharesExtended; nil requests no extension.
    public var worker: String?
    /// Whether a lane stops on a block it found until new work or a tick (``BlockPause``): true for a miner that
    /// hashes; false for a proxy's upstream, whose "lane" is its devices.
    public var pausesAfterBlocks: Bool

    /// A configuration; the SetupConnection device fields default to this toolkit's CPU miner.
    public init(
        userIdentity: String, channelKind: MiningChannelKind, channelCount: Int, requiresStandardJobs: Bool,
        nominalHashRate: Float, minimumExtranonceSize: UInt16, endpointHost: String, endpointPort: UInt16,
        vendor: String = "sv2", hardwareVersion: String = "cpu", firmware: String = "sv2-cpu-miner", deviceID: String = "",
        worker: String? = nil, pausesAfterBlocks: Bool = true
    ) {
        self.userIdentity = userIdentity
        self.channelKind = channelKind
        self.channelCount = channelCount
        self.requiresStandardJobs = requiresStandardJobs
        self.nominalHashRate = nominalHashRate
        self.minimumExtranonceSize = minimumExtranonceSize
        self.endpointHost = endpointHost
        self.endpointPort = endpointPort
        self.vendor = vendor
        self.hardwareVersion = hardwareVersion
        self.firmware = firmware
        self.deviceID = deviceID
        self.worker = worker
        self.pausesAfterBlocks = pausesAfterBlocks
    }
}

/// Share counts of a miner, carried from one connection's session to the next.
public struct MinerStatistics: Hashable, Sendable {
    /// Shares sent to the pool.
    public var submitted = 0
    /// Shares the pool acknowledged (the sum of SubmitShares.Success new_submits_accepted_count).
    public var accepted = 0
    /// Shares the pool refused (SubmitShares.Error).
    public var rejected = 0
    /// Shares found but not sent: their job was no longer valid, their channel was gone, or a newer SetTarget
    /// lowered the target below their hash.
    public var discarded = 0
    /// Shares that also met the network target (nBits).
    public var blocks = 0
    /// Connections that ended while RequestExtensions awaited its answer; after one, sessions request no extension
    /// (for a pool that drops the connection over a message it does not know, where the spec has it ignored).
    public var negotiationsLost = 0

    /// All zero.
    public init() {}
}

/// What happened in a session, for the miner's log and tests.
public enum MinerSessionEvent: Hashable, Sendable {
    /// SetupConnection.Success with these flags.
    case setUp(flags: UInt32)
    /// Extension negotiation ended: whether the pool tracks workers (extension 0x0002), and how it answered.
    case extensionsNegotiated(tracksWorkers: Bool, detail: String)
    /// A channel was opened for `lane`.
    case channelOpened(lane: Int, channelID: UInt32, kind: MiningChannelKind, target: U256, extranoncePrefix: [UInt8],
                       extranonceSize: Int, groupChannelID: UInt32)
    /// The pool refused (or the session gave up) the channel of `lane`.
    case channelRefused(lane: Int, reason: String)
    /// The pool closed a channel.
    case channelClosed(lane: Int, channelID: UInt32, reason: String)
    /// The channel's target changed.
    case targetChanged(channelID: UInt32, target: U256)
    /// A new previous block hash (logged once per hash, whichever channels it was sent to).
    case newPrevHash(U256, nbits: UInt32)
    /// A share that meets nBits: a block, submitted as a share.
    case blockFound(channelID: UInt32, hash: U256)
    /// SubmitShares.Success: `count` shares accepted, the ones this session sent among them in `shares`.
    case sharesAccepted(channelID: UInt32, count: UInt32, shares: [AcknowledgedShare])
    /// SubmitShares.Error.
    case shareRejected(channelID: UInt32, sequenceNumber: UInt32, errorCode: String)
    /// A message that was unexpected, malformed or addressed to an unknown channel, and was ignored.
    case ignored(String)
}

/// A share the pool acknowledged: its sequence number and header hash.
public struct AcknowledgedShare: Sendable, Hashable {
    /// The sequence number it was sent with.
    public var sequenceNumber: UInt32
    /// Its header hash.
    public var hash: U256

    /// A share.
    public init(sequenceNumber: UInt32, hash: U256) {
        self.sequenceNumber = sequenceNumber
        self.hash = hash
    }
}
