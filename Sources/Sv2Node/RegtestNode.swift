import Bitcoin
import Foundation
import Synchronization
import Sv2Binary

/// The chain as `getblockchaininfo` reports it.
public struct ChainInfo: Sendable, Hashable {
    /// Height of the tip.
    public var height: UInt32
    /// Hash of the tip, internal byte order.
    public var bestBlockHash: U256
    /// nBits of the tip.
    public var bits: UInt32
    /// The target of those nBits.
    public var target: U256
    /// The tip's time.
    public var time: UInt32
    /// Median time past of the tip.
    public var medianTime: UInt32
    /// Total work of the chain (2 per regtest block, genesis included).
    public var chainWork: U256
    /// Bytes the block file takes.
    public var sizeOnDisk: Int
}

/// The mempool as `getmempoolinfo` reports it.
public struct MempoolInfo: Sendable, Hashable {
    /// Number of transactions.
    public var count: Int
    /// Sum of their virtual sizes.
    public var virtualSize: Int
    /// Sum of their fees, in satoshis.
    public var totalFees: UInt64
    /// A counter that changes whenever the mempool does.
    public var sequence: UInt64
}

/// An embedded regtest node: the chain from the regtest genesis block with a UTXO set, full validation of the
/// blocks it is given (for the transaction kinds it creates itself), a mempool filled by a built-in transaction
/// generator, block templates, and persistence in a datadir.
///
/// Internally synchronised with a mutex: every method may be called from any thread. Change handlers run after the
/// mutex is released.
public final class RegtestNode: Sendable {
    /// The configuration the node was created with.
    public let configuration: RegtestNodeConfiguration
    /// Warnings from opening the datadir (e.g. a truncated last block record removed), also sent to
    /// ``RegtestNodeConfiguration/log``.
    public let startupWarnings: [String]

    /// Everything that changes, behind one mutex.
    private struct State {
        var core: NodeCore
        var handlers: [@Sendable (NodeChange) -> Void] = []
        var closed = false
    }

    private let state: Mutex<State>

    /// Opens or creates the datadir (nil: in memory), replays and revalidates every stored block, and on an empty
    /// chain mines the bootstrap blocks.
    public init(configuration: RegtestNodeConfiguration) throws(NodeError) {
        self.configuration = configuration
        let store: BlockFile
        let contents: BlockFile.Contents
        if let datadir = configuration.datadir {
            store = try BlockFile(datadir: datadir)
            contents = try store.load(datadir: datadir)
        } else {
            store = BlockFile()
            contents = BlockFile.Contents(blocks: [])
        }
        var warnings = [String]()
        if let warning = contents.warning {
            warnings.append(warning)
            configuration.log(warning)
        }
        startupWarnings = warnings
        var core = NodeCore(store: store, seed: configuration.randomSeed)
        try Self.replay(contents.blocks, into: &core, path: store.path ?? "memory")
        if contents.blocks.isEmpty { try store.append(Consensus.network.genesisBlock.serialized) }
        if core.chain.tipHeight == 0, configuration.bootstrapBlocks > 0 { try Self.bootstrap(&core, configuration: configuration) }
        state = Mutex(State(core: core))
    }

    /// Connects stored blocks in order, revalidating each (all rules but the clock's).
    private static func replay(_ blocks: [[UInt8]], into core: inout NodeCore, path: String) throws(NodeError) {
        guard let first = blocks.first else { return }
        guard first == Consensus.network.genesisBlock.serialized else {
            let found = (try? Block(bytes: first).hash.displayHex) ?? "unparsable"
            throw .foreignNetwork(path: path, found: "a chain whose first block is \(found), not the regtest genesis block")
        }
        for (index, bytes) in blocks.enumerated().dropFirst() {
            let height = UInt32(index)
            let block: Block
            do {
                block = try Block(bytes: bytes)
            } catch {
                throw .invalidStoredBlock(path: path, height: height, reason: "does not parse: \(error)")
            }
            switch core.chain.check(block, now: nil) {
            case let .success(plan): try core.connect(plan, block: block, persist: false)
            case let .failure(rejection): throw .invalidStoredBlock(path: path, height: height, reason: rejection.explanation)
            }
        }
    }

    /// Mines the bootstrap blocks; from height 101 on each carries generated transactions spending the matured
    /// coinbases.
    private static func bootstrap(_ core: inout NodeCore, configuration: RegtestNodeConfiguration) throws(NodeError) {
        for _ in 0..<configuration.bootstrapBlocks {
            let now = configuration.clock.now().unixSeconds
            if configuration.generationRate > 0, core.chain.tipHeight >= Consensus.coinbaseMaturity {
                _ = core.generate(count: max(configuration.generationRate, 50), feeRates: configuration.feeRates, now: now)
            }
            var block = core.template(reservedWeight: 4000, now: now).0.minedBlock(payoutScript: configuration.bootstrapPayoutScript)
            BlockTemplate.solve(&block)
            switch core.chain.check(block, now: now) {
            case let .success(plan): try core.connect(plan, block: block, persist: true)
            case let .failure(rejection):
                throw .invalidStoredBlock(path: core.store.path ?? "memory", height: core.chain.tipHeight + 1,
                                          reason: "bootstrap block rejected: \(rejection.explanation)")
            }
        }
    }

