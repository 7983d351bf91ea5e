import Bitcoin
import Foundation
import Sv2Binary
import Sv2Node
import Sv2Sessions
import Testing

/// The fixed time of the test clock.
let testNow: UInt32 = 1_700_000_000

/// A configuration for tests: in memory, fixed clock, fixed seed.
func testConfiguration(
    datadir: String? = nil, generationRate: Int = 10, bootstrapBlocks: Int = 0, seed: UInt64 = 7,
    now: UInt32 = testNow
) -> RegtestNodeConfiguration {
    RegtestNodeConfiguration(
        datadir: datadir, generationRate: generationRate, clock: .fixed(Timestamp(unixSeconds: now)), randomSeed: seed, bootstrapBlocks: bootstrapBlocks
    )
}

/// A node bootstrapped to height 120 from genesis (its own blocks, paying P2WSH(OP_TRUE), the last ones splitting
/// matured coins), with `rate` generated transactions in the mempool.
func nodeWithTransactions(rate: Int = 10) throws -> RegtestNode {
    let node = try RegtestNode(configuration: testConfiguration(generationRate: rate, bootstrapBlocks: 120))
    node.generateTransactions(now: testNow)
    return node
}

/// A solved block of `node`'s current template paying to P2WSH(OP_TRUE), after `change` edits the template's
/// coinbase and the block; the merkle root is recomputed unless `keepMerkleRoot`, and the nonce found unless
/// `solve` is false.
func craftedBlock(
    _ node: RegtestNode, keepMerkleRoot: Bool = false, solve: Bool = true,
    block editBlock: (inout Block) -> Void = { _ in },
    coinbase editCoinbase: (inout Transaction) -> Void = { _ in }
) -> Block {
    let template = node.template()
    var coinbase = template.coinbase(payoutScript: NodeScripts.p2wshOpTrue)
    editCoinbase(&coinbase)
    var block = template.block(coinbase: coinbase)
    editBlock(&block)
    if !keepMerkleRoot { block.header.merkleRoot = block.computedMerkleRoot }
    if solve { BlockTemplate.solve(&block) }
    return block
}

/// Recomputes the witness commitment of `block`'s coinbase (last commitment output) and the merkle root.
func recommit(_ block: inout Block) {
    guard let index = WitnessCommitment.outputIndex(in: block.transactions[0]) else { return }
    block.transactions[0].outputs[index].scriptPubKey = WitnessCommitment.outputScript(
        nonCoinbaseWtxids: block.transactions.dropFirst().map(\.wtxid))
    block.header.merkleRoot = block.computedMerkleRoot
}

/// A transaction spending the P2WSH(OP_TRUE) coin `outpoint` worth `value` to one P2WSH(OP_TRUE) output of
/// `value - fee`.
func spend(_ outpoint: OutPoint, value: UInt64, fee: UInt64 = 1_000, witness: [[UInt8]] = NodeScripts.p2wshOpTrueWitness) -> Transaction {
    Transaction(
        version: 2,
        inputs: [TransactionInput(previousOutput: outpoint, scriptSig: [], sequence: .max, witness: witness)],
        outputs: [TransactionOutput(value: value &- fee, scriptPubKey: NodeScripts.p2wshOpTrue)],
        lockTime: 0
    )
}

/// The coinbase output of the block at `height` (paid to P2WSH(OP_TRUE) by `generate`).
func coinbaseOutpoint(_ node: RegtestNode, height: UInt32) -> (OutPoint, UInt64) {
    let block = node.blockHash(height: height).flatMap { node.block(hash: $0) }
    let coinbase = block?.transactions[0]
    return (OutPoint(txid: coinbase?.txid ?? .zero, vout: 0), coinbase?.outputs[0].value ?? 0)
}

/// A fresh temporary directory path (not created).
func temporaryDatadir() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("sv2node-\(UUID().uuidString)").path
}

/// Expects `result` to be a rejection with `reason`.
func expectRejection(
    _ result: Result<U256, BlockRejection>, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    switch result {
    case .success: Issue.record("block accepted, expected \(reason)", sourceLocation: sourceLocation)
    case let .failure(rejection): #expect(rejection.reason == reason, "\(rejection.explanation)", sourceLocation: sourceLocation)
    }
}
