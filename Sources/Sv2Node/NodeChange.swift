import Sv2Binary

/// What changed in a ``RegtestNode``, delivered to ``RegtestNode/onChange(_:)`` handlers after the change is
/// persisted, outside the node's lock (a handler may call back into the node).
public enum NodeChange: Hashable, Sendable {
    /// A block was connected: the new tip's hash (internal byte order) and height.
    case newTip(hash: U256, height: UInt32)
    /// Transactions entered or left the mempool without a new tip; `totalFees` is the mempool's fee total in
    /// satoshis.
    case mempoolChanged(totalFees: UInt64)
}
