import Bitcoin
import Sv2Binary
import Testing
@testable import Sv2Node

/// Following another node's chain: what to fetch, what to connect, divergence reported once.
@Suite("chain following: a node taking another node's blocks")
struct ChainFollowingTests {
    @Test("a follower from genesis takes the other chain block by block, its own generator spending the coins it gets")
    func follows() throws {
        let leader = try RegtestNode(configuration: testConfiguration(generationRate: 10, bootstrapBlocks: 105, seed: 1))
        let follower = try RegtestNode(configuration: testConfiguration(generationRate: 10, bootstrapBlocks: 0, seed: 2))
        var following = ChainFollowing()
        #expect(following.next(localHeight: 105, remoteHeight: 105) == .upToDate)
        while case let .fetch(height) = following.next(localHeight: follower.tip.height, remoteHeight: leader.tip.height) {
            let block = try #require(leader.blockHash(height: height).flatMap { leader.block(hash: $0) })
            #expect(following.judge(block, localTip: follower.tip.hash) == .connect)
            #expect((try? follower.submit(block).get()) == block.hash)
        }
        #expect(follower.tip == leader.tip)
        follower.generateTransactions(now: testNow)
        leader.generateTransactions(now: testNow)
        let own = Set(follower.mempoolEntries.map(\.txid)).subtracting(leader.mempoolEntries.map(\.txid))
        #expect(!own.isEmpty, "the follower's generator makes transactions of its own")
        // The leader's next block, with its transactions, connects on the follower and evicts what conflicts.
        leader.generate(blocks: 1)
        let next = try #require(leader.block(hash: leader.tip.hash))
        #expect(following.judge(next, localTip: follower.tip.hash) == .connect)
        #expect((try? follower.submit(next).get()) == next.hash)
    }

    @Test("a block that does not extend the local tip is a divergence, reported once until the chains meet again")
    func diverges() throws {
        let node = try RegtestNode(configuration: testConfiguration(generationRate: 0, bootstrapBlocks: 3))
        let block = try #require(node.block(hash: node.tip.hash))
        var following = ChainFollowing()
        #expect(following.judge(block, localTip: U256(1)) == .diverged(isNew: true))
        #expect(following.judge(block, localTip: U256(1)) == .diverged(isNew: false))
        #expect(following.isDiverged)
        #expect(following.judge(block, localTip: block.header.previousBlockHash) == .connect)
        #expect(!following.isDiverged)
    }
}
