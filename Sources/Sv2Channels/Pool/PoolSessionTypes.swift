import Sv2Binary
import Sv2Messages

/// Settings shared by every mining session of a pool.
public struct PoolSessionConfiguration: Sendable {
    /// Shares per minute each channel's target aims at (SRI's `shares_per_minute`).
    public var sharesPerMinute: Double
    /// Full extranonce length of every channel (at most 32; SRI uses 32).
    public var extranonceLength: Int
    /// Channels one connection may open.
    public var maximumChannels: UInt32
    /// Whether miners may roll the BIP320 version bits (0x1fffe000). When false, SetupConnection.Success carries
    /// REQUIRES_FIXED_VERSION and jobs forbid rolling.
    public var versionRolling: Bool
    /// Hashrate assumed for a channel that reports none (a proxy sends 0), in hashes per second.
    public var defaultHashrate: Double
    /// Vardiff bounds and pace.
    public var vardiff: VardiffConfiguration
    /// How far past the current time a share's ntime may be (Bitcoin's MAX_FUTURE_BLOCK_TIME is 7200 s).
    public var maximumFutureTime: UInt32
    /// Whether accepted shares go to a ledger before they are acknowledged (``PoolEffect/record(_:)``); off by default.
    public var recordsShares = false
    /// What watches each connection's traffic (a copy per session); nil for a pool.
    public var observer: (any PoolSessionObserver)?
    /// The key shared with the job declarator (`sv2 jn`) that its mining job tokens are checked with; nil: the pool
    /// takes no custom jobs (SetCustomMiningJob is refused as unsupported).
    public var jobTokenKey: [UInt8]?
    /// The script the pool's reward must go to in a custom job's coinbase (spec 6.4.3: the pool payout output).
    public var payoutScript: [UInt8] = []

    /// Settings with SRI's defaults where they exist: 32-byte extranonces, version rolling on, 2 hours of ntime;
    /// vardiff between `minimumHashrate` and no upper bound. Nil unless `sharesPerMinute` and `minimumHashrate` are
    /// positive and finite.
    public init?(
        sharesPerMinute: Double, extranonceLength: Int = 32, maximumChannels: UInt32 = 65536, versionRolling: Bool = true,
        defaultHashrate: Double = 1e6, minimumHashrate: Double = 1, maximumFutureTime: UInt32 = 7200
    ) {
        guard let vardiff = VardiffConfiguration(sharesPerMinute: sharesPerMinute, minimumHashrate: minimumHashrate) else { return nil }
        self.sharesPerMinute = sharesPerMinute
        self.extranonceLength = extranonceLength
        self.maximumChannels = maximumChannels
        self.versionRolling = versionRolling
        self.defaultHashrate = defaultHashrate
        self.vardiff = vardiff
        self.maximumFutureTime = maximumFutureTime
    }
}

/// The chain tip the pool mines on, from the template provider's SetNewPrevHash, with the job it activates.
public struct PoolPrevHash: Sendable, Hashable {
    /// The pool job made from the template the prevhash activates.
    public var jobID: UInt32
    /// Hash of the previous block (internal byte order).
    public var prevHash: U256
    /// Smallest ntime of the new jobs (the template's header_timestamp).
    public var minNtime: UInt32
    /// Compact network target.
    public var nBits: UInt32
    /// Network target: a share hash at or below it is a block.
    public var networkTarget: U256

    /// A prevhash.
    public init(jobID: UInt32, prevHash: U256, minNtime: UInt32, nBits: UInt32, networkTarget: U256) {
        self.jobID = jobID
        self.prevHash = prevHash
        self.minNtime = minNtime
        self.nBits = nBits
        self.networkTarget = networkTarget
    }
}

/// A share that is a block: everything the template provider's SubmitSolution needs.
public struct FoundBlock: Sendable, Hashable {
    /// The template the job was made from.
    public var templateID: UInt64
    /// Header version.
    public var version: UInt32
    /// Header time.
    public var ntime: UInt32
    /// Header nonce.
    public var nonce: UInt32
    /// The full coinbase with its witness, as the block carries it.
    public var coinbase: [UInt8]
    /// The block hash.
    public var hash: U256
    /// Who found it (the channel's user_identity).
    public var user: String
    /// The block it builds on.
    public var previousBlockHash: U256

    /// SubmitSolution (spec 7.7) for the template provider.
    public var solution: SubmitSolution {
        SubmitSolution(templateID: templateID, version: version, headerTimestamp: ntime, headerNonce: nonce, coinbaseTx: coinbase)
    }
}

/// Accepted and rejected shares of one user since the last time they were collected.
public struct ShareTally: Sendable, Hashable {
    /// Shares accepted.
    public var accepted: UInt64 = 0
    /// Shares rejected.
    public var rejected: UInt64 = 0
    /// Expected hashes the accepted shares stand for (the sum of 2^256 / (target + 1)).
    public var work: Double = 0
    /// Blocks found.
    public var blocks: UInt64 = 0

