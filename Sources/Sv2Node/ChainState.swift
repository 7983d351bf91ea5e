import Bitcoin
import Sv2Binary

/// An unspent output: what it pays, and when and how it was created (coinbase outputs mature after 100 blocks).
public struct Coin: Hashable, Sendable {
    /// The output.
    public var output: TransactionOutput
    /// Height of the block that created it.
    public var height: UInt32
    /// Whether it is a coinbase output.
    public var isCoinbase: Bool

    /// A coin from its parts.
    public init(output: TransactionOutput, height: UInt32, isCoinbase: Bool) {
        self.output = output
        self.height = height
        self.isCoinbase = isCoinbase
    }
}

/// Consensus constants of regtest as Bitcoin Core sets them (the subset this node checks).
enum Consensus {
    /// The network.
    static let network = Network.regtest
    /// nBits of every regtest block (no retargeting: fPowNoRetargeting).
    static let regtestBits: UInt32 = 0x207f_ffff
    /// BIP141 block weight limit.
    static let maximumBlockWeight = 4_000_000
    /// Signature operation cost limit per block.
    static let maximumBlockSigopsCost = 80_000
    /// Confirmations before a coinbase output may be spent.
    static let coinbaseMaturity: UInt32 = 100
    /// 21 million BTC in satoshis.
    static let maximumMoney: UInt64 = 21_000_000 * BlockSubsidy.coin
    /// How far ahead of the clock a block time may be (2 hours).
    static let maximumFutureBlockTime: UInt32 = 2 * 60 * 60
    /// Blocks in the median-time-past window.
    static let medianTimeSpan = 11
    /// The lowest block version once BIP34, BIP66 and BIP65 are active (height 1 on regtest).
    static let minimumVersion: UInt32 = 4
}

/// What connecting a checked block changes: outputs spent and created, and its fees.
struct ConnectPlan {
    /// The block's height.
    var height: UInt32
    /// The block's hash.
    var hash: U256
    /// The block's header.
    var header: BlockHeader
    /// Outpoints the block spends (all in the UTXO set before it; outputs created and spent inside the block are
    /// neither here nor in ``created``).
    var spent: [OutPoint]
    /// Outputs the block adds to the UTXO set (OP_RETURN outputs excluded).
    var created: [(OutPoint, Coin)]
    /// Fees of its transactions.
    var fees: UInt64
    /// Its transactions' txids, block order.
    var txids: [U256]
}

/// The active chain (headers by height), its UTXO set, and the rules a block must pass to extend it. No locking
/// and no I/O: ``RegtestNode`` wraps it.
struct ChainState {
    /// Headers by height, genesis first.
    private(set) var headers: [BlockHeader]
    /// Block hashes by height.
    private(set) var hashes: [U256]
    /// Height of every block of the chain.
    private(set) var heightByHash: [U256: UInt32]
    /// The unspent outputs.
    private(set) var utxos: [OutPoint: Coin] = [:]
    /// Median time past by height, kept as blocks connect.
    private var medianTimes: [UInt32]

    /// A chain holding only the regtest genesis block (whose coinbase output is unspendable, as in Core).
    init() {
        let genesis = Consensus.network.genesisHeader
        headers = [genesis]
        hashes = [genesis.hash]
        heightByHash = [genesis.hash: 0]
        medianTimes = [genesis.time]
    }

    /// Height of the tip.
    var tipHeight: UInt32 { UInt32(headers.count - 1) }
    /// Hash of the tip.
    var tipHash: U256 { hashes.last ?? .zero }
    /// Header of the tip.
    var tipHeader: BlockHeader { headers.last ?? Consensus.network.genesisHeader }

    /// Median time past of the tip: the median of the last 11 block times.
    var tipMedianTimePast: UInt32 { medianTimes.last ?? 0 }

    /// Median time past of the block at `height` (which must exist).
    func medianTimePast(height: UInt32) -> UInt32 {
        medianTimes[Int(min(height, tipHeight))]
    }

    /// The median of the times of the last 11 headers up to and including index `height` in `headers`.
    private static func median(of headers: [BlockHeader], upTo height: Int) -> UInt32 {
        let start = max(0, height - Consensus.medianTimeSpan + 1)
        let times = headers[start...height].map(\.time).sorted()
        return times[times.count / 2]
    }

