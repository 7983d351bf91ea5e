import Foundation
import Sv2Node
import Sv2Sessions
import Sv2TestSupport
import Testing

@Suite("libbitcoinkernel agrees with the node (Tests/Kernel/validate_chain.py)")
struct KernelTests {
    @Test(
        "150 blocks with generated segwit transactions, served over JSON-RPC, all accepted by libbitcoinkernel",
        .enabled(if: KernelCheck.python != nil, "set SV2_PBK_PYTHON to a python with py-bitcoinkernel")
    )
    func kernelAcceptsChain() throws {
        let python = try #require(KernelCheck.python)
        let node = try RegtestNode(configuration: RegtestNodeConfiguration(
            generationRate: 20, randomSeed: 11, bootstrapBlocks: 110))
        while node.tip.height < 150 {
            node.generateTransactions(now: Sv2Clock.system.now().unixSeconds)
            node.generate(blocks: 1)
        }
        let (status, text) = try KernelCheck.validate(node, python: python)
        #expect(status == 0, "\(text)")
        #expect(text.contains("VALID: all 150 blocks"))
    }
}
