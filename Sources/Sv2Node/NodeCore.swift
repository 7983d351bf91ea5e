import Bitcoin
import Sv2Binary

/// The node's mutable state: chain and UTXO set, block storage, mempool, the generator's coins and randomness.
/// Not thread-safe; ``RegtestNode`` holds it under its lock.
struct NodeCore {
    /// The active chain and UTXO set.
    var chain = ChainState()
    /// Waiting transactions.
    var mempool = Mempool()
    /// Coins the generator may spend.
    var spendable = SpendableCoins()
    /// The node's random numbers.
    var random: NodeRandom
    /// Where blocks are persisted.
    let store: BlockFile
    /// Undo data: the coins each block spent from the UTXO set, by height (for fees and prevouts in `getblock`).
    private(set) var undo = [UInt32: [OutPoint: Coin]]()
    /// The last template's transaction selection, valid while tip, mempool and reserved weight are unchanged.
    private var selectionCache: (key: SelectionKey, selection: Selection)?

    /// What a cached selection depends on.
    private struct SelectionKey: Equatable {
        var tip: U256
        var mempoolSequence: UInt64
        var reservedWeight: Int
    }

    /// Transactions chosen for a template, with their fees and the witness commitment over them.
    struct Selection {
        /// The entries, block order.
        var entries: [MempoolEntry]
        /// Their fees.
        var fees: UInt64
        /// `6a24aa21a9ed || commitment`.
        var commitmentScript: [UInt8]
    }

    /// A core over `store` with randomness from `seed`.
    init(store: BlockFile, seed: UInt64) {
        self.store = store
        random = NodeRandom(seed: seed)
    }

    // MARK: Blocks

    /// Persists the block of `plan` (unless `persist` is false, when replaying), then connects it: UTXO set,
    /// generator coins, mempool.
    mutating func connect(_ plan: ConnectPlan, block: Block, persist: Bool) throws(NodeError) {
        if persist { try store.append(block.serialized) }
        undo[plan.height] = Dictionary(plan.spent.compactMap { outpoint in chain.utxos[outpoint].map { (outpoint, $0) } }) { first, _ in first }
        chain.apply(plan)
        for outpoint in plan.spent { spendable.remove(outpoint) }
        for (outpoint, coin) in plan.created where NodeScripts.isSpendableByNode(coin.output.scriptPubKey) {
            if coin.isCoinbase {
                spendable.insertImmature(outpoint, height: coin.height)
            } else {
                spendable.insert(outpoint)
            }
        }
        spendable.promote(tipHeight: plan.height)
        let conflicts = mempool.removeForBlock(txids: Array(plan.txids.dropFirst()), spent: plan.spent)
        for entry in conflicts {
            for input in entry.transaction.inputs { returnToSpendable(input.previousOutput) }
        }
        selectionCache = nil
    }

    /// Makes `outpoint` spendable by the generator again if it is still an unspent, mature coin of the node's kind.
    private mutating func returnToSpendable(_ outpoint: OutPoint) {
        guard let coin = chain.utxos[outpoint], NodeScripts.isSpendableByNode(coin.output.scriptPubKey),
              mempool.spentBy[outpoint] == nil else { return }
        if !coin.isCoinbase || chain.tipHeight + 1 - coin.height >= Consensus.coinbaseMaturity {
            spendable.insert(outpoint)
        }
    }

    // MARK: Templates

    /// The template on the tip: mempool transactions by fee rate within 4,000,000 − `reservedWeight` weight and
    /// 80,000 − 400 sigop cost, the time from `now`.
    mutating func template(reservedWeight: Int, now: UInt32) -> (BlockTemplate, [MempoolEntry]) {
        let selection = select(reservedWeight: reservedWeight)
        let height = chain.tipHeight + 1
        let minimumTime = chain.tipMedianTimePast &+ 1
        let template = BlockTemplate(
            height: height,
            version: 0x2000_0000,
            previousBlockHash: chain.tipHash,
            bits: Consensus.regtestBits,
            target: (try? CompactTarget(bits: Consensus.regtestBits).target()) ?? Consensus.network.powLimit,
            minimumTime: minimumTime,
            currentTime: max(now, minimumTime),
            coinbaseValue: Consensus.network.blockSubsidy(height: height) + selection.fees,
            fees: selection.fees,
            transactions: selection.entries.map(\.transaction),
            witnessCommitmentScript: selection.commitmentScript,
            coinbaseScriptSigPrefix: BIP34.heightPush(height)
        )
        return (template, selection.entries)
    }

    /// The cached or a fresh transaction selection.
    private mutating func select(reservedWeight: Int) -> Selection {
        let key = SelectionKey(tip: chain.tipHash, mempoolSequence: mempool.sequence, reservedWeight: reservedWeight)
        if let cache = selectionCache, cache.key == key { return cache.selection }
        let weightLimit = Consensus.maximumBlockWeight - min(max(reservedWeight, 0), Consensus.maximumBlockWeight)
        let sigopsLimit = Consensus.maximumBlockSigopsCost - 400
        var weight = 0
        var sigops = 0
        var fees: UInt64 = 0
        var chosen = [MempoolEntry]()
        for entry in mempool.byFeeRate
        where weight + entry.weight <= weightLimit && sigops + entry.sigopsCost <= sigopsLimit {
            weight += entry.weight
            sigops += entry.sigopsCost
            fees += entry.fee
            chosen.append(entry)
        }
        let selection = Selection(
            entries: chosen, fees: fees,
            commitmentScript: WitnessCommitment.outputScript(nonCoinbaseWtxids: chosen.map(\.wtxid))
        )
        selectionCache = (key, selection)
        return selection
    }

