import Bitcoin
import Foundation
import Sv2Binary
import Testing
@testable import Sv2Node

@Suite("regtest node: mining, templates, generator")
struct ChainTests {
    @Test("a new node starts at the regtest genesis block")
    func genesis() throws {
        let node = try RegtestNode(configuration: testConfiguration())
        #expect(node.tip.height == 0)
        #expect(node.tip.hash.displayHex == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206")
        #expect(node.blockHash(height: 0) == node.tip.hash)
        #expect(node.block(hash: node.tip.hash) == Network.regtest.genesisBlock)
        let template = node.template()
        #expect(template.height == 1 && template.bits == 0x207f_ffff && template.version == 0x2000_0000)
        #expect(template.coinbaseValue == 50 * 100_000_000 && template.fees == 0 && template.transactions.isEmpty)
        #expect(template.minimumTime == Network.regtest.genesisHeader.time + 1)
        #expect(template.currentTime == testNow)
        #expect(template.coinbaseScriptSigPrefix == [0x51])
        #expect(template.witnessCommitmentScript == WitnessCommitment.outputScript(nonCoinbaseWtxids: []))
    }

    @Test("mines 120 blocks from genesis in memory; heights, hashes, subsidy halving at 150")
    func mine120() throws {
        let node = try RegtestNode(configuration: testConfiguration(generationRate: 0))
        let start = Date()
        let hashes = node.generate(blocks: 120)
        let seconds = Date().timeIntervalSince(start)
        #expect(hashes.count == 120)
        #expect(node.tip == (hashes[119], 120))
        for (index, hash) in hashes.enumerated() {
            #expect(node.blockHash(height: UInt32(index + 1)) == hash)
            #expect(node.header(hash: hash)?.bits == 0x207f_ffff)
        }
        #expect(node.blockHash(height: 121) == nil)
        let block = try #require(node.block(hash: hashes[4]))
        #expect(try BIP34.height(inScriptSig: block.transactions[0].inputs[0].scriptSig) == 5)
        print("mined 120 blocks in \(String(format: "%.3f", seconds)) s (\(Int(120 / seconds)) blocks/s, debug build)")
        node.generate(blocks: 30)
        #expect(node.template().coinbaseValue == 25 * 100_000_000, "regtest halves at height 150")
        let info = node.chainInfo
        #expect(info.height == 150 && info.bestBlockHash == node.tip.hash && info.chainWork == U256(302))
        #expect(info.time >= testNow && info.time < testNow + 7200)
    }

    @Test("the bootstrap mines 110 blocks whose late blocks already carry generated transactions")
    func bootstrap() throws {
        let node = try RegtestNode(configuration: testConfiguration(generationRate: 10, bootstrapBlocks: 110))
        #expect(node.tip.height == 110)
        let late = try #require(node.blockHash(height: 105).flatMap { node.block(hash: $0) })
        #expect(late.transactions.count > 1)
        #expect(late.transactions.dropFirst().allSatisfy { $0.hasWitness })
        #expect(node.spendableCoinCount > 100)
    }

    @Test("generated transactions appear in templates with fees and witnesses; a block built from the template is accepted")
    func templatesWithFees() throws {
        let node = try nodeWithTransactions(rate: 25)
        let mempool = node.mempoolInfo
        #expect(mempool.count == 25)
        let template = node.template()
        #expect(template.transactions.count == 25)
        #expect(template.fees == mempool.totalFees && template.fees > 0)
        #expect(template.coinbaseValue == 50 * 100_000_000 + template.fees)
        #expect(template.transactions.allSatisfy { $0.hasWitness })
        let entries = node.mempoolEntries
        let rates = entries.map { Double($0.fee) / Double($0.virtualSize) }
        #expect(rates == rates.sorted(by: >), "fee rate order")
        #expect(rates.allSatisfy { $0 >= 1 && $0 <= 51 })
        #expect(Set(rates.map { Int($0) }).count > 3, "fee rates vary")
        #expect(template.transactions == entries.map(\.transaction))
        #expect(template.witnessCommitmentScript == WitnessCommitment.outputScript(nonCoinbaseWtxids: template.transactions.map(\.wtxid)))
        #expect(template.coinbaseScriptSigPrefix == BIP34.heightPush(121))

        // The coinbase a pool builds from the template: BIP34 prefix and its own data, payout, commitment.
        var coinbase = template.coinbase(payoutScript: [0x00, 0x14] + [UInt8](repeating: 0xab, count: 20), scriptSigSuffix: Array("/sv2 pool/".utf8) + [1, 2, 3, 4])
        coinbase.outputs[0].value = template.coinbaseValue
        var block = template.block(coinbase: coinbase)
        #expect(BlockTemplate.solve(&block))
        let changes = ChangeRecorder()
        node.onChange { changes.append($0) }
        #expect(try node.submit(block).get() == block.hash)
        #expect(node.tip == (block.hash, 121))
        #expect(node.mempoolInfo.count == 0, "confirmed transactions leave the mempool")
        #expect(changes.values == [.newTip(hash: block.hash, height: 121)])
        #expect(node.template().transactions.isEmpty)
        node.generateTransactions(now: testNow)
        #expect(changes.values.last == .mempoolChanged(totalFees: node.mempoolInfo.totalFees))
        // The generator spends the outputs the last block confirmed, too.
        #expect(node.mempoolInfo.count == 25)
    }

