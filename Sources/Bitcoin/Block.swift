import Sv2Binary

/// A block: header and transactions (the first one the coinbase), serialised with witnesses.
public struct Block: Hashable, Sendable {
    /// The header.
    public var header: BlockHeader
    /// The transactions in block order.
    public var transactions: [Transaction]

    /// Creates a block.
    public init(header: BlockHeader, transactions: [Transaction]) {
        self.header = header
        self.transactions = transactions
    }

    /// Parses a block that fills `bytes` exactly.
    public init(bytes: [UInt8]) throws(BitcoinError) {
        var reader = ByteReader(bytes)
        header = try BlockHeader(reading: &reader)
        // Any transaction takes at least 10 bytes (version, two counts, lock time).
        let count = try reader.readCount("transaction count", minimumElementSize: 10)
        var transactions = [Transaction]()
        transactions.reserveCapacity(count)
        for _ in 0..<count { transactions.append(try Transaction(reading: &reader)) }
        try reader.finish("block")
        self.transactions = transactions
    }

    /// Parses a block from hex digits that encode it exactly.
    public init(hex: String) throws(BitcoinError) {
        guard let bytes = Hex.decode(hex) else { throw .invalidHex(what: "block") }
        try self.init(bytes: bytes)
    }

    /// The serialisation: header, CompactSize transaction count, each transaction with its witness.
    public var serialized: [UInt8] {
        var bytes = header.serialized
        CompactSize.append(UInt64(transactions.count), to: &bytes)
        for transaction in transactions { bytes.append(contentsOf: transaction.serialized()) }
        return bytes
    }

    /// The block hash (the header's), internal byte order.
    public var hash: U256 { header.hash }

    /// The merkle root of the transactions' txids (compare with the header's ``BlockHeader/merkleRoot``).
    public var computedMerkleRoot: U256 { Merkle.root(transactions.map(\.txid)) }

    /// The BIP141 witness root of the transactions (the coinbase's wtxid counted as zero).
    public var computedWitnessRoot: U256 {
        WitnessCommitment.witnessRoot(nonCoinbaseWtxids: transactions.dropFirst().map(\.wtxid))
    }

    /// BIP141 weight of the block: header and count × 4 plus each transaction's weight.
    public var weight: Int {
        (BlockHeader.size + CompactSize.size(of: UInt64(transactions.count))) * 4
            + transactions.reduce(0) { $0 + $1.weight }
    }
}
