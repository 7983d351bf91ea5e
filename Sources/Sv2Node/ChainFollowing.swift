/// A node following another one's chain (`sv2 tp --follow`), sans-IO: told both heights and whether the two chains
/// have the same block at the lower of them, it says what to fetch next. A local chain ahead of the other (blocks
/// the other has not taken yet, as when two nodes follow each other) is waited on. It does not reorganise: chains
/// with different blocks at the same height have diverged, reported once (following then waits for the chains to
/// agree again, which they do not do by themselves: a fresh datadir is the way out).
public struct ChainFollowing: Sendable {
    /// What to do next.
    public enum Step: Hashable, Sendable {
        /// Nothing: the local chain is the other's, as long or longer.
        case upToDate
        /// Fetch the other node's block at this height.
        case fetch(height: UInt32)
        /// The chains differ (reported when `isNew`): they have different blocks at the same height.
        case diverged(isNew: Bool)
    }

    /// True while the chains differ.
    public private(set) var isDiverged = false

    /// A follower that has seen nothing yet.
    public init() {}

    /// The next step with the local tip at `localHeight`, the other node at `remoteHeight`, and `agree` telling
    /// whether both chains have the same block at the lower of the two heights.
    public mutating func next(localHeight: UInt32, remoteHeight: UInt32, agree: Bool) -> Step {
        guard agree else {
            defer { isDiverged = true }
            return .diverged(isNew: !isDiverged)
        }
        isDiverged = false
        return remoteHeight > localHeight ? .fetch(height: localHeight + 1) : .upToDate
    }
}
