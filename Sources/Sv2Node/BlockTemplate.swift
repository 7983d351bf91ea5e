import Bitcoin
import Sv2Binary

/// Everything a miner needs to build a block on the node's tip, as bitcoind's `getblocktemplate` describes it.
public struct BlockTemplate: Sendable, Hashable {
    /// Height of the block to build (tip + 1).
    public var height: UInt32
    /// Block version: 0x20000000 (BIP9 top bits, no deployment signalled).
    public var version: UInt32
    /// The tip's hash, internal byte order.
    public var previousBlockHash: U256
    /// nBits: 0x207fffff on regtest.
    public var bits: UInt32
    /// The target nBits encode.
    public var target: U256
    /// The earliest valid block time: median time past of the last 11 blocks + 1.
    public var minimumTime: UInt32
    /// The time to put in the header: max(clock now, ``minimumTime``).
    public var currentTime: UInt32
    /// What the coinbase may pay out: subsidy + ``fees``, in satoshis.
    public var coinbaseValue: UInt64
    /// Fees of ``transactions``, in satoshis.
    public var fees: UInt64
    /// The non-coinbase transactions, in block order.
    public var transactions: [Transaction]
    /// The coinbase output script `6a24aa21a9ed || commitment` over these transactions' wtxids (the coinbase's wtxid
    /// counted as zero, reserved value 32 zero bytes).
    public var witnessCommitmentScript: [UInt8]
    /// The start of the coinbase scriptSig: the BIP34 push of ``height``.
    public var coinbaseScriptSigPrefix: [UInt8]

    /// Creates a template.
    public init(
        height: UInt32, version: UInt32, previousBlockHash: U256, bits: UInt32, target: U256, minimumTime: UInt32,
        currentTime: UInt32, coinbaseValue: UInt64, fees: UInt64, transactions: [Transaction],
        witnessCommitmentScript: [UInt8], coinbaseScriptSigPrefix: [UInt8]
    ) {
        self.height = height
        self.version = version
        self.previousBlockHash = previousBlockHash
        self.bits = bits
        self.target = target
        self.minimumTime = minimumTime
        self.currentTime = currentTime
        self.coinbaseValue = coinbaseValue
        self.fees = fees
        self.transactions = transactions
        self.witnessCommitmentScript = witnessCommitmentScript
        self.coinbaseScriptSigPrefix = coinbaseScriptSigPrefix
    }

    /// A coinbase for this template as Bitcoin Core's miner builds one: scriptSig = ``coinbaseScriptSigPrefix`` ||
    /// `scriptSigSuffix` (OP_0 by default, which also keeps heights 1 to 16 at the 2-byte minimum), outputs
    /// `payoutScript` receiving ``coinbaseValue`` then the witness commitment, witness one 32-byte zero item.
    public func coinbase(payoutScript: [UInt8], scriptSigSuffix: [UInt8] = [Script.op0]) -> Transaction {
        Transaction(
            version: 2,
            inputs: [TransactionInput(
                previousOutput: .null,
                scriptSig: coinbaseScriptSigPrefix + scriptSigSuffix,
                sequence: .max,
                witness: [WitnessCommitment.defaultReservedValue]
            )],
            outputs: [
                TransactionOutput(value: coinbaseValue, scriptPubKey: payoutScript),
                TransactionOutput(value: 0, scriptPubKey: witnessCommitmentScript),
            ],
            lockTime: 0
        )
    }

    /// The block of `coinbase` and ``transactions`` with a header for this template (time ``currentTime`` unless
    /// given); the nonce is `nonce`, so the proof of work still has to be found (see ``solve(_:)``).
    public func block(coinbase: Transaction, time: UInt32? = nil, nonce: UInt32 = 0) -> Block {
        let transactions = [coinbase] + self.transactions
        let header = BlockHeader(
            version: version, previousBlockHash: previousBlockHash, merkleRoot: Merkle.root(transactions.map(\.txid)),
            time: time ?? currentTime, bits: bits, nonce: nonce
        )
        return Block(header: header, transactions: transactions)
    }

    /// Iterates the nonce of `block` from its current value until the header hash meets its nBits target; false if
    /// all 2^32 nonces fail (never on regtest, where half of all hashes meet the target) or nBits are invalid.
    @discardableResult
    public static func solve(_ block: inout Block) -> Bool {
        guard let target = try? block.header.compactTarget.target() else { return false }
        let start = block.header.nonce
        repeat {
            if block.header.meets(target: target) { return true }
            block.header.nonce &+= 1
        } while block.header.nonce != start
        return false
    }
}
