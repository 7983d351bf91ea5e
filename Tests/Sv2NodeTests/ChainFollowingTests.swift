import Bitcoin
import Sv2Binary
import Testing
@testable import Sv2Node

/// Following another node's chain: what to fetch, and divergence reported once.
@Suite("chain following: a node taking another node's blocks")
struct ChainFollowingTests {
    @Test("a follower from genesis takes the other chain block by block, its own generator spending the coins it gets")
    func follows() throws {
        let leader = try RegtestNode(configuration: testConfiguration(generationRate: 10, bootstrapBlocks: 105, seed: 1))
        let follower = try RegtestNode(configuration: testConfiguration(generationRate: 10, bootstrapBlocks: 0, seed: 2))
        var following = ChainFollowing()
        func step() -> ChainFollowing.Step {
            let tip = follower.tip
            let common = min(tip.height, leader.tip.height)
            return following.next(localHeight: tip.height, remoteHeight: leader.tip.height, agree: leader.blockHash(height: common) == follower.blockHash(height: common))
        }
        while case let .fetch(height) = step() {
            let block = try #require(leader.blockHash(height: height).flatMap { leader.block(hash: $0) })
            #expect((try? follower.submit(block).get()) == block.hash)
        }
        #expect(step() == .upToDate)
        #expect(follower.tip == leader.tip)
        follower.generateTransactions(now: testNow)
        leader.generateTransactions(now: testNow)
        let own = Set(follower.mempoolEntries.map(\.txid)).subtracting(leader.mempoolEntries.map(\.txid))
        #expect(!own.isEmpty, "the follower's generator makes transactions of its own")
        // The leader's next block, with its transactions, connects on the follower and evicts what conflicts.
        leader.generate(blocks: 1)
        #expect(step() == .fetch(height: 106))
        let next = try #require(leader.block(hash: leader.tip.hash))
        #expect((try? follower.submit(next).get()) == next.hash)
    }

    @Test("different blocks at one height are a divergence, reported once until the chains agree; a chain ahead is waited on")
    func diverges() {
        var following = ChainFollowing()
        #expect(following.next(localHeight: 5, remoteHeight: 5, agree: false) == .diverged(isNew: true))
        #expect(following.next(localHeight: 5, remoteHeight: 9, agree: false) == .diverged(isNew: false))
        #expect(following.isDiverged)
        #expect(following.next(localHeight: 5, remoteHeight: 4, agree: false) == .diverged(isNew: false))
        #expect(following.next(localHeight: 5, remoteHeight: 9, agree: true) == .fetch(height: 6))
        #expect(!following.isDiverged)
        #expect(following.next(localHeight: 6, remoteHeight: 4, agree: true) == .upToDate)
        #expect(following.next(localHeight: 6, remoteHeight: 4, agree: false) == .diverged(isNew: true))
    }
}
