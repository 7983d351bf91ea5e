import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2TestSupport
import Testing
@testable import Sv2Channels

/// A JSON integer (vectors keep them below 2^63).
private func integer(_ value: Any?) -> UInt64 { (value as? Int).map { UInt64(clamping: $0) } ?? 0 }

/// A NewTemplate from a vector's "template" object.
private func template(_ fields: [String: Any], future: Bool = true) -> NewTemplate {
    NewTemplate(
        templateID: 1, futureTemplate: future, version: UInt32(integer(fields["version"] ?? fields["template.version"])),
        coinbaseTxVersion: UInt32(integer(fields["coinbase_tx_version"])),
        coinbasePrefix: hex((fields["coinbase_prefix_hex"] ?? fields["template.coinbase_prefix_hex"]) as? String ?? ""),
        coinbaseTxInputSequence: UInt32(integer(fields["coinbase_tx_input_sequence"])),
        coinbaseTxValueRemaining: integer(fields["coinbase_tx_value_remaining"]),
        coinbaseTxOutputsCount: UInt32(integer(fields["coinbase_tx_outputs_count"])),
        coinbaseTxOutputs: hex((fields["coinbase_tx_outputs_hex"] ?? fields["template.coinbase_tx_outputs_hex"]) as? String ?? ""),
        coinbaseTxLocktime: UInt32(integer(fields["coinbase_tx_locktime"])), merklePath: [])
}

@Suite("extranonce allocation and pool jobs (SRI vectors)")
struct PoolJobTests {
    let jobs: [String: Any]
    let shares: [[String: Any]]
    let extranonces: [String: Any]

    init() throws {
        let vectors = try loadJSON("coinbase_merkle_share_vectors.json")
        jobs = object(vectors["jobs"])
        shares = objects(vectors["shares"])
        extranonces = try loadJSON("extranonce_allocation.json")
    }

    @Test("index width: bytes needed for n channels")
    func bytesNeeded() {
        let cases = objects(extranonces["bytes_needed_literal"])
        #expect(cases.count == 9)
        for entry in cases {
            #expect(ExtranonceAllocator.bytesNeeded(integer(entry["n"])) == Int(integer(entry["bytes"])), "n = \(integer(entry["n"]))")
        }
    }

    @Test("first allocations, prefix and rollable lengths match SRI's allocator byte for byte")
    func allocations() throws {
        let cases = objects(object(extranonces["allocation_cases"])["cases"])
        #expect(cases.count >= 4)
        for entry in cases {
            var allocator = try ExtranonceAllocator(
                upstreamPrefix: hex(entry["upstream_prefix_hex"] as? String ?? ""),
                localPrefix: hex(entry["local_prefix_hex"] as? String ?? ""),
                totalLength: Int(integer(entry["total_extranonce_len"])), maximumChannels: UInt32(integer(entry["max_channels"])))
            #expect(allocator.indexLength == Int(integer(entry["local_index_len"])))
            #expect(allocator.prefixLength == Int(integer(entry["full_prefix_len"])))
            #expect(allocator.rollableLength == Int(integer(entry["rollable_extranonce_size"])))
            let standard = entry["kind"] as? String == "standard"
            for expected in (entry["first_allocations_hex"] as? [String]) ?? [] {
                let allocation = standard ? allocator.allocateStandard() : allocator.allocateExtended()
                #expect(allocation.map { hexString($0.prefix) } == expected)
            }
        }
    }

    @Test("indices are unique, released ones come back only after wrapping, and a full allocator says so")
    func exhaustionAndRelease() throws {
        var allocator = try ExtranonceAllocator(totalLength: 8, maximumChannels: 3)
        let first = allocator.allocateExtended()
        let second = allocator.allocateExtended()
        let third = allocator.allocateExtended()
        #expect([first, second, third].compactMap { $0?.index } == [0, 1, 2])
        #expect(allocator.allocateExtended() == nil)
        allocator.release(1)
        #expect(allocator.allocateExtended()?.index == 1)
        #expect(throws: ExtranonceAllocator.LayoutError.self) { try ExtranonceAllocator(localPrefix: [1, 2, 3], totalLength: 4, maximumChannels: 256) }
        #expect(throws: ExtranonceAllocator.LayoutError.self) { try ExtranonceAllocator(totalLength: 33, maximumChannels: 2) }
    }

