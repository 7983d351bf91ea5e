import Bitcoin
import Sv2Binary
import Testing
@testable import Sv2Node

@Suite("block validation: each rejection reason with a crafted block")
struct RejectionTests {
    /// A node mined to height 120 with 5 mempool transactions (template: coinbase + 5) spending 5 of the 21 mature
    /// coinbase outputs (heights 1 to 21).
    let node: RegtestNode
    /// Mature coinbase outputs no mempool transaction spends.
    let free: [(OutPoint, UInt64)]

    init() throws {
        let node = try RegtestNode(configuration: testConfiguration(generationRate: 5))
        node.generate(blocks: 120)
        node.generateTransactions(now: testNow)
        let spent = Set(node.mempoolEntries.flatMap { $0.transaction.inputs.map(\.previousOutput) })
        self.node = node
        free = (1...21).map { coinbaseOutpoint(node, height: $0) }.filter { !spent.contains($0.0) }
    }

    /// A transaction the block may add: spends the first mempool transaction's input again.
    private func rivalOfFirstMempoolTransaction() throws -> Transaction {
        let input = try #require(node.mempoolEntries.first).transaction.inputs[0].previousOutput
        return spend(input, value: try #require(node.unspentOutput(input)).value, fee: 777)
    }

    /// `transaction` appended to the template block, commitment and merkle root updated, solved.
    private func blockAdding(_ transaction: Transaction) -> Block {
        craftedBlock(node) { block in
            block.transactions.append(transaction)
            recommit(&block)
        }
    }

    @Test("the untouched template block is valid; submitting it again is a duplicate")
    func validAndDuplicate() throws {
        let block = craftedBlock(node)
        #expect(node.checkProposal(block) == nil)
        #expect(try node.submit(block).get() == block.hash)
        expectRejection(node.submit(block), "duplicate")
    }

    @Test("high-hash: a nonce that misses the target")
    func highHash() throws {
        var block = craftedBlock(node)
        let target = try block.header.compactTarget.target()
        while block.header.meets(target: target) { block.header.nonce &+= 1 }
        expectRejection(node.submit(block), "high-hash")
        #expect(node.checkProposal(block) == nil, "proposals skip the proof of work")
    }

    @Test("prev-blk-not-found / inconclusive: a block not on the tip")
    func previousBlock() throws {
        expectRejection(node.submit(craftedBlock(node) { $0.header.previousBlockHash = U256(12345) }), "prev-blk-not-found")
        let older = try #require(node.blockHash(height: 100))
        expectRejection(node.submit(craftedBlock(node) { $0.header.previousBlockHash = older }), "inconclusive")
    }

    @Test("bad-txnmrklroot and bad-txns-duplicate (CVE-2012-2459 mutation)")
    func merkle() throws {
        expectRejection(node.submit(craftedBlock(node, keepMerkleRoot: true) { $0.header.merkleRoot = U256(1) }), "bad-txnmrklroot")
        // Six transactions: repeating the last two keeps the root (the odd level-1 node pairs with itself).
        var block = craftedBlock(node)
        #expect(block.transactions.count == 6)
        let root = block.header.merkleRoot
        block.transactions += block.transactions.suffix(2)
        #expect(block.computedMerkleRoot == root)
        BlockTemplate.solve(&block)
        expectRejection(node.submit(block), "bad-txns-duplicate")
    }

    @Test("bad-witness-merkle-match, bad-witness-nonce-size, unexpected-witness")
    func witnessCommitment() throws {
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.outputs[1].scriptPubKey[37] ^= 1 })), "bad-witness-merkle-match")
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.inputs[0].witness = [] })), "bad-witness-nonce-size")
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.inputs[0].witness = [[UInt8](repeating: 0, count: 31)] })), "bad-witness-nonce-size")
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.outputs.removeLast() })), "unexpected-witness")
        // Another reserved value is fine when the commitment uses it.
        let reserved = [UInt8](repeating: 7, count: 32)
        let block = craftedBlock(node, block: { block in
            let root = block.computedWitnessRoot
            block.transactions[0].outputs[1].scriptPubKey = WitnessCommitment.outputScript(
                commitment: WitnessCommitment.commitment(witnessRoot: root, reservedValue: reserved))
        }, coinbase: { coinbase in coinbase.inputs[0].witness = [reserved] })
        #expect(try node.submit(block).get() == block.hash)
    }

    @Test("bad-cb-height, bad-cb-length, bad-cb-missing, bad-cb-multiple")
    func coinbaseShape() throws {
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.inputs[0].scriptSig = BIP34.heightPush(122) + [0] })), "bad-cb-height")
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.inputs[0].scriptSig = [0x00, 0x51] })), "bad-cb-height")
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.inputs[0].scriptSig = BIP34.heightPush(121) + [UInt8](repeating: 0, count: 100) })), "bad-cb-length")
        expectRejection(node.submit(craftedBlock(node) { $0.transactions.removeFirst() }), "bad-cb-missing")
        expectRejection(node.submit(craftedBlock(node) { $0.transactions.append($0.transactions[0]) }), "bad-cb-multiple")
    }

    @Test("bad-cb-amount: the coinbase claims one satoshi more than subsidy + fees")
    func coinbaseOverpay() throws {
        expectRejection(node.submit(craftedBlock(node, coinbase: { $0.outputs[0].value += 1 })), "bad-cb-amount")
        // Claiming less is allowed.
        let block = craftedBlock(node, coinbase: { $0.outputs[0].value -= 1 })
        #expect(try node.submit(block).get() == block.hash)
    }

    @Test("bad-txns-inputs-missingorspent: double spend inside the block, unknown input")
    func doubleSpend() throws {
        expectRejection(node.submit(blockAdding(try rivalOfFirstMempoolTransaction())), "bad-txns-inputs-missingorspent")
        expectRejection(node.submit(blockAdding(spend(OutPoint(txid: U256(42), vout: 0), value: 10_000))), "bad-txns-inputs-missingorspent")
    }

    @Test("an output created earlier in the block may be spent later in it")
    func inBlockChain() throws {
        let (coin, value) = free[0]
        let parent = spend(coin, value: value)
        let child = spend(OutPoint(txid: parent.txid, vout: 0), value: parent.outputs[0].value)
        let block = craftedBlock(node, block: { block in
            block.transactions += [parent, child]
            recommit(&block)
        }, coinbase: { $0.outputs[0].value += 2_000 })
        #expect(node.checkProposal(block) == nil)
        let reversed = craftedBlock(node) { block in
            block.transactions += [child, parent]
            recommit(&block)
        }
        expectRejection(node.submit(reversed), "bad-txns-inputs-missingorspent")
    }

    @Test("bad-txns-premature-spend-of-coinbase: a coinbase output with fewer than 100 confirmations")
    func immatureSpend() throws {
        let (young, value) = coinbaseOutpoint(node, height: 110)
        expectRejection(node.submit(blockAdding(spend(young, value: value))), "bad-txns-premature-spend-of-coinbase")
        // Exactly 100 confirmations is mature: the coinbase of height 21 in block 121.
        let (mature, matureValue) = coinbaseOutpoint(node, height: 21)
        if free.contains(where: { $0.0 == mature }) {
            #expect(node.checkProposal(blockAdding(spend(mature, value: matureValue))) == nil)
        }
        let (early, earlyValue) = coinbaseOutpoint(node, height: 22)
        expectRejection(node.submit(blockAdding(spend(early, value: earlyValue))), "bad-txns-premature-spend-of-coinbase")
    }

    @Test("bad-txns-in-belowout, bad-txns-nonstandard-inputs, bad-txns-nonfinal")
    func transactionRules() throws {
        let (coin, value) = free[1]
        var overspend = spend(coin, value: value)
        overspend.outputs[0].value = value + 1
        expectRejection(node.submit(blockAdding(overspend)), "bad-txns-in-belowout")
        expectRejection(node.submit(blockAdding(spend(coin, value: value, witness: [[0x52]]))), "bad-txns-nonstandard-inputs")
        expectRejection(node.submit(blockAdding(spend(coin, value: value, witness: []))), "bad-txns-nonstandard-inputs")
        var locked = spend(coin, value: value)
        locked.lockTime = 500
        locked.inputs[0].sequence = 0xffff_fffe
        expectRejection(node.submit(blockAdding(locked)), "bad-txns-nonfinal")
        var relative = spend(coin, value: value)
        relative.inputs[0].sequence = 200 // BIP68: 200 blocks after the coin's block
        expectRejection(node.submit(blockAdding(relative)), "bad-txns-nonfinal")
        relative.inputs[0].sequence = 100
        #expect(node.checkProposal(blockAdding(relative)) == nil)
    }

    @Test("time-too-old, time-too-new, bad-diffbits, bad-version")
    func header() throws {
        let medianTimePast = node.medianTimePast
        expectRejection(node.submit(craftedBlock(node) { $0.header.time = medianTimePast }), "time-too-old")
        expectRejection(node.submit(craftedBlock(node) { $0.header.time = testNow + 7201 }), "time-too-new")
        #expect(node.checkProposal(craftedBlock(node) { $0.header.time = testNow + 7200 }) == nil)
        #expect(node.checkProposal(craftedBlock(node) { $0.header.time = medianTimePast + 1 }) == nil)
        expectRejection(node.submit(craftedBlock(node) { $0.header.bits = 0x207f_fffe }), "bad-diffbits")
        expectRejection(node.submit(craftedBlock(node) { $0.header.bits = 0x2100_ffff }), "high-hash")
        expectRejection(node.submit(craftedBlock(node) { $0.header.version = 3 }), "bad-version(0x00000003)")
    }

    @Test("bad-blk-sigops and bad-blk-weight")
    func limits() throws {
        let (coin, value) = free[2]
        var sigops = spend(coin, value: value)
        sigops.outputs.append(TransactionOutput(value: 0, scriptPubKey: [UInt8](repeating: Script.opCheckSig, count: 20_001)))
        expectRejection(node.submit(blockAdding(sigops)), "bad-blk-sigops")
        let heavy = spend(coin, value: value, witness: [[UInt8](repeating: 1, count: 4_000_000), NodeScripts.opTrue])
        expectRejection(node.submit(blockAdding(heavy)), "bad-blk-weight")
    }

    @Test("rejected blocks leave the tip and the mempool as they were")
    func nothingChanges() throws {
        let tip = node.tip
        let mempool = node.mempoolInfo
        _ = node.submit(blockAdding(try rivalOfFirstMempoolTransaction()))
        _ = node.submit(craftedBlock(node, coinbase: { $0.outputs[0].value += 1 }))
        #expect(node.tip == tip)
        #expect(node.mempoolInfo == mempool)
    }
}
