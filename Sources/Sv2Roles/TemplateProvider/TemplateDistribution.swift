import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Node

/// The Template Distribution messages (spec 7) made from a block template, and the block made from a solution.
public enum TemplateDistribution {
    /// The coinbase transaction version templates ask for.
    public static let coinbaseVersion: UInt32 = 2

    /// NewTemplate for `template` under `id`: the coinbase scriptSig prefix (BIP34 height), the value the coinbase
    /// may claim, the outputs it must end with (the witness commitment), and the merkle path of the coinbase.
    public static func newTemplate(_ template: BlockTemplate, id: UInt64, future: Bool) -> NewTemplate {
        let outputs = [TransactionOutput(value: 0, scriptPubKey: template.witnessCommitmentScript)]
        return NewTemplate(
            templateID: id, futureTemplate: future, version: template.version, coinbaseTxVersion: coinbaseVersion,
            coinbasePrefix: template.coinbaseScriptSigPrefix, coinbaseTxInputSequence: 0xffff_ffff,
            coinbaseTxValueRemaining: template.coinbaseValue, coinbaseTxOutputsCount: UInt32(outputs.count),
            coinbaseTxOutputs: outputs.flatMap(\.serialized), coinbaseTxLocktime: 0,
            merklePath: Merkle.coinbasePath(transactionIDs: template.transactions.map(\.txid)))
    }

    /// SetNewPrevHash for `template` under `id`.
    public static func setNewPrevHash(_ template: BlockTemplate, id: UInt64) -> TemplateSetNewPrevHash {
        TemplateSetNewPrevHash(
            templateID: id, prevHash: template.previousBlockHash, headerTimestamp: template.currentTime, nBits: template.bits,
            target: template.target)
    }

    /// The serialized transactions of `template` (with witness), for RequestTransactionData.Success.
    public static func transactionData(_ template: BlockTemplate) -> [[UInt8]] {
        template.transactions.map { $0.serialized(includingWitness: true) }
    }

    /// Why a SubmitSolution could not be made into a block.
    public enum SolutionError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The coinbase transaction does not parse.
        case malformedCoinbase(String)
        /// The transaction is not a coinbase.
        case notCoinbase

        /// A sentence for the log.
        public var description: String {
            switch self {
            case let .malformedCoinbase(reason): return "coinbase_tx does not parse: \(reason)"
            case .notCoinbase: return "coinbase_tx is not a coinbase transaction"
            }
        }
    }

    /// The block a SubmitSolution for `template` stands for: the header from the solution's version, timestamp and
    /// nonce, the template's previous hash and bits, and the merkle root over the given coinbase and the
    /// template's transactions.
    public static func block(for solution: SubmitSolution, template: BlockTemplate) throws(SolutionError) -> Block {
        let coinbase: Transaction
        do {
            coinbase = try Transaction(bytes: solution.coinbaseTx)
        } catch {
            throw .malformedCoinbase(error.description)
        }
        guard coinbase.isCoinbase else { throw .notCoinbase }
        let transactions = [coinbase] + template.transactions
        let header = BlockHeader(
            version: solution.version, previousBlockHash: template.previousBlockHash,
            merkleRoot: Merkle.root(transactions.map(\.txid)), time: solution.headerTimestamp, bits: template.bits,
            nonce: solution.headerNonce)
        return Block(header: header, transactions: transactions)
    }
}
