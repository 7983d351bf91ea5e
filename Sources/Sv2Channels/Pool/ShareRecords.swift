import Sv2Binary
import Sv2Messages
import Sv2Sessions

/// One accepted share as the pool's ledger records it.
public struct AcceptedShare: Sendable, Hashable {
    /// When the pool accepted it.
    public var time: Timestamp
    /// The account: the channel's user_identity up to its first "." (all of it when there is none).
    public var user: String
    /// The worker: what follows the first "." of the user_identity (empty when there is none).
    public var worker: String
    /// The channel it was submitted on.
    public var channelID: UInt32
    /// The miner's sequence number.
    public var sequenceNumber: UInt32
    /// The job it was found on.
    public var jobID: UInt32
    /// The channel's target difficulty when the share was checked (difficulty 1 is 2^32 expected hashes).
    public var difficulty: Double
    /// Expected hashes the share stands for (2^256 / (target + 1)).
    public var work: Double
    /// The header hash.
    public var hash: U256
    /// Whether it is a block.
    public var isBlock: Bool

    /// A share.
    public init(
        time: Timestamp, user: String, worker: String, channelID: UInt32, sequenceNumber: UInt32, jobID: UInt32, difficulty: Double,
        work: Double, hash: U256, isBlock: Bool
    ) {
        self.time = time
        self.user = user
        self.worker = worker
        self.channelID = channelID
        self.sequenceNumber = sequenceNumber
        self.jobID = jobID
        self.difficulty = difficulty
        self.work = work
        self.hash = hash
        self.isBlock = isBlock
    }

    /// A user_identity split into account and worker at its first "." (`alice.rig1` → `alice`, `rig1`), the
    /// convention of Sv1 pools that Sv2 miners carry over.
    public static func account(_ userIdentity: String) -> (user: String, worker: String) {
        guard let dot = userIdentity.firstIndex(of: ".") else { return (userIdentity, "") }
        return (String(userIdentity[..<dot]), String(userIdentity[userIdentity.index(after: dot)...]))
    }
}

/// A share the pool refused, for the ledger's per-minute rejection counts.
public struct RejectedShare: Sendable, Hashable {
    /// When it was refused.
    public var time: Timestamp
    /// The account (see ``AcceptedShare/account(_:)``); empty when the channel is unknown.
    public var user: String
    /// The worker.
    public var worker: String
    /// The SubmitShares.Error code sent.
    public var errorCode: String

    /// A refusal.
    public init(time: Timestamp, user: String, worker: String, errorCode: String) {
        self.time = time
        self.user = user
        self.worker = worker
        self.errorCode = errorCode
    }
}

/// What one read of a connection produced for the ledger: the shares accepted, the shares refused, and the
/// SubmitShares.Success messages that acknowledge the accepted ones. The glue sends the acknowledgements only once
/// the ledger has committed the shares (the durability promise: a miner never sees a share accepted that a crash
/// could lose). Should the ledger refuse to hold them, ``refusals(code:)`` answers each share instead.
public struct ShareBatch: Sendable, Hashable {
    /// The shares accepted.
    public var accepted: [AcceptedShare]
    /// The shares refused (their SubmitShares.Error already sent).
    public var rejected: [RejectedShare]
    /// One SubmitShares.Success per channel for ``accepted``.
    public var acknowledgements: [SubmitSharesSuccess]

    /// A batch.
    public init(accepted: [AcceptedShare] = [], rejected: [RejectedShare] = [], acknowledgements: [SubmitSharesSuccess] = []) {
        self.accepted = accepted
        self.rejected = rejected
        self.acknowledgements = acknowledgements
    }

    /// True when there is nothing to record.
    public var isEmpty: Bool { accepted.isEmpty && rejected.isEmpty }

    /// `acknowledgements` (in the order they were made) as one SubmitShares.Success per channel: the last sequence
    /// number, the counts and the sums added (saturating). Acknowledgements held while the ledger's database was away
    /// go out this way, a few messages rather than one per read that a miner could not take at once.
    public static func coalesced(_ acknowledgements: [SubmitSharesSuccess]) -> [SubmitSharesSuccess] {
        var merged = [SubmitSharesSuccess]()
        var index = [UInt32: Int]()
        for success in acknowledgements {
            guard let at = index[success.channelID] else {
                index[success.channelID] = merged.count
                merged.append(success)
                continue
            }
            merged[at].lastSequenceNumber = success.lastSequenceNumber
            merged[at].newSubmitsAcceptedCount &+= success.newSubmitsAcceptedCount
            let (sum, overflow) = merged[at].newSharesSum.addingReportingOverflow(success.newSharesSum)
            merged[at].newSharesSum = overflow ? .max : sum
        }
        return merged
    }

    /// A SubmitShares.Error with `code` for every accepted share: what the miner hears when the ledger cannot take them.
    public func refusals(code: Sv2String) -> [Sv2Message] {
        accepted.map { .submitSharesError(SubmitSharesError(channelID: $0.channelID, sequenceNumber: $0.sequenceNumber, errorCode: code)) }
    }
}
