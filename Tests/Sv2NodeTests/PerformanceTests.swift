import Foundation
import Sv2Node
import Testing

/// Seconds `body` takes.
func measure(_ body: () -> Void) -> Double {
    let start = Date()
    body()
    return Date().timeIntervalSince(start)
}

@Suite("performance figures (printed; bounds are loose, for debug builds)")
struct PerformanceTests {
    @Test("template build with 2,000 mempool transactions; validating and connecting that block")
    func largeTemplate() throws {
        let node = try RegtestNode(configuration: testConfiguration(generationRate: 2000, bootstrapBlocks: 120))
        var generation = 0.0
        for _ in 0..<5 where node.mempoolInfo.count < 2000 {
            if node.mempoolInfo.count > 0 { node.generate(blocks: 1) }
            generation = measure { node.generateTransactions(now: testNow) }
        }
        #expect(node.mempoolInfo.count == 2000)
        let first = measure { _ = node.template() }
        let cached = measure { _ = node.template() }
        let template = node.template()
        #expect(template.transactions.count == 2000)
        var block = template.block(coinbase: template.coinbase(payoutScript: NodeScripts.p2wshOpTrue))
        BlockTemplate.solve(&block)
        var accepted = false
        let submit = measure { accepted = (try? node.submit(block).get()) != nil }
        #expect(accepted)
        print(String(format: "2000 txs: generate %.1f ms, template %.1f ms (cached %.2f ms), submit %.1f ms, block weight %d",
                     generation * 1000, first * 1000, cached * 1000, submit * 1000, block.weight))
        #expect(first < 10)
    }

    @Test("blocks mined per second, in memory and with a datadir (fsync per block)")
    func miningRate() throws {
        let memory = try RegtestNode(configuration: testConfiguration(generationRate: 0))
        let inMemory = measure { memory.generate(blocks: 200) }
        let datadir = temporaryDatadir()
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let disk = try RegtestNode(configuration: testConfiguration(datadir: datadir, generationRate: 0))
        let onDisk = measure { disk.generate(blocks: 200) }
        var replayed: RegtestNode?
        disk.close()
        let replay = measure { replayed = try? RegtestNode(configuration: testConfiguration(datadir: datadir)) }
        #expect(replayed?.tip.height == 200)
        replayed?.close()
        print(String(format: "mining: %.0f blocks/s in memory, %.0f blocks/s with fsync; replay of 200 blocks %.1f ms",
                     200 / inMemory, 200 / onDisk, replay * 1000))
    }
}
