import Sv2Binary
import Sv2TestSupport
import Testing
@testable import Bitcoin

@Suite("merkle paths, witness commitments, SRI coinbase vectors")
struct MerkleTests {
    let file: [String: Any]

    init() throws {
        file = try loadJSON("coinbase_merkle_share_vectors.json")
    }

    /// Leaves that differ (their own small values).
    private func leaves(_ count: Int) -> [U256] {
        (0..<count).map { U256(w0: UInt64($0) &* 0x9e37_79b9_7f4a_7c15 | 1, w1: UInt64($0), w2: 7, w3: 0) }
    }

    @Test("roots: empty, single, odd levels duplicate their last hash, mutation detected")
    func roots() {
        let (a, b, c) = (U256(1), U256(2), U256(3))
        #expect(Merkle.root([]) == .zero)
        #expect(Merkle.root([a]) == a)
        #expect(Merkle.root([a, b]) == Merkle.hashPair(a, b))
        #expect(Merkle.root([a, b, c]) == Merkle.hashPair(Merkle.hashPair(a, b), Merkle.hashPair(c, c)))
        #expect(Merkle.root([a, b, c]) == Merkle.root([a, b, c, c]), "CVE-2012-2459: the duplicated list has the same root")
        #expect(!Merkle.rootDetectingMutation([a, b, c]).mutated)
        #expect(Merkle.rootDetectingMutation([a, b, c, c]).mutated)
        #expect(Merkle.rootDetectingMutation([a, a]).mutated)
    }

    @Test("branches: every leaf of trees of 1 to 17 leaves reaches the root; the coinbase path is leaf 0's branch")
    func branches() {
        for count in 1...17 {
            let tree = leaves(count)
            let root = Merkle.root(tree)
            for index in 0..<count {
                let branch = Merkle.branch(tree, index: index) ?? []
                #expect(Merkle.root(leaf: tree[index], branch: branch, index: index) == root, "\(count) leaves, index \(index)")
            }
            #expect(Merkle.branch(tree, index: count) == nil && Merkle.branch(tree, index: -1) == nil)
            let path = Merkle.coinbasePath(transactionIDs: Array(tree.dropFirst()))
            #expect(path == Merkle.branch(tree, index: 0))
            #expect(Merkle.root(coinbaseTxid: tree[0], path: path) == root)
            #expect(path.count == Int.bitWidth - (count - 1).leadingZeroBitCount, "ceil(log2(\(count))) siblings")
        }
        #expect(Merkle.coinbasePath(transactionIDs: []) == [])
    }

    @Test("SRI regtest block: coinbase txid, merkle root from the path, header and hash")
    func sriRegtestBlock() throws {
        let block = object(file["sri_reg_test_block"])
        let literal = object(block["literal"])
        let computed = object(block["computed"])
        let coinbaseBytes = hex(string(literal["coinbase_tx_prefix"])) + hex(string(literal["coinbase_script"]))
            + hex(string(literal["coinbase_tx_suffix"]))
        #expect(Hex.encode(coinbaseBytes) == string(computed["coinbase_hex"]))
        let coinbase = try Transaction(bytes: coinbaseBytes)
        #expect(coinbase.txid == wire(string(computed["coinbase_txid_internal_hex"])))
        #expect(try BIP34.height(inScriptSig: coinbase.inputs[0].scriptSig) == 0x72)
        let path = ((literal["path"] as? [String]) ?? []).map { wire($0) }
        let merkleRoot = Merkle.root(coinbaseTxid: coinbase.txid, path: path)
        #expect(merkleRoot == display(string(literal["merkle_root"])))
        #expect(merkleRoot == Merkle.root([coinbase.txid] + path), "with one other transaction the path is its txid")
        #expect(Merkle.coinbasePath(transactionIDs: path) == path)
        let header = BlockHeader(
            version: UInt32(integer(literal["version"])), previousBlockHash: display(string(literal["prev_hash"])),
            merkleRoot: merkleRoot, time: UInt32(integer(literal["time"])), bits: UInt32(integer(literal["nbits"])),
            nonce: UInt32(integer(literal["nonce"])))
        #expect(Hex.encode(header.serialized) == string(computed["header_hex"]))
        #expect(header.hash == wire(string(computed["hash_internal_hex"])))
        #expect(header.hashDisplayHex == string(literal["block_hash"]))
        #expect(header.hasValidProofOfWork(powLimit: Network.regtest.powLimit))
        // The coinbase commits to a witness root this vector cannot reproduce (the other transaction is not given),
        // but the commitment output is found where BIP141 says.
        #expect(WitnessCommitment.outputIndex(in: coinbase) == 1)
    }

