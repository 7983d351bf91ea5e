import Bitcoin
import Sv2Binary
import Sv2Crypto

/// A transaction waiting in the mempool, with what templates need precomputed.
public struct MempoolEntry: Sendable, Hashable {
    /// The transaction.
    public var transaction: Transaction
    /// Its txid.
    public var txid: U256
    /// Its wtxid.
    public var wtxid: U256
    /// Its full serialisation (with witness).
    public var serialized: [UInt8]
    /// Fee in satoshis.
    public var fee: UInt64
    /// BIP141 weight.
    public var weight: Int
    /// Signature operation cost (legacy count × 4; spends of P2WSH(OP_TRUE) add none).
    public var sigopsCost: Int
    /// Clock time when it entered the mempool.
    public var time: UInt32
    /// The chain's height when it entered the mempool.
    public var height: UInt32

    /// Virtual size: weight / 4 rounded up.
    public var virtualSize: Int { (weight + 3) / 4 }

    /// Creates an entry, computing ids, serialisation and weight.
    init(transaction: Transaction, fee: UInt64, time: UInt32, height: UInt32) {
        self.transaction = transaction
        txid = transaction.txid
        serialized = transaction.serialized()
        wtxid = transaction.hasWitness ? U256.sha256d(serialized) : txid
        self.fee = fee
        weight = transaction.baseSize * 3 + serialized.count
        sigopsCost = transaction.legacySigOpCount * 4
        self.time = time
        self.height = height
    }

    /// Whether this entry pays a higher fee rate than `other` (ties broken by txid, for a stable order).
    func paysMore(than other: MempoolEntry) -> Bool {
        let left = fee.multipliedFullWidth(by: UInt64(other.weight))
        let right = other.fee.multipliedFullWidth(by: UInt64(weight))
        guard left == right else { return (left.high, left.low) > (right.high, right.low) }
        return txid < other.txid
    }
}

extension U256 {
    /// SHA256d of `bytes` in internal byte order.
    static func sha256d(_ bytes: [UInt8]) -> U256 {
        U256(littleEndianBytes: Sv2Hash.sha256d(bytes)) ?? .zero
    }
}

/// Transactions waiting for a block. Every input spends a confirmed output (no chains of unconfirmed
/// transactions), so any subset is a valid block body in any order.
struct Mempool {
    /// Entries by txid.
    private(set) var entries: [U256: MempoolEntry] = [:]
    /// Which mempool transaction spends each outpoint.
    private(set) var spentBy: [OutPoint: U256] = [:]
    /// Sum of the entries' fees.
    private(set) var totalFees: UInt64 = 0
    /// Sum of the entries' virtual sizes.
    private(set) var totalVirtualSize = 0
    /// Counts changes; long polls compare it.
    private(set) var sequence: UInt64 = 0

    /// Adds an entry whose inputs were checked against the UTXO set and are not spent by another entry.
    mutating func add(_ entry: MempoolEntry) {
        entries[entry.txid] = entry
        for input in entry.transaction.inputs { spentBy[input.previousOutput] = entry.txid }
        totalFees += entry.fee
        totalVirtualSize += entry.virtualSize
        sequence += 1
    }

    /// Removes and returns the entry with `txid`.
    @discardableResult
    mutating func remove(_ txid: U256) -> MempoolEntry? {
        guard let entry = entries.removeValue(forKey: txid) else { return nil }
        for input in entry.transaction.inputs where spentBy[input.previousOutput] == txid {
            spentBy.removeValue(forKey: input.previousOutput)
        }
        totalFees -= entry.fee
        totalVirtualSize -= entry.virtualSize
        sequence += 1
        return entry
    }

    /// Removes what a connected block confirmed (its txids) or made invalid (entries spending an outpoint the
    /// block spent). Returns the conflicting entries removed.
    mutating func removeForBlock(txids: [U256], spent: [OutPoint]) -> [MempoolEntry] {
        for txid in txids { remove(txid) }
        var conflicts = [MempoolEntry]()
        for outpoint in spent {
            if let txid = spentBy[outpoint], let entry = remove(txid) { conflicts.append(entry) }
        }
        return conflicts
    }

    /// Entries by decreasing fee rate.
    var byFeeRate: [MempoolEntry] {
        entries.values.sorted { $0.paysMore(than: $1) }
    }
}

/// The confirmed outputs the generator may spend: P2WSH(OP_TRUE) or OP_TRUE outputs in the UTXO set, mature, not
/// spent by a mempool transaction. An array with an index, for O(1) insert, remove and random choice.
struct SpendableCoins {
    /// The outpoints, in no particular order.
    private(set) var items: [OutPoint] = []
    /// Position of each outpoint in ``items``.
    private var positions: [OutPoint: Int] = [:]
    /// Coinbase outputs waiting to mature, by the tip height from which they may be spent in the next block.
    private var immature: [UInt32: [OutPoint]] = [:]

    /// Number of spendable coins.
    var count: Int { items.count }

    /// Adds a coin (no effect if present).
    mutating func insert(_ outpoint: OutPoint) {
        guard positions[outpoint] == nil else { return }
        positions[outpoint] = items.count
        items.append(outpoint)
    }

    /// Removes a coin if present.
    mutating func remove(_ outpoint: OutPoint) {
        guard let position = positions.removeValue(forKey: outpoint) else { return }
        let last = items.removeLast()
        if position < items.count {
            items[position] = last
            positions[last] = position
        }
    }

    /// Remembers a coinbase output of the block at `height`, spendable once the tip reaches height + 99.
    mutating func insertImmature(_ outpoint: OutPoint, height: UInt32) {
        immature[height + Consensus.coinbaseMaturity - 1, default: []].append(outpoint)
    }

    /// Makes the coinbase outputs that mature at `tipHeight` spendable.
    mutating func promote(tipHeight: UInt32) {
        for outpoint in immature.removeValue(forKey: tipHeight) ?? [] { insert(outpoint) }
    }
}
