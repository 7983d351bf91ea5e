import Bitcoin
import Sv2Binary

/// A node following another one's chain (`sv2 tp --follow`), sans-IO: told the other node's height and handed the
/// blocks it asked for, it says what to fetch next and which blocks extend the local tip. It does not reorganise: a
/// block that does not extend the local tip means the chains diverged, which it reports once and then waits for the
/// other chain to come back to the local tip.
public struct ChainFollowing: Sendable {
    /// What to do after hearing the other node's height.
    public enum Step: Hashable, Sendable {
        /// Nothing: the local chain is as long.
        case upToDate
        /// Fetch the other node's block at this height.
        case fetch(height: UInt32)
    }

    /// What to do with a fetched block.
    public enum Verdict: Hashable, Sendable {
        /// Submit it to the local node: it extends the local tip.
        case connect
        /// It does not extend the local tip: the chains diverged (reported once, `isNew` the first time).
        case diverged(isNew: Bool)
    }

    /// True while the last block fetched did not extend the local tip.
    public private(set) var isDiverged = false

    /// A follower that has seen nothing yet.
    public init() {}

    /// The next step when the other node is at `remoteHeight` and the local tip at `localHeight`.
    public func next(localHeight: UInt32, remoteHeight: UInt32) -> Step {
        remoteHeight > localHeight ? .fetch(height: localHeight + 1) : .upToDate
    }

    /// Whether `block`, fetched at the height after the local tip `localTip`, can be connected.
    public mutating func judge(_ block: Block, localTip: U256) -> Verdict {
        guard block.header.previousBlockHash == localTip else {
            defer { isDiverged = true }
            return .diverged(isNew: !isDiverged)
        }
        isDiverged = false
        return .connect
    }
}