    // MARK: Chain

    /// The tip's hash (internal byte order) and height.
    public var tip: (hash: U256, height: UInt32) {
        locked { ($0.chain.tipHash, $0.chain.tipHeight) }
    }

    /// The hash of the block at `height`, nil above the tip.
    public func blockHash(height: UInt32) -> U256? {
        locked { core in height <= core.chain.tipHeight ? core.chain.hashes[Int(height)] : nil }
    }

    /// The height of the block with `hash`, nil if not in the chain.
    public func height(of hash: U256) -> UInt32? {
        locked { $0.chain.heightByHash[hash] }
    }

    /// The header of the block with `hash`, nil if not in the chain.
    public func header(hash: U256) -> BlockHeader? {
        locked { core in core.chain.heightByHash[hash].map { core.chain.headers[Int($0)] } }
    }

    /// Median time past of the block at `height` (the median of its and its 10 predecessors' times), nil above the
    /// tip.
    public func medianTimePast(height: UInt32) -> UInt32? {
        locked { core in height <= core.chain.tipHeight ? core.chain.medianTimePast(height: height) : nil }
    }

    /// The block with `hash` (read from the block file), nil if not in the chain.
    public func block(hash: U256) -> Block? {
        locked { core in
            guard let height = core.chain.heightByHash[hash], let bytes = core.store.read(height: Int(height)) else { return nil }
            return try? Block(bytes: bytes)
        }
    }

    /// The coins the block at `height` spent from the UTXO set (its undo data; outputs it created and spent itself
    /// are not among them).
    public func spentCoins(height: UInt32) -> [OutPoint: Coin] {
        locked { $0.undo[height] ?? [:] }
    }

    /// The raw bytes of the block with `hash`, nil if not in the chain.
    public func blockBytes(hash: U256) -> [UInt8]? {
        locked { core in core.chain.heightByHash[hash].flatMap { core.store.read(height: Int($0)) } }
    }

    /// Tip, time, work and disk use, for `getblockchaininfo`.
    public var chainInfo: ChainInfo {
        locked { core in
            let header = core.chain.tipHeader
            return ChainInfo(
                height: core.chain.tipHeight, bestBlockHash: core.chain.tipHash, bits: header.bits,
                target: (try? header.compactTarget.target()) ?? .zero, time: header.time,
                medianTime: core.chain.tipMedianTimePast, chainWork: U256(UInt64(core.chain.tipHeight) * 2 + 2),
                sizeOnDisk: core.store.sizeOnDisk
            )
        }
    }

    /// Median time past of the tip (the last 11 block times' median).
    public var medianTimePast: UInt32 {
        locked { $0.chain.tipMedianTimePast }
    }

    /// The unspent output at `outpoint`, if any.
    public func unspentOutput(_ outpoint: OutPoint) -> TransactionOutput? {
        locked { $0.chain.utxos[outpoint]?.output }
    }

    // MARK: Templates and blocks

    /// A template on the tip: mempool transactions by fee rate within the block weight limit minus
    /// `reservedCoinbaseWeight` (header and coinbase, as Bitcoin Core's `-blockreservedweight`), curtime from the
    /// clock.
    public func template(reservedCoinbaseWeight: Int = 4000) -> BlockTemplate {
        detailedTemplate(reservedCoinbaseWeight: reservedCoinbaseWeight).template
    }

    /// ``template(reservedCoinbaseWeight:)`` with the mempool entries of its transactions (fees, weights, ids and
    /// serialisations, for `getblocktemplate`) and the matching ``longPollID``.
    public func detailedTemplate(reservedCoinbaseWeight: Int = 4000) -> (template: BlockTemplate, entries: [MempoolEntry], longPollID: String) {
        let now = configuration.clock.now().unixSeconds
        return locked { core in
            let (template, entries) = core.template(reservedWeight: reservedCoinbaseWeight, now: now)
            return (template, entries, RegtestNode.longPollID(core))
        }
    }

    /// Identifies the tip and mempool state templates are built from: the tip hash (display hex) followed by the
    /// mempool's change counter, as bitcoind's longpollid. It changes exactly when a new template could differ.
    public var longPollID: String {
        locked { RegtestNode.longPollID($0) }
    }

    private static func longPollID(_ core: NodeCore) -> String {
        core.chain.tipHash.displayHex + String(core.mempool.sequence)
    }