    // MARK: Checks

    /// Checks `block` against every rule for extending the tip. `now` is the clock for "time-too-new" (nil skips
    /// it, as when replaying stored blocks); without `checkProofOfWork` the header hash is not compared with the
    /// target (block proposals).
    func check(_ block: Block, now: UInt32?, checkProofOfWork: Bool = true) -> Result<ConnectPlan, BlockRejection> {
        do {
            return .success(try checked(block, now: now, checkProofOfWork: checkProofOfWork))
        } catch {
            return .failure(error)
        }
    }

    private func checked(_ block: Block, now: UInt32?, checkProofOfWork: Bool) throws(BlockRejection) -> ConnectPlan {
        let header = block.header
        let hash = header.hash
        if heightByHash[hash] != nil { throw .duplicate }

        // CheckBlockHeader: proof of work against nBits (and nBits within the proof-of-work limit).
        if checkProofOfWork {
            guard let target = try? header.compactTarget.target(), target <= Consensus.network.powLimit,
                  header.meets(target: target) else { throw .highHash }
        }

        // CheckBlock: merkle root and mutation, size, coinbase position, each transaction, legacy sigops.
        let transactions = block.transactions
        let txids = transactions.map(\.txid)
        let (root, mutated) = Merkle.rootDetectingMutation(txids)
        guard root == header.merkleRoot else { throw .badMerkleRoot }
        guard !mutated else { throw .duplicateTransactions }
        let strippedSizes = transactions.map(\.baseSize)
        let strippedBlockSize = BlockHeader.size + CompactSize.size(of: UInt64(transactions.count)) + strippedSizes.reduce(0, +)
        guard !transactions.isEmpty, transactions.count * 4 <= Consensus.maximumBlockWeight,
              strippedBlockSize * 4 <= Consensus.maximumBlockWeight else { throw .badBlockLength }
        guard transactions[0].isCoinbase else { throw .missingCoinbase }
        for transaction in transactions.dropFirst() where transaction.isCoinbase { throw .multipleCoinbases }
        var legacySigops = 0
        for (index, transaction) in transactions.enumerated() {
            switch ChainState.checkTransaction(transaction, strippedSize: strippedSizes[index]) {
            case nil: break
            case .badCoinbaseLength?: throw .badCoinbaseLength
            case let .transaction(rejection)?: throw .transaction(rejection, txid: txids[index])
            }
            legacySigops += transaction.legacySigOpCount
        }
        guard legacySigops * 4 <= Consensus.maximumBlockSigopsCost else { throw .badBlockSigops }

        // AcceptBlockHeader: it must extend the tip.
        guard header.previousBlockHash == tipHash else {
            throw heightByHash[header.previousBlockHash] != nil ? .inconclusive : .previousBlockNotFound
        }
        let height = tipHeight + 1

        // ContextualCheckBlockHeader: nBits, time window, version.
        guard header.bits == Consensus.regtestBits else { throw .badDifficultyBits }
        let medianTimePast = tipMedianTimePast
        guard header.time > medianTimePast else { throw .timeTooOld }
        if let now, UInt64(header.time) > UInt64(now) + UInt64(Consensus.maximumFutureBlockTime) { throw .timeTooNew }
        guard header.version >= Consensus.minimumVersion else { throw .badVersion(header.version) }

        // ContextualCheckBlock: finality, BIP34 height, witness commitment, weight.
        for (index, transaction) in transactions.enumerated()
        where !ChainState.isFinal(transaction, height: height, lockTimeCutoff: medianTimePast) {
            throw .transaction(.nonFinal, txid: txids[index])
        }
        let coinbase = transactions[0]
        guard coinbase.inputs[0].scriptSig.starts(with: BIP34.heightPush(height)) else { throw .badCoinbaseHeight }
        if let commitmentIndex = WitnessCommitment.outputIndex(in: coinbase),
           let committed = WitnessCommitment.commitment(inScript: coinbase.outputs[commitmentIndex].scriptPubKey) {
            let witness = coinbase.inputs[0].witness
            guard witness.count == 1, witness[0].count == 32 else { throw .badWitnessNonceSize }
            let expected = WitnessCommitment.commitment(witnessRoot: block.computedWitnessRoot, reservedValue: witness[0])
            guard expected == committed else { throw .badWitnessMerkleMatch }
        } else if transactions.contains(where: \.hasWitness) {
            throw .unexpectedWitness
        }
        let weight = (BlockHeader.size + CompactSize.size(of: UInt64(transactions.count))) * 4
            + transactions.enumerated().reduce(0) { $0 + strippedSizes[$1.offset] * 3 + $1.element.totalSize }
        guard weight <= Consensus.maximumBlockWeight else { throw .badBlockWeight }

        // ConnectBlock: inputs exist, are unspent, mature and cover the outputs; relative lock times; scripts;
        // sigop cost; the coinbase claims no more than subsidy + fees.
        var createdInBlock = [OutPoint: Coin]()
        var createdOrder = [OutPoint]()
        var spentFromSet = [OutPoint]()
        var spentSet = Set<OutPoint>()
        var fees: UInt64 = 0
        var sigopsCost = 0
        for (index, transaction) in transactions.enumerated() {
            let txid = txids[index]
            sigopsCost += transaction.legacySigOpCount * 4
            if index > 0 {
                var inputCoins = [Coin]()
                inputCoins.reserveCapacity(transaction.inputs.count)
                for input in transaction.inputs {
                    let outpoint = input.previousOutput
                    guard !spentSet.contains(outpoint) else { throw .transaction(.missingOrSpentInputs, txid: txid) }
                    if let coin = createdInBlock.removeValue(forKey: outpoint) {
                        inputCoins.append(coin)
                    } else if let coin = utxos[outpoint] {
                        inputCoins.append(coin)
                        spentFromSet.append(outpoint)
                    } else {
                        throw .transaction(.missingOrSpentInputs, txid: txid)
                    }
                    spentSet.insert(outpoint)
                }
                let fee: UInt64
                do {
                    fee = try ChainState.checkInputs(transaction, coins: inputCoins, spendHeight: height)
                } catch {
                    throw .transaction(error, txid: txid)
                }
                guard sequenceLocksSatisfied(transaction, coins: inputCoins, height: height, medianTimePast: medianTimePast) else {
                    throw .transaction(.nonFinal, txid: txid)
                }
                for (input, coin) in zip(transaction.inputs, inputCoins)
                where !NodeScripts.verifySpend(scriptPubKey: coin.output.scriptPubKey, input: input) {
                    throw .transaction(.nonstandardInputs, txid: txid)
                }
                fees += fee
                guard fees <= Consensus.maximumMoney else { throw .transaction(.inputValuesOutOfRange, txid: txid) }
            }
            guard sigopsCost <= Consensus.maximumBlockSigopsCost else { throw .badBlockSigops }
            for (vout, output) in transaction.outputs.enumerated() where output.scriptPubKey.first != Script.opReturn {
                let outpoint = OutPoint(txid: txid, vout: UInt32(vout))
                createdInBlock[outpoint] = Coin(output: output, height: height, isCoinbase: index == 0)
                createdOrder.append(outpoint)
            }
        }
        let claimed = coinbase.outputs.reduce(UInt64(0)) { $0 + $1.value }
        guard claimed <= Consensus.network.blockSubsidy(height: height) + fees else { throw .badCoinbaseAmount }
        // A coinbase txid repeating an unspent one would overwrite it (BIP30); BIP34 makes that impossible here, but
        // refuse it rather than lose coins.
        for outpoint in createdInBlock.keys where utxos[outpoint] != nil && !spentSet.contains(outpoint) {
            throw .transaction(.missingOrSpentInputs, txid: outpoint.txid)
        }
        // Block order, so that everything derived from the UTXO set is reproducible.
        let created = createdOrder.compactMap { outpoint in createdInBlock[outpoint].map { (outpoint, $0) } }
        return ConnectPlan(height: height, hash: hash, header: header, spent: spentFromSet, created: created, fees: fees, txids: txids)
    }

