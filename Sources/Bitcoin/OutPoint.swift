import Sv2Binary

/// A reference to an output of an earlier transaction.
public struct OutPoint: Hashable, Sendable {
    /// The txid of the transaction holding the output, in internal byte order (as serialised).
    public var txid: U256
    /// The index of the output in that transaction.
    public var vout: UInt32

    /// Creates an outpoint.
    public init(txid: U256, vout: UInt32) {
        self.txid = txid
        self.vout = vout
    }

    /// The outpoint a coinbase input spends: txid zero, index 0xffffffff.
    public static let null = OutPoint(txid: .zero, vout: .max)

    /// Whether this is the coinbase's ``null`` outpoint.
    public var isNull: Bool { self == .null }
}