    // MARK: Mempool

    /// Checks `transaction` for the mempool: valid in the next block on its own, spending only confirmed outputs
    /// that no mempool transaction spends. Adds it and returns its entry.
    mutating func accept(_ transaction: Transaction, now: UInt32) -> Result<MempoolEntry, TransactionRejection> {
        let txid = transaction.txid
        if mempool.entries[txid] != nil { return .failure(.alreadyInMempool) }
        guard !transaction.isCoinbase else { return .failure(.coinbase) }
        switch ChainState.checkTransaction(transaction, strippedSize: transaction.baseSize) {
        case nil: break
        case .badCoinbaseLength?: return .failure(.coinbase)
        case let .transaction(rejection)?: return .failure(rejection)
        }
        let height = chain.tipHeight + 1
        guard ChainState.isFinal(transaction, height: height, lockTimeCutoff: chain.tipMedianTimePast) else {
            return .failure(.nonFinal)
        }
        var coins = [Coin]()
        for input in transaction.inputs {
            guard mempool.spentBy[input.previousOutput] == nil else { return .failure(.mempoolConflict) }
            guard let coin = chain.utxos[input.previousOutput] else { return .failure(.missingOrSpentInputs) }
            coins.append(coin)
        }
        let fee: UInt64
        do {
            fee = try ChainState.checkInputs(transaction, coins: coins, spendHeight: height)
        } catch {
            return .failure(error)
        }
        guard chain.sequenceLocksSatisfied(transaction, coins: coins, height: height, medianTimePast: chain.tipMedianTimePast) else {
            return .failure(.nonFinal)
        }
        for (input, coin) in zip(transaction.inputs, coins)
        where !NodeScripts.verifySpend(scriptPubKey: coin.output.scriptPubKey, input: input) {
            return .failure(.nonstandardInputs)
        }
        let entry = MempoolEntry(transaction: transaction, fee: fee, time: now, height: chain.tipHeight)
        mempool.add(entry)
        for input in transaction.inputs { spendable.remove(input.previousOutput) }
        return .success(entry)
    }

    /// Smallest output the generator creates, in satoshis (well above P2WSH dust).
    static let minimumOutputValue: UInt64 = 1_000

    /// The generator's step: up to `count` transactions, each spending one random spendable coin to 1 or 2
    /// P2WSH(OP_TRUE) outputs (10 while few coins are spendable, so the pool grows) at a fee rate drawn from
    /// `feeRates`. Returns how many entered the mempool.
    mutating func generate(count: Int, feeRates: ClosedRange<UInt64>, now: UInt32) -> Int {
        var added = 0
        var attempts = 0
        while added < count, spendable.count > 0, attempts < count * 2 {
            attempts += 1
            let index = Int(random.next() % UInt64(spendable.count))
            let outpoint = spendable.items[index]
            spendable.remove(outpoint)
            guard let coin = chain.utxos[outpoint], mempool.spentBy[outpoint] == nil else { continue }
            let fanOut = spendable.count < max(200, 4 * count) ? 10 : Int(random.next(in: 1...2))
            let feeRate = random.next(in: feeRates)
            guard let transaction = spendingTransaction(outpoint, value: coin.output.value, outputs: fanOut, feeRate: feeRate)
                ?? spendingTransaction(outpoint, value: coin.output.value, outputs: 1, feeRate: feeRate)
            else { continue } // worth too little to spend: leave it unused
            if case .success = accept(transaction, now: now) { added += 1 }
        }
        return added
    }

    /// A transaction spending the P2WSH(OP_TRUE) or OP_TRUE coin `outpoint` worth `value` to `outputs` equal
    /// P2WSH(OP_TRUE) outputs, paying `feeRate` sat/vB; nil if the value does not cover fee and outputs.
    private func spendingTransaction(_ outpoint: OutPoint, value: UInt64, outputs: Int, feeRate: UInt64) -> Transaction? {
        let witness = chain.utxos[outpoint]?.output.scriptPubKey == NodeScripts.opTrue ? [] : NodeScripts.p2wshOpTrueWitness
        var transaction = Transaction(
            version: 2,
            inputs: [TransactionInput(previousOutput: outpoint, scriptSig: [], sequence: .max, witness: witness)],
            outputs: Array(repeating: TransactionOutput(value: 0, scriptPubKey: NodeScripts.p2wshOpTrue), count: outputs),
            lockTime: 0
        )
        let (fee, overflow) = feeRate.multipliedReportingOverflow(by: UInt64(transaction.virtualSize))
        guard !overflow, fee <= value, value - fee >= UInt64(outputs) * NodeCore.minimumOutputValue else { return nil }
        let share = (value - fee) / UInt64(outputs)
        for index in transaction.outputs.indices { transaction.outputs[index].value = share }
        transaction.outputs[0].value += (value - fee) - share * UInt64(outputs)
        return transaction
    }
}
