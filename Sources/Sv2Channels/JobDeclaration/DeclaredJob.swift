import Bitcoin
import Sv2Binary

/// A job as DeclareMiningJob states it (spec 6.4.4) once its transactions are known: the coinbase around its
/// extranonce (BIP141 fields kept), the version, and the transactions in block order. Both sides of Job
/// Declaration build from it what they must agree on: the merkle path and outputs SetCustomMiningJob carries, and
/// the block of a solution (PushSolution, SubmitSolution).
public struct DeclaredJob: Hashable, Sendable {
    /// coinbase_tx_prefix: the coinbase up to the extranonce.
    public var coinbasePrefix: [UInt8]
    /// coinbase_tx_suffix: the coinbase after the extranonce.
    public var coinbaseSuffix: [UInt8]
    /// Bytes of the full extranonce (the coinbase's scriptSig length less what the prefix holds).
    public var extranonceSize: Int
    /// The coinbase with a zero extranonce, parsed (its outputs and height are the job's).
    public var coinbase: Transaction
    /// The version the job was declared with.
    public var version: UInt32
    /// The transactions after the coinbase, in block order.
    public var transactions: [Transaction]

    /// Parses the declared coinbase; throws when it is not one coinbase transaction (with its BIP141 fields, if any)
    /// split around an extranonce of at most 32 bytes.
    public init(coinbasePrefix: [UInt8], coinbaseSuffix: [UInt8], version: UInt32, transactions: [Transaction] = []) throws(BitcoinError) {
        let size = try Coinbase.extranonceSize(prefix: coinbasePrefix)
        guard size <= 32 else { throw .invalidLength(what: "full extranonce", expected: "at most 32 bytes", actual: size) }
        let coinbase = try Transaction(bytes: coinbasePrefix + [UInt8](repeating: 0, count: size) + coinbaseSuffix)
        guard coinbase.isCoinbase else { throw .invalidLength(what: "coinbase inputs (a null outpoint)", expected: "1", actual: coinbase.inputs.count) }
        self.coinbasePrefix = coinbasePrefix
        self.coinbaseSuffix = coinbaseSuffix
        extranonceSize = size
        self.coinbase = coinbase
        self.version = version
        self.transactions = transactions
    }

    /// The coinbase's Sv2 merkle path (spec 5.3.16), as SetCustomMiningJob carries it.
    public var merklePath: [U256] { Merkle.coinbasePath(transactionIDs: transactions.map(\.txid)) }

    /// The coinbase outputs as SetCustomMiningJob carries them: a CompactSize count, then each output.
    public var outputsField: [UInt8] { TransactionOutput.encodeCountedList(coinbase.outputs) }

    /// What the coinbase pays to `script`, in satoshis.
    public func paid(to script: [UInt8]) -> UInt64 {
        coinbase.outputs.filter { $0.scriptPubKey == script }.reduce(0) { $0 &+ $1.value }
    }

    /// The block of a solution: the coinbase with `extranonce` (of ``extranonceSize`` bytes), then the
    /// transactions, under a header of the given fields and the merkle root they make. Throws when the extranonce
    /// has another size.
    public func block(previousBlockHash: U256, version: UInt32, time: UInt32, bits: UInt32, nonce: UInt32, extranonce: [UInt8]) throws(BitcoinError) -> Block {
        guard extranonce.count == extranonceSize else {
            throw .invalidLength(what: "extranonce", expected: "\(extranonceSize) bytes", actual: extranonce.count)
        }
        let coinbase = try Transaction(bytes: coinbasePrefix + extranonce + coinbaseSuffix)
        let all = [coinbase] + transactions
        let header = BlockHeader(
            version: version, previousBlockHash: previousBlockHash, merkleRoot: Merkle.root(all.map(\.txid)), time: time, bits: bits, nonce: nonce)
        return Block(header: header, transactions: all)
    }
}