    /// A failure of the context-free transaction checks: a transaction reason, or the coinbase length.
    enum StructureFailure: Equatable {
        /// A transaction rule.
        case transaction(TransactionRejection)
        /// Coinbase scriptSig outside 2 to 100 bytes (a block-level reason in Core).
        case badCoinbaseLength
    }

    /// Bitcoin Core's `CheckTransaction`: inputs and outputs present, size, output amounts, no duplicate inputs,
    /// coinbase scriptSig length, no null prevouts outside the coinbase.
    static func checkTransaction(_ transaction: Transaction, strippedSize: Int) -> StructureFailure? {
        guard !transaction.inputs.isEmpty else { return .transaction(.noInputs) }
        guard !transaction.outputs.isEmpty else { return .transaction(.noOutputs) }
        guard strippedSize * 4 <= Consensus.maximumBlockWeight else { return .transaction(.oversize) }
        var total: UInt64 = 0
        for output in transaction.outputs {
            guard output.value <= Consensus.maximumMoney else { return .transaction(.outputTooLarge) }
            total += output.value
            guard total <= Consensus.maximumMoney else { return .transaction(.outputTotalTooLarge) }
        }
        var seen = Set<OutPoint>()
        for input in transaction.inputs where !seen.insert(input.previousOutput).inserted {
            return .transaction(.duplicateInputs)
        }
        if transaction.isCoinbase {
            let length = transaction.inputs[0].scriptSig.count
            guard length >= 2, length <= 100 else { return .badCoinbaseLength }
        } else if transaction.inputs.contains(where: { $0.previousOutput.isNull }) {
            return .transaction(.nullPrevout)
        }
        return nil
    }