    @Test("NewExtendedMiningJob from a template: SRI's coinbase prefix and suffix byte for byte, merkle root of the example")
    func extendedJobFromTemplate() throws {
        let vector = object(jobs["new_extended_job_from_template"])
        let inputs = object(vector["inputs"])
        let expected = object(vector["expected"])
        let reward = object(inputs["reward_output"])
        let job = try PoolJob(
            id: 1, template: template(inputs), rewardScript: hex(reward["script_pubkey_hex"] as? String ?? ""),
            poolTag: inputs["pool_tag"] as? String ?? "", extranonceLength: Int(integer(inputs["full_extranonce_size"])))
        let message = job.extendedJob(channelID: 1, minNtime: nil, versionRollingAllowed: true)
        #expect(hexString(message.coinbaseTxPrefix) == expected["coinbase_tx_prefix_hex"] as? String)
        #expect(hexString(message.coinbaseTxSuffix) == expected["coinbase_tx_suffix_hex"] as? String)
        #expect(message.minNtime == nil && message.jobID == 1 && message.version == 536_870_912)
        let example = object(vector["computed_example_merkle_root"])
        let extranonce = hex(example["extranonce (prefix || zero rollable to 32 bytes)"] as? String ?? "")
        #expect(hexString(job.coinbase.coinbase(extranonce: extranonce)) == example["full_coinbase_no_witness_hex"] as? String)
        #expect(hexString(job.coinbase.merkleRoot(extranonce: extranonce).littleEndianBytes)
            == example["merkle_root_internal_hex (path empty => txid)"] as? String)
        // The block's coinbase is the BIP141 form SRI computes, and it parses back to the same txid.
        let withWitness = object(vector["computed_with_bip141"])
        let block = job.blockCoinbase(extranonce: extranonce)
        let witnessPrefix = hex(withWitness["coinbase_tx_prefix_hex"] as? String ?? "")
        #expect(Array(block.prefix(witnessPrefix.count)) == witnessPrefix)
        let transaction = try Transaction(bytes: block)
        #expect(transaction.txid == job.coinbase.merkleRoot(extranonce: extranonce))
        #expect(transaction.inputs.first?.witness == [[UInt8](repeating: 0, count: 32)])
    }

    @Test("NewMiningJob merkle root of a standard channel equals SRI's")
    func standardJobMerkleRoot() throws {
        let vector = object(jobs["new_standard_job_merkle_root"])
        let channel = object(vector["channel"])
        let reward = objects(vector["coinbase_reward_outputs"]).first ?? [:]
        let job = try PoolJob(
            id: 1, template: template(object(vector["template"]), future: false),
            rewardScript: hex(reward["script_pubkey_hex"] as? String ?? ""), poolTag: "", extranonceLength: 32)
        let prefix = hex(channel["extranonce_prefix_hex"] as? String ?? "")
        let expected = object(vector["expected_new_mining_job"])
        #expect(hexString(job.coinbase.merkleRoot(extranonce: prefix).littleEndianBytes) == expected["merkle_root_u256_wire_hex"] as? String)
    }

    @Test("share hashes: the header of every SRI share vector hashes to the literal expected hash")
    func shareHashes() throws {
        #expect(shares.count == 4)
        var literal = 0
        for share in shares {
            let channel = object(share["channel"])
            let reward = objects(share["coinbase_reward_outputs"]).first ?? [:]
            let job = try PoolJob(
                id: 1, template: template(object(share["template"])), rewardScript: hex(reward["script_pubkey_hex"] as? String ?? ""),
                poolTag: "", extranonceLength: 32)
            let fields = object(share["share"])
            let tip = object(share["chain_tip"])
            let extranonce = hex(channel["extranonce_prefix_hex"] as? String ?? "") + hex(fields["extranonce"] as? String ?? "")
            let hash = ShareHash.header(
                version: UInt32(integer(fields["version"])),
                previousBlockHash: U256(littleEndianBytes: hex(tip["prev_hash_u256_wire_hex"] as? String ?? "")) ?? .zero,
                merkleRoot: job.coinbase.merkleRoot(extranonce: extranonce), time: UInt32(integer(fields["ntime"])),
                bits: UInt32(integer(tip["nbits"])), nonce: UInt32(integer(fields["nonce"])))
            if let expected = share["expected_hash_be_hex (literal, from test comment)"] as? String {
                #expect(hash.displayHex == expected, "\(share["name"] ?? "")")
                literal += 1
            }
            let networkTarget = try CompactTarget(bits: UInt32(integer(tip["nbits"]))).target()
            #expect((hash <= networkTarget) == ((share["expected_result"] as? String) == "BlockFound"), "\(share["name"] ?? "")")
        }
        #expect(literal == 3)
    }

    @Test("a template whose coinbase would break the 100-byte scriptSig limit, or with garbage outputs, is refused")
    func unusableTemplates() {
        var long = template(["coinbase_tx_version": 2, "coinbase_tx_outputs_count": 0])
        long.coinbasePrefix = [UInt8](repeating: 1, count: 60)
        #expect(throws: PoolJob.BuildError.self) { try PoolJob(id: 1, template: long, rewardScript: [0x51], poolTag: "pool", extranonceLength: 32) }
        #expect(throws: PoolJob.BuildError.self) {
            try PoolJob(id: 1, template: template([:]), rewardScript: [0x51], poolTag: "pool", extranonceLength: 300)
        }
        var garbage = template(["coinbase_tx_outputs_count": 3])
        garbage.coinbaseTxOutputs = [1, 2, 3]
        #expect(throws: PoolJob.BuildError.self) { try PoolJob(id: 1, template: garbage, rewardScript: [0x51], poolTag: "pool", extranonceLength: 32) }
    }
}
