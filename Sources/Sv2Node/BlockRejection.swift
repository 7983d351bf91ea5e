import Bitcoin
import Sv2Binary

/// Why a transaction is invalid, in a block or for the mempool; ``reason`` is Bitcoin Core's reject reason string.
public enum TransactionRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// No inputs ("bad-txns-vin-empty").
    case noInputs
    /// No outputs ("bad-txns-vout-empty").
    case noOutputs
    /// Stripped size × 4 above the block weight limit ("bad-txns-oversize").
    case oversize
    /// An output above 21 million BTC ("bad-txns-vout-toolarge").
    case outputTooLarge
    /// Outputs adding up to more than 21 million BTC ("bad-txns-txouttotal-toolarge").
    case outputTotalTooLarge
    /// The same outpoint spent twice by this transaction ("bad-txns-inputs-duplicate").
    case duplicateInputs
    /// A non-coinbase input spending the null outpoint ("bad-txns-prevout-null").
    case nullPrevout
    /// A coinbase transaction where a normal one is required ("coinbase").
    case coinbase
    /// Lock time or BIP68 relative lock time not yet reached ("bad-txns-nonfinal").
    case nonFinal
    /// An input that is not in the UTXO set, or already spent earlier in the block or the mempool
    /// ("bad-txns-inputs-missingorspent").
    case missingOrSpentInputs
    /// A coinbase output spent before 100 confirmations ("bad-txns-premature-spend-of-coinbase").
    case prematureCoinbaseSpend
    /// Input values out of range ("bad-txns-inputvalues-outofrange").
    case inputValuesOutOfRange
    /// Inputs worth less than the outputs ("bad-txns-in-belowout").
    case inputsBelowOutputs
    /// An input this node cannot validate: only spends of P2WSH(OP_TRUE) with witness `[51]` and an empty scriptSig,
    /// and of bare OP_TRUE outputs with empty scriptSig and witness, are accepted ("bad-txns-nonstandard-inputs").
    case nonstandardInputs
    /// A mempool transaction that conflicts with one already in the mempool ("txn-mempool-conflict").
    case mempoolConflict
    /// A mempool transaction already in the mempool ("txn-already-in-mempool").
    case alreadyInMempool

    /// Bitcoin Core's reject reason.
    public var reason: String {
        switch self {
        case .noInputs: return "bad-txns-vin-empty"
        case .noOutputs: return "bad-txns-vout-empty"
        case .oversize: return "bad-txns-oversize"
        case .outputTooLarge: return "bad-txns-vout-toolarge"
        case .outputTotalTooLarge: return "bad-txns-txouttotal-toolarge"
        case .duplicateInputs: return "bad-txns-inputs-duplicate"
        case .nullPrevout: return "bad-txns-prevout-null"
        case .coinbase: return "coinbase"
        case .nonFinal: return "bad-txns-nonfinal"
        case .missingOrSpentInputs: return "bad-txns-inputs-missingorspent"
        case .prematureCoinbaseSpend: return "bad-txns-premature-spend-of-coinbase"
        case .inputValuesOutOfRange: return "bad-txns-inputvalues-outofrange"
        case .inputsBelowOutputs: return "bad-txns-in-belowout"
        case .nonstandardInputs: return "bad-txns-nonstandard-inputs"
        case .mempoolConflict: return "txn-mempool-conflict"
        case .alreadyInMempool: return "txn-already-in-mempool"
        }
    }

    /// Same as ``reason``.
    public var description: String { reason }
}