    @Test("the generator is deterministic for a seed")
    func deterministic() throws {
        let first = try nodeWithTransactions()
        let second = try nodeWithTransactions()
        #expect(first.template() == second.template())
        #expect(first.tip == second.tip)
    }

    @Test("templates respect the reserved weight and prefer higher fee rates")
    func reservedWeight() throws {
        let node = try nodeWithTransactions(rate: 40)
        let all = node.template()
        let weights = node.mempoolEntries.map(\.weight)
        let limit = 4_000_000 - weights.prefix(10).reduce(0, +)
        let smaller = node.template(reservedCoinbaseWeight: 4_000_000 - weights.prefix(10).reduce(0, +))
        #expect(limit > 0)
        #expect(smaller.transactions == Array(all.transactions.prefix(10)))
        #expect(node.template(reservedCoinbaseWeight: 4_000_000).transactions.isEmpty)
    }

    @Test("template time: max(now, median time past + 1)")
    func templateTime() throws {
        let node = try RegtestNode(configuration: testConfiguration(now: 1_296_688_602))
        node.generate(blocks: 20)
        let template = node.template()
        #expect(template.minimumTime == node.medianTimePast + 1)
        #expect(template.currentTime == template.minimumTime, "clock behind the chain: curtime is mintime")
        let later = try RegtestNode(configuration: testConfiguration(now: testNow))
        #expect(later.template().currentTime == testNow)
    }

    @Test("a block spending a mempool transaction's input removes the conflicting mempool entry")
    func conflicts() throws {
        let node = try nodeWithTransactions(rate: 5)
        let victim = try #require(node.mempoolEntries.first)
        let input = victim.transaction.inputs[0].previousOutput
        let value = try #require(node.unspentOutput(input)).value
        let rival = spend(input, value: value, fee: 500)
        var block = craftedBlock(node, solve: false) { block in
            block.transactions = [block.transactions[0], rival]
        }
        block.transactions[0].outputs[0].value = 50 * 100_000_000 + 500
        recommit(&block)
        BlockTemplate.solve(&block)
        _ = try node.submit(block).get()
        #expect(node.mempoolEntries.count == 4)
        #expect(!node.mempoolEntries.contains { $0.txid == victim.txid })
    }

    @Test("acceptToMempool: conflicts, missing inputs, immature coinbase, nonstandard spends")
    func mempoolAcceptance() throws {
        let node = try RegtestNode(configuration: testConfiguration(generationRate: 0))
        node.generate(blocks: 120)
        let (mature, value) = coinbaseOutpoint(node, height: 1)
        let first = spend(mature, value: value)
        #expect(try node.acceptToMempool(first).get() == first.txid)
        #expect(node.acceptToMempool(first) == .failure(.alreadyInMempool))
        #expect(node.acceptToMempool(spend(mature, value: value, fee: 2_000)) == .failure(.mempoolConflict))
        #expect(node.acceptToMempool(spend(OutPoint(txid: U256(9), vout: 0), value: value)) == .failure(.missingOrSpentInputs))
        let (young, youngValue) = coinbaseOutpoint(node, height: 100)
        #expect(node.acceptToMempool(spend(young, value: youngValue)) == .failure(.prematureCoinbaseSpend))
        let (other, otherValue) = coinbaseOutpoint(node, height: 2)
        #expect(node.acceptToMempool(spend(other, value: otherValue, witness: [[0x52]])) == .failure(.nonstandardInputs))
        var overspend = spend(other, value: otherValue)
        overspend.outputs[0].value = otherValue + 1
        #expect(node.acceptToMempool(overspend) == .failure(.inputsBelowOutputs))
        #expect(node.template().transactions == [first])
    }
}

/// Collects node changes from any thread.
final class ChangeRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [NodeChange] = []

    func append(_ change: NodeChange) {
        lock.lock()
        recorded.append(change)
        lock.unlock()
    }

    var values: [NodeChange] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