    /// An empty tally.
    public init() {}

    /// Adds `other` to this tally.
    public mutating func add(_ other: ShareTally) {
        accepted += other.accepted
        rejected += other.rejected
        work += other.work
        blocks += other.blocks
    }

    /// Counts one accepted share standing for `work` expected hashes (and a block when it is one).
    public mutating func recordAccepted(work: Double, block: Bool) {
        accepted += 1
        self.work += work
        if block { blocks += 1 }
    }
}

/// What only the pool's glue can do for a ``PoolSession``.
public enum PoolEffect: Hashable, Sendable {
    /// Submit this block to the template provider (and log it).
    case submitBlock(FoundBlock)
    /// Add these per-user tallies to the pool's statistics.
    case tallies([String: ShareTally])
    /// Record these shares in the ledger, then send their acknowledgements (``ShareBatch``).
    case record(ShareBatch)
    /// A proxy's device share that meets the upstream target: submit it upstream.
    case forward(ForwardedShare)
    /// The nominal hash rate the connection's channels report changed by this much (opened, updated, closed).
    case reportedHashRate(change: Double)
}

/// A share a proxy's device found that meets the upstream channel's target (``PoolWork/upstreamTarget``).
public struct ForwardedShare: Sendable, Hashable {
    /// The job (the proxy's number for the upstream's work).
    public var jobID: UInt32
    /// Header nonce.
    public var nonce: UInt32
    /// Header time.
    public var ntime: UInt32
    /// Header version.
    public var version: UInt32
    /// The whole extranonce below the job's coinbase prefix: the channel's prefix, then what the device rolled.
    public var extranonce: [UInt8]
    /// The channel's user_identity.
    public var user: String
}

/// The error codes of SubmitShares.Error, OpenMiningChannel.Error and UpdateChannel.Error the pool sends. The
/// spec leaves the list to implementations (3.5); these are the strings SRI and other pools use.
public enum PoolErrorCode {
    /// No open channel has that id.
    public static let invalidChannelID: Sv2String = "invalid-channel-id"
    /// The job belongs to a previous chain tip.
    public static let staleShare: Sv2String = "stale-share"
    /// No such job on this channel.
    public static let invalidJobID: Sv2String = "invalid-job-id"
    /// The hash does not meet the channel's target.
    public static let difficultyTooLow: Sv2String = "difficulty-too-low"
    /// The same header was submitted before.
    public static let duplicateShare: Sv2String = "duplicate-share"
    /// The extranonce is not the channel's negotiated size.
    public static let badExtranonceSize: Sv2String = "bad-extranonce-size"
    /// Version bits changed where the job does not allow it.
    public static let versionRollingNotAllowed: Sv2String = "version-rolling-not-allowed"
    /// ntime before the prevhash's min_ntime or too far in the future.
    public static let invalidTimestamp: Sv2String = "invalid-timestamp"
    /// max_target is zero: no hash can meet it.
    public static let maxTargetOutOfRange: Sv2String = "max-target-out-of-range"
    /// The extended channel asks for more extranonce bytes than the pool leaves.
    public static let extranonceSizeTooLarge: Sv2String = "min-extranonce-size-too-large"
    /// The connection has as many channels as it may.
    public static let tooManyChannels: Sv2String = "too-many-channels"
    /// Custom jobs need a key shared with the job declarator (`--jd-token-key`), which this pool was not given.
    public static let customJobsUnsupported: Sv2String = "custom-jobs-unsupported"
    /// The share was valid but the ledger could not take it (the database has been unavailable too long).
    public static let ledgerUnavailable: Sv2String = "ledger-unavailable"
    /// SetCustomMiningJob on a connection that did not set REQUIRES_WORK_SELECTION.
    public static let workSelectionNotNegotiated: Sv2String = "work-selection-not-negotiated"
    /// A custom job on another tip than the pool's.
    public static let invalidPrevHash: Sv2String = "invalid-prev-hash"
    /// A custom job whose nbits or version is not the tip's, whose min_ntime is before the tip's, or whose fields
    /// are over their bounds.
    public static let invalidJobParameters: Sv2String = "invalid-job-parameters"
    /// A custom job whose coinbase does not parse, or does not pay the pool's payout output.
    public static let invalidCoinbase: Sv2String = "invalid-coinbase"
}

extension SetCustomMiningJob {
    /// The refusal of a server that takes no custom jobs (no job declaration behind it).
    public var unsupported: SetCustomMiningJobError {
        SetCustomMiningJobError(channelID: channelID, requestID: requestID, errorCode: PoolErrorCode.customJobsUnsupported)
    }
}