/// Why ``RegtestNode/submit(_:)`` refused a block. ``reason`` (and ``description``) is the string Bitcoin Core's
/// `submitblock` answers with, so clients written against bitcoind see the same text.
public enum BlockRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// The block is already in the chain ("duplicate").
    case duplicate
    /// The block builds on a known block that is not the tip; this node keeps no side branches ("inconclusive").
    case inconclusive
    /// The previous block is unknown ("prev-blk-not-found").
    case previousBlockNotFound
    /// The header hash is above the target of its nBits, or nBits are above the proof-of-work limit ("high-hash").
    case highHash
    /// nBits differ from the regtest value 0x207fffff ("bad-diffbits").
    case badDifficultyBits
    /// The time is not after the median time past of the previous 11 blocks ("time-too-old").
    case timeTooOld
    /// The time is more than two hours after the node's clock ("time-too-new").
    case timeTooNew
    /// A version below 4 after BIP34/BIP66/BIP65 (all active from height 1 on regtest), e.g. "bad-version(0x00000001)".
    case badVersion(UInt32)
    /// The header's merkle root does not match the transactions ("bad-txnmrklroot").
    case badMerkleRoot
    /// The transaction list is a CVE-2012-2459 mutation (a repeated subtree) ("bad-txns-duplicate").
    case duplicateTransactions
    /// No transactions, or the stripped block is too large ("bad-blk-length").
    case badBlockLength
    /// The first transaction is not a coinbase ("bad-cb-missing").
    case missingCoinbase
    /// A coinbase other than the first transaction ("bad-cb-multiple").
    case multipleCoinbases
    /// Coinbase scriptSig shorter than 2 or longer than 100 bytes ("bad-cb-length").
    case badCoinbaseLength
    /// The coinbase scriptSig does not start with the BIP34 push of the block height ("bad-cb-height").
    case badCoinbaseHeight
    /// A witness commitment is present but the coinbase witness is not one 32-byte item ("bad-witness-nonce-size").
    case badWitnessNonceSize
    /// The witness commitment does not match the transactions' wtxids ("bad-witness-merkle-match").
    case badWitnessMerkleMatch
    /// Witness data without a witness commitment in the coinbase ("unexpected-witness").
    case unexpectedWitness
    /// Block weight above 4,000,000 ("bad-blk-weight").
    case badBlockWeight
    /// Signature operation cost above 80,000 ("bad-blk-sigops").
    case badBlockSigops
    /// The coinbase pays more than subsidy plus fees ("bad-cb-amount").
    case badCoinbaseAmount
    /// A transaction of the block is invalid; the reason is the transaction's (as Core reports it).
    case transaction(TransactionRejection, txid: U256)
    /// The block is valid but could not be written to the datadir (or the node is closed), so it was not connected
    /// ("disk-write-failed"; Bitcoin Core would stop with a fatal error instead).
    case notStored(reason: String)

    /// Bitcoin Core's reject reason.
    public var reason: String {
        switch self {
        case .duplicate: return "duplicate"
        case .inconclusive: return "inconclusive"
        case .previousBlockNotFound: return "prev-blk-not-found"
        case .highHash: return "high-hash"
        case .badDifficultyBits: return "bad-diffbits"
        case .timeTooOld: return "time-too-old"
        case .timeTooNew: return "time-too-new"
        case let .badVersion(version):
            let digits = String(version, radix: 16)
            return "bad-version(0x" + String(repeating: "0", count: 8 - digits.count) + digits + ")"
        case .badMerkleRoot: return "bad-txnmrklroot"
        case .duplicateTransactions: return "bad-txns-duplicate"
        case .badBlockLength: return "bad-blk-length"
        case .missingCoinbase: return "bad-cb-missing"
        case .multipleCoinbases: return "bad-cb-multiple"
        case .badCoinbaseLength: return "bad-cb-length"
        case .badCoinbaseHeight: return "bad-cb-height"
        case .badWitnessNonceSize: return "bad-witness-nonce-size"
        case .badWitnessMerkleMatch: return "bad-witness-merkle-match"
        case .unexpectedWitness: return "unexpected-witness"
        case .badBlockWeight: return "bad-blk-weight"
        case .badBlockSigops: return "bad-blk-sigops"
        case .badCoinbaseAmount: return "bad-cb-amount"
        case let .transaction(rejection, _): return rejection.reason
        case .notStored: return "disk-write-failed"
        }
    }

    /// A sentence for logs: the reason and what it means.
    public var explanation: String {
        switch self {
        case .duplicate: return "duplicate: the block is already in the chain"
        case .inconclusive: return "inconclusive: the block builds on a block that is not the tip (side branches are not kept)"
        case .previousBlockNotFound: return "prev-blk-not-found: the previous block is unknown"
        case .highHash: return "high-hash: proof of work failed (hash above the target)"
        case .badDifficultyBits: return "bad-diffbits: nBits must be 0x207fffff on regtest"
        case .timeTooOld: return "time-too-old: the block time is not after the median time of the last 11 blocks"
        case .timeTooNew: return "time-too-new: the block time is more than 2 hours in the future"
        case .badVersion: return "\(reason): block version below 4"
        case .badMerkleRoot: return "bad-txnmrklroot: the header's merkle root does not match the transactions"
        case .duplicateTransactions: return "bad-txns-duplicate: the transaction list is a mutated (duplicated) merkle tree"
        case .badBlockLength: return "bad-blk-length: no transactions or block too large"
        case .missingCoinbase: return "bad-cb-missing: the first transaction is not a coinbase"
        case .multipleCoinbases: return "bad-cb-multiple: more than one coinbase"
        case .badCoinbaseLength: return "bad-cb-length: coinbase scriptSig must be 2 to 100 bytes"
        case .badCoinbaseHeight: return "bad-cb-height: the coinbase scriptSig does not start with the BIP34 height push"
        case .badWitnessNonceSize: return "bad-witness-nonce-size: the coinbase witness must be one 32-byte item"
        case .badWitnessMerkleMatch: return "bad-witness-merkle-match: the witness commitment does not match"
        case .unexpectedWitness: return "unexpected-witness: witness data without a witness commitment"
        case .badBlockWeight: return "bad-blk-weight: block weight above 4,000,000"
        case .badBlockSigops: return "bad-blk-sigops: too many signature operations"
        case .badCoinbaseAmount: return "bad-cb-amount: the coinbase pays more than subsidy plus fees"
        case let .transaction(rejection, txid): return "\(rejection.reason): transaction \(txid.displayHex)"
        case let .notStored(reason): return "disk-write-failed: \(reason)"
        }
    }

    /// Same as ``reason``.
    public var description: String { reason }
}
