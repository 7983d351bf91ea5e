/// A node following another one's chain (`sv2 tp --follow`), sans-IO: told both heights and whether the other node
/// has the local tip at the local height, it says what to fetch next, and it checks that each fetched block is the
/// one asked for and extends the local tip. It does not reorganise: a local chain the other does not contain is a
/// divergence, reported once (following then waits for the other chain to contain the local tip again, which it
/// does not do by itself: a fresh datadir is the way out).
public struct ChainFollowing: Sendable {
    /// What to do next.
    public enum Step: Hashable, Sendable {
        /// Nothing: the local chain is the other's, as long.
        case upToDate
        /// Fetch the other node's block at this height.
        case fetch(height: UInt32)
        /// The chains differ (reported when `isNew`): the local chain is longer, or its tip is not the other's block
        /// at that height.
        case diverged(isNew: Bool)
    }

    /// True while the chains differ.
    public private(set) var isDiverged = false

    /// A follower that has seen nothing yet.
    public init() {}

    /// The next step with the local tip at `localHeight`, the other node at `remoteHeight`, and `sameTip` telling
    /// whether the other node's block at `localHeight` is the local tip (false when the other chain is shorter).
    public mutating func next(localHeight: UInt32, remoteHeight: UInt32, sameTip: Bool) -> Step {
        guard remoteHeight >= localHeight, sameTip else {
            defer { isDiverged = true }
            return .diverged(isNew: !isDiverged)
        }
        isDiverged = false
        return remoteHeight > localHeight ? .fetch(height: localHeight + 1) : .upToDate
    }
}