    /// Validates `block`, persists it (fsync), connects it, then notifies ``onChange(_:)`` handlers of the new tip.
    /// Returns the block hash, or why the block was refused (Bitcoin Core's reason strings).
    public func submit(_ block: Block) -> Result<U256, BlockRejection> {
        let now = configuration.clock.now().unixSeconds
        let result: Result<(U256, UInt32), BlockRejection> = state.withLock { state in
            switch state.core.chain.check(block, now: now) {
            case let .failure(rejection):
                return .failure(rejection)
            case let .success(plan):
                guard !state.closed else { return .failure(.notStored(reason: "the node is closed")) }
                do {
                    try state.core.connect(plan, block: block, persist: true)
                } catch {
                    return .failure(.notStored(reason: "\(error)"))
                }
                return .success((plan.hash, plan.height))
            }
        }
        switch result {
        case let .success((hash, height)):
            notify(.newTip(hash: hash, height: height))
            return .success(hash)
        case let .failure(rejection):
            return .failure(rejection)
        }
    }

    /// Checks `block` as a block proposal (`getblocktemplate` mode "proposal"): every rule except the proof of
    /// work, without connecting it. Nil when it would be valid.
    public func checkProposal(_ block: Block) -> BlockRejection? {
        let now = configuration.clock.now().unixSeconds
        return locked { core in
            if case let .failure(rejection) = core.chain.check(block, now: now, checkProofOfWork: false) { return rejection }
            return nil
        }
    }

    /// Mines `count` blocks on the tip from the node's own templates, paying to `payoutScript` (like bitcoind's
    /// `generatetoaddress`); returns their hashes. Stops early if a block cannot be stored.
    @discardableResult
    public func generate(blocks count: Int, payoutScript: [UInt8] = NodeScripts.p2wshOpTrue) -> [U256] {
        var hashes = [U256]()
        for _ in 0..<max(count, 0) {
            var block = template().minedBlock(payoutScript: payoutScript)
            BlockTemplate.solve(&block)
            guard case let .success(hash) = submit(block) else { break }
            hashes.append(hash)
        }
        return hashes
    }

    // MARK: Mempool

    /// The built-in generator's step: creates ``RegtestNodeConfiguration/generationRate`` transactions spending
    /// confirmed P2WSH(OP_TRUE) coins, at fee rates drawn from ``RegtestNodeConfiguration/feeRates``, and notifies
    /// handlers if the mempool changed. `now` stamps the mempool entries.
    public func generateTransactions(now: UInt32) {
        guard configuration.generationRate > 0 else { return }
        let (added, fees) = locked { core in
            (core.generate(count: configuration.generationRate, feeRates: configuration.feeRates, now: now), core.mempool.totalFees)
        }
        if added > 0 { notify(.mempoolChanged(totalFees: fees)) }
    }

    /// Adds a transaction to the mempool (like `sendrawtransaction`). It must spend only confirmed outputs no
    /// mempool transaction spends, and only the kinds of output this node validates (P2WSH(OP_TRUE), OP_TRUE).
    public func acceptToMempool(_ transaction: Transaction) -> Result<U256, TransactionRejection> {
        let now = configuration.clock.now().unixSeconds
        let result = locked { core in core.accept(transaction, now: now).map { ($0.txid, core.mempool.totalFees) } }
        switch result {
        case let .success((txid, fees)):
            notify(.mempoolChanged(totalFees: fees))
            return .success(txid)
        case let .failure(rejection):
            return .failure(rejection)
        }
    }

    /// The mempool's transactions by decreasing fee rate.
    public var mempoolEntries: [MempoolEntry] {
        locked { $0.mempool.byFeeRate }
    }

    /// Size, fees and change counter of the mempool.
    public var mempoolInfo: MempoolInfo {
        locked { core in
            MempoolInfo(count: core.mempool.entries.count, virtualSize: core.mempool.totalVirtualSize,
                        totalFees: core.mempool.totalFees, sequence: core.mempool.sequence)
        }
    }

    /// How many confirmed coins the generator can spend now.
    public var spendableCoinCount: Int {
        locked { $0.spendable.count }
    }

    // MARK: Notifications and shutdown

    /// Registers `handler` for every later change (new tip, mempool change). Handlers run on the thread that made
    /// the change, after the node's lock is released; keep them short.
    public func onChange(_ handler: @escaping @Sendable (NodeChange) -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// Syncs and closes the block file and releases the datadir lock; later submissions are refused.
    public func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            state.core.store.closeFile()
        }
    }

    private func notify(_ change: NodeChange) {
        let current = state.withLock { $0.handlers }
        for handler in current { handler(change) }
    }

    private func locked<T: Sendable>(_ body: (inout NodeCore) -> T) -> T {
        state.withLock { body(&$0.core) }
    }
}

extension BlockTemplate {
    /// A block of this template whose coinbase pays ``coinbaseValue`` to `payoutScript`, nonce still to be found.
    func minedBlock(payoutScript: [UInt8]) -> Block {
        block(coinbase: coinbase(payoutScript: payoutScript))
    }
}