    /// Bitcoin Core's `IsFinalTx` with the median-time-past cutoff (BIP113).
    static func isFinal(_ transaction: Transaction, height: UInt32, lockTimeCutoff: UInt32) -> Bool {
        let lockTime = transaction.lockTime
        if lockTime == 0 { return true }
        let limit = lockTime < 500_000_000 ? height : lockTimeCutoff
        if lockTime < limit { return true }
        return transaction.inputs.allSatisfy { $0.sequence == .max }
    }

    /// Bitcoin Core's `Consensus::CheckTxInputs` given the spent coins: maturity and amounts; returns the fee.
    static func checkInputs(_ transaction: Transaction, coins: [Coin], spendHeight: UInt32) throws(TransactionRejection) -> UInt64 {
        var valueIn: UInt64 = 0
        for coin in coins {
            if coin.isCoinbase, spendHeight - coin.height < Consensus.coinbaseMaturity { throw .prematureCoinbaseSpend }
            guard coin.output.value <= Consensus.maximumMoney else { throw .inputValuesOutOfRange }
            valueIn += coin.output.value
            guard valueIn <= Consensus.maximumMoney else { throw .inputValuesOutOfRange }
        }
        let valueOut = transaction.outputs.reduce(UInt64(0)) { $0 + $1.value }
        guard valueIn >= valueOut else { throw .inputsBelowOutputs }
        return valueIn - valueOut
    }

    /// BIP68 relative lock times (active from genesis on regtest) for a version 2+ transaction in a block at
    /// `height` whose previous block has `medianTimePast`.
    func sequenceLocksSatisfied(_ transaction: Transaction, coins: [Coin], height: UInt32, medianTimePast: UInt32) -> Bool {
        guard transaction.version >= 2 else { return true }
        var minimumHeight: Int64 = -1
        var minimumTime: Int64 = -1
        for (input, coin) in zip(transaction.inputs, coins) {
            let sequence = input.sequence
            if sequence & (1 << 31) != 0 { continue }
            let value = Int64(sequence & 0xffff)
            if sequence & (1 << 22) != 0 {
                let coinTime = Int64(self.medianTimePast(height: coin.height == 0 ? 0 : coin.height - 1))
                minimumTime = max(minimumTime, coinTime + (value << 9) - 1)
            } else {
                minimumHeight = max(minimumHeight, Int64(coin.height) + value - 1)
            }
        }
        return minimumHeight < Int64(height) && minimumTime < Int64(medianTimePast)
    }

    // MARK: Connecting

    /// Applies a plan from ``check(_:now:checkProofOfWork:)`` made against the current tip.
    mutating func apply(_ plan: ConnectPlan) {
        for outpoint in plan.spent { utxos.removeValue(forKey: outpoint) }
        for (outpoint, coin) in plan.created { utxos[outpoint] = coin }
        headers.append(plan.header)
        hashes.append(plan.hash)
        heightByHash[plan.hash] = plan.height
        medianTimes.append(ChainState.median(of: headers, upTo: headers.count - 1))
    }
}