    @Test("SRI shares: headers rebuilt from job and share fields hash to the expected values and meet the stated targets")
    func sriShares() throws {
        var coinbasesRebuilt = 0
        for share in objects(file["shares"]) {
            let name = string(share["name"])
            let computed = object(share["computed"])
            let tip = object(share["chain_tip"])
            let fields = object(share["share"])
            let headerHex = computed["header_hex"] as? String ?? string(share["header_hex"])
            let header = try BlockHeader(hex: headerHex)
            #expect(Hex.encode(header.serialized) == headerHex, "\(name)")
            #expect(header.previousBlockHash == wire(string(tip["prev_hash_u256_wire_hex"])), "\(name)")
            #expect(header.bits == UInt32(integer(tip["nbits"])) && header.nonce == UInt32(integer(fields["nonce"])), "\(name)")
            #expect(header.time == UInt32(integer(fields["ntime"])) && header.version == UInt32(integer(fields["version"])), "\(name)")
            let expectedHash = share["expected_hash_be_hex (literal, from test comment)"] as? String ?? string(share["computed_hash_be_hex"])
            #expect(header.hashDisplayHex == expectedHash, "\(name)")
            if let stale = share["stale_comment_hash_be_hex"] as? String { #expect(header.hashDisplayHex != stale) }

            // The merkle root: from the stripped coinbase parts around the full extranonce when given.
            if let prefix = computed["coinbase_tx_prefix_stripped_hex"] as? String {
                let coinbase = try Transaction(bytes: hex(prefix) + hex(string(computed["full_extranonce_hex"]))
                    + hex(string(computed["coinbase_tx_suffix_stripped_hex"])))
                #expect(coinbase.txid == wire(string(computed["coinbase_txid_internal_hex"])), "\(name)")
                #expect(Merkle.root(coinbaseTxid: coinbase.txid, path: []) == header.merkleRoot, "\(name)")
                let stripped = try Coinbase.stripWitness(prefix: hex(string(computed["coinbase_tx_prefix_with_bip141_hex"])),
                                                         suffix: hex(string(computed["coinbase_tx_suffix_with_bip141_hex"])))
                #expect(stripped?.prefix == hex(prefix) && stripped?.suffix == hex(string(computed["coinbase_tx_suffix_stripped_hex"])), "\(name)")
                coinbasesRebuilt += 1
            } else if let noWitness = computed["coinbase_no_witness_hex"] as? String {
                let coinbase = try Transaction(hex: noWitness)
                #expect(Merkle.root(coinbaseTxid: coinbase.txid, path: []) == wire(string(share["merkle_root_internal_hex"])), "\(name)")
                #expect(header.merkleRoot == wire(string(share["merkle_root_internal_hex"])), "\(name)")
                coinbasesRebuilt += 1
            }

            let networkTarget = try CompactTarget(bits: header.bits).target()
            if let given = tip["network_target_be_hex"] as? String { #expect(networkTarget.displayHex == given, "\(name)") }
            let channelText = object(share["channel"])["channel_target_be_hex"] as? String ?? string(share["channel_target_be_hex"])
            let result = string(share["expected_result"])
            let meetsNetwork = header.meets(target: networkTarget)
            #expect(meetsNetwork == result.hasPrefix("BlockFound"), "\(name): \(result)")
            if let flag = share["meets_network_target"] as? Bool { #expect(meetsNetwork == flag, "\(name)") }
            if !channelText.isEmpty {
                let meetsChannel = header.meets(target: display(channelText))
                if let flag = share["meets_channel_target"] as? Bool { #expect(meetsChannel == flag, "\(name)") }
                if result.hasPrefix("Valid") { #expect(meetsChannel, "\(name)") }
            }
        }
        #expect(objects(file["shares"]).count == 4 && coinbasesRebuilt == 4)
    }

    @Test("SRI try_strip_bip141 cases")
    func stripBIP141() throws {
        let cases = objects(object(object(file["jobs"])["try_strip_bip141"])["cases"])
        #expect(cases.count == 7)
        for item in cases {
            let name = string(item["name"])
            let prefix = hex(string(item["prefix_hex"]))
            let suffix = hex(string(item["suffix_hex"]))
            switch string(item["expected"]) {
            case "":
                let stripped = try Coinbase.stripWitness(prefix: prefix, suffix: suffix)
                #expect(stripped?.prefix == hex(string(item["expected_prefix_hex"])), "\(name)")
                #expect(stripped?.suffix == hex(string(item["expected_suffix_hex"])), "\(name)")
                if name == "sri_not_yet_stripped" {
                    // The same bytes as a whole transaction (32-byte extranonce): parsing and dropping the witness agrees.
                    let extranonce = [UInt8](repeating: 0xee, count: 32)
                    let transaction = try Transaction(bytes: prefix + extranonce + suffix)
                    #expect(transaction.serialized(includingWitness: false)
                        == (stripped?.prefix ?? []) + extranonce + (stripped?.suffix ?? []))
                }
            case let expected where expected.hasPrefix("None"):
                #expect(try Coinbase.stripWitness(prefix: prefix, suffix: suffix) == nil, "\(name)")
            case "FailedToDeserializeCoinbaseInputs":
                for length in 0...5 {
                    expectError("truncated", "\(name) \(length)") { () throws(BitcoinError) in
                        _ = try Coinbase.stripWitness(prefix: [UInt8](repeating: 1, count: length), suffix: [])
                    }
                }
            case "FailedToDeserializeCoinbaseLockTime":
                for length in 0...3 {
                    expectError("truncated", "\(name) \(length)") { () throws(BitcoinError) in
                        _ = try Coinbase.stripWitness(prefix: prefix, suffix: [UInt8](repeating: 0, count: length))
                    }
                }
            case "FailedToDeserializeCoinbaseWitness":
                for length in 4...37 {
                    expectError("truncated", "\(name) \(length)") { () throws(BitcoinError) in
                        _ = try Coinbase.stripWitness(prefix: prefix, suffix: [UInt8](repeating: 0, count: length))
                    }
                }
            default:
                Issue.record("unknown expectation in \(name)")
            }
        }
        expectError("unexpected_coinbase_witness") { () throws(BitcoinError) in
            _ = try Coinbase.stripWitness(prefix: [2, 0, 0, 0, 0, 1], suffix: [UInt8](repeating: 0, count: 38))
        }
    }

    @Test("BIP141 commitment: empty block constant, coinbase wtxid counted as zero, output found last")
    func witnessCommitment() throws {
        let empty = WitnessCommitment.commitment(witnessRoot: .zero)
        #expect(Hex.encode(empty.littleEndianBytes) == "e2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9")
        #expect(Hex.encode(WitnessCommitment.outputScript(commitment: empty))
            == "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9")
        #expect(WitnessCommitment.commitment(inScript: WitnessCommitment.outputScript(commitment: empty) + [0x01]) == empty)
        #expect(WitnessCommitment.commitment(inScript: Array(WitnessCommitment.outputScript(commitment: empty).dropLast())) == nil)

        // A block with a segwit spend: the coinbase commits to the witness root computed from the block.
        let spend = Transaction(
            version: 2,
            inputs: [TransactionInput(previousOutput: OutPoint(txid: U256(9), vout: 1), scriptSig: [], witness: [[1, 2], [3]])],
            outputs: [TransactionOutput(value: 1000, scriptPubKey: [0x51, 0x20] + [UInt8](repeating: 4, count: 32))],
            lockTime: 0)
        let commitmentScript = WitnessCommitment.outputScript(nonCoinbaseWtxids: [spend.wtxid])
        var coinbase = sriCoinbase(version: 2, scriptSigPrefix: BIP34.heightPush(200) + [0x00], tag: nil,
                                   extranonce: [UInt8](repeating: 0, count: 8), sequence: .max,
                                   rewardOutputs: [TransactionOutput(value: Network.regtest.blockSubsidy(height: 200), scriptPubKey: [0x51])],
                                   templateOutputs: [TransactionOutput(value: 0, scriptPubKey: commitmentScript)], lockTime: 0)
        coinbase.outputs.append(TransactionOutput(value: 0, scriptPubKey: [0x6a]))
        #expect(WitnessCommitment.outputIndex(in: coinbase) == 1)
        var block = Block(header: BlockHeader(version: 0x2000_0000, previousBlockHash: Network.regtest.genesisHash,
                                              merkleRoot: .zero, time: 1_700_000_000, bits: 0x207f_ffff, nonce: 0),
                          transactions: [coinbase, spend])
        block.header.merkleRoot = block.computedMerkleRoot
        #expect(block.computedMerkleRoot == Merkle.root(coinbaseTxid: coinbase.txid, path: Merkle.coinbasePath(transactionIDs: [spend.txid])))
        #expect(block.computedWitnessRoot == Merkle.root([.zero, spend.wtxid]))
        let committed = WitnessCommitment.commitment(inScript: coinbase.outputs[1].scriptPubKey)
        #expect(committed == WitnessCommitment.commitment(witnessRoot: block.computedWitnessRoot, reservedValue: coinbase.inputs[0].witness[0]))
        let bytes = block.serialized
        let parsed = try Block(bytes: bytes)
        #expect(parsed == block)
        #expect(parsed.weight == BlockHeader.size * 4 + 4 + coinbase.weight + spend.weight)
        expectStrict(bytes, "segwit block") { bytes throws(BitcoinError) in _ = try Block(bytes: bytes) }
    }
}
