import Sv2Binary
import Sv2TestSupport
import Testing
@testable import Bitcoin

/// The SRI coinbase for a job: template scriptSig prefix, push of the pool/miner tag, push of the full extranonce,
/// the reward outputs then the template's outputs, one 32-byte zero witness item (SRI channels-sv2 job factory).
func sriCoinbase(
    version: UInt32, scriptSigPrefix: [UInt8], tag: String?, extranonce: [UInt8], sequence: UInt32,
    rewardOutputs: [TransactionOutput], templateOutputs: [TransactionOutput], lockTime: UInt32
) -> Transaction {
    var scriptSig = scriptSigPrefix
    if let tag { scriptSig += Script.pushData(Array(tag.utf8)) }
    scriptSig += Script.pushData(extranonce)
    return Transaction(
        version: version,
        inputs: [TransactionInput(previousOutput: .null, scriptSig: scriptSig, sequence: sequence,
                                  witness: [WitnessCommitment.defaultReservedValue])],
        outputs: rewardOutputs + templateOutputs,
        lockTime: lockTime
    )
}

/// Every strict prefix of `bytes` fails to parse through `parse`, and so does `bytes` with one more byte.
func expectStrict(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                  _ parse: ([UInt8]) throws(BitcoinError) -> Void) {
    for length in 0..<bytes.count {
        do {
            try parse(Array(bytes[..<length]))
            Issue.record("\(what): prefix of \(length) bytes parsed", sourceLocation: sourceLocation)
        } catch {
            #expect(["truncated", "count_too_large", "unknown_witness_flag", "superfluous_witness"].contains(error.code),
                    "\(what) prefix \(length): \(error)", sourceLocation: sourceLocation)
        }
    }
    expectError("trailing_bytes", "\(what) + 1 byte", sourceLocation: sourceLocation) { () throws(BitcoinError) in
        try parse(bytes + [0])
    }
}

@Suite("transactions")
struct TransactionTests {
    let headers: [String: Any]
    let coinbaseFile: [String: Any]

    init() throws {
        headers = try loadJSON("headers.json")
        coinbaseFile = try loadJSON("coinbase_merkle_share_vectors.json")
    }

    @Test("genesis coinbase: parses, round-trips, txid is the genesis merkle root, same as the built-in one")
    func genesisCoinbase() throws {
        let genesis = object(headers["regtest_genesis"])
        let bytes = hex(string(genesis["coinbase_tx_hex (same as mainnet genesis)"]))
        let transaction = try Transaction(bytes: bytes)
        #expect(transaction.serialized() == bytes)
        #expect(transaction.serialized(includingWitness: false) == bytes)
        #expect(transaction.txid.displayHex == string(genesis["merkle_root_be_hex"]))
        #expect(transaction.wtxid == transaction.txid)
        #expect(transaction.isCoinbase && !transaction.hasWitness)
        #expect(transaction.outputs.count == 1 && transaction.outputs[0].value == 50 * BlockSubsidy.coin)
        #expect(transaction.weight == bytes.count * 4 && transaction.virtualSize == bytes.count)
        #expect(transaction.legacySigOpCount == 1)
        #expect(transaction == Network.genesisCoinbase)
        #expect(try Transaction(hex: transaction.hex) == transaction)
        expectStrict(bytes, "genesis coinbase") { bytes throws(BitcoinError) in _ = try Transaction(bytes: bytes) }
    }

    @Test("SRI NewExtendedMiningJob coinbases rebuilt: with and without BIP141 fields, byte for byte")
    func sriExtendedJobCoinbase() throws {
        let jobs = object(coinbaseFile["jobs"])
        let job = object(jobs["new_extended_job_from_template"])
        let inputs = object(job["inputs"])
        let expected = object(job["expected"])
        let withWitness = object(job["computed_with_bip141"])
        let example = object(job["computed_example_merkle_root"])
        let reward = object(inputs["reward_output"])
        let rewardOutput = TransactionOutput(value: integer(reward["value"]), scriptPubKey: hex(string(reward["script_pubkey_hex"])))
        let templateOutputs = try TransactionOutput.decodeList(
            hex(string(inputs["template.coinbase_tx_outputs_hex"])), count: Int(integer(inputs["coinbase_tx_outputs_count"])))
        // The template has no other transactions: its commitment is the empty block's.
        #expect(templateOutputs.map(\.scriptPubKey) == [WitnessCommitment.outputScript(nonCoinbaseWtxids: [])])
        let prefix = hex(string(inputs["extranonce_prefix_hex"]))
        let extranonce = prefix + [UInt8](repeating: 0, count: Int(integer(inputs["full_extranonce_size"])) - prefix.count)
        #expect(Hex.encode(extranonce) == string(example["extranonce (prefix || zero rollable to 32 bytes)"]))
        let coinbase = sriCoinbase(
            version: UInt32(integer(inputs["coinbase_tx_version"])),
            scriptSigPrefix: hex(string(inputs["template.coinbase_prefix_hex"])),
            tag: "Sv2/\(string(inputs["pool_tag"]))//", extranonce: extranonce,
            sequence: UInt32(integer(inputs["coinbase_tx_input_sequence"])),
            rewardOutputs: [rewardOutput], templateOutputs: templateOutputs,
            lockTime: UInt32(integer(inputs["coinbase_tx_locktime"])))
        let stripped = hex(string(expected["coinbase_tx_prefix_hex"])) + extranonce + hex(string(expected["coinbase_tx_suffix_hex"]))
        let full = hex(string(withWitness["coinbase_tx_prefix_hex"])) + extranonce + hex(string(withWitness["coinbase_tx_suffix_hex"]))
        #expect(coinbase.serialized(includingWitness: false) == stripped)
        #expect(Hex.encode(stripped) == string(example["full_coinbase_no_witness_hex"]))
        #expect(coinbase.serialized() == full)
        #expect(try Transaction(bytes: full) == coinbase)
        #expect(coinbase.txid == wire(string(example["txid_internal_hex"])))
        #expect(Merkle.root(coinbaseTxid: coinbase.txid, path: []) == wire(string(example["merkle_root_internal_hex (path empty => txid)"])))
        #expect(try BIP34.height(inScriptSig: coinbase.inputs[0].scriptSig) == 2)
        #expect(coinbase.baseSize == stripped.count && coinbase.totalSize == full.count && full.count == stripped.count + 36)
        #expect(coinbase.weight == stripped.count * 3 + full.count && coinbase.virtualSize == (coinbase.weight + 3) / 4)
        #expect(coinbase.wtxid != coinbase.txid)
        expectStrict(full, "segwit coinbase") { bytes throws(BitcoinError) in _ = try Transaction(bytes: bytes) }

        // The custom job: the JDC's tags, the same outputs.
        let custom = object(jobs["new_extended_job_from_custom_job"])
        let tags = (object(custom["inputs"])["jdc_tags"] as? [String]) ?? []
        let customExpected = object(custom["expected"])
        let customCoinbase = sriCoinbase(
            version: 2, scriptSigPrefix: hex(string(inputs["template.coinbase_prefix_hex"])),
            tag: "Sv2/" + tags.joined(separator: "/") + "/", extranonce: extranonce, sequence: .max,
            rewardOutputs: [rewardOutput], templateOutputs: templateOutputs, lockTime: 0)
        #expect(customCoinbase.serialized(includingWitness: false)
            == hex(string(customExpected["coinbase_tx_prefix_hex"])) + extranonce + hex(string(customExpected["coinbase_tx_suffix_hex"])))
    }

    @Test("SRI standard-job coinbase: BIP141 form parses and strips to the no-witness form that gives NewMiningJob.merkle_root")
    func sriStandardJobCoinbase() throws {
        let job = object(object(coinbaseFile["jobs"])["new_standard_job_merkle_root"])
        let computed = object(job["computed"])
        let extranonce = hex(string(object(job["channel"])["extranonce_prefix_hex"]))
        let full = hex(string(computed["coinbase_tx_prefix_with_bip141_hex"])) + extranonce
            + hex(string(computed["coinbase_tx_suffix_with_bip141_hex"]))
        let coinbase = try Transaction(bytes: full)
        #expect(Hex.encode(coinbase.serialized(includingWitness: false)) == string(computed["coinbase_no_witness_hex"]))
        #expect(coinbase.lockTime == UInt32(integer(object(job["template"])["coinbase_tx_locktime"])))
        #expect(try BIP34.height(inScriptSig: coinbase.inputs[0].scriptSig) == 159)
        let merkleRoot = Merkle.root(coinbaseTxid: coinbase.txid, path: [])
        #expect(merkleRoot == wire(string(object(job["expected_new_mining_job"])["merkle_root_u256_wire_hex"])))
    }

    @Test("CompactSize: boundaries encode and decode, non-canonical forms are rejected")
    func compactSize() throws {
        let cases: [(UInt64, String)] = [
            (0, "00"), (0xfc, "fc"), (0xfd, "fdfd00"), (0xffff, "fdffff"), (0x1_0000, "fe00000100"),
            (0xffff_ffff, "feffffffff"), (0x1_0000_0000, "ff0000000001000000"), (.max, "ffffffffffffffffff"),
        ]
        for (value, encoding) in cases {
            #expect(Hex.encode(CompactSize.encode(value)) == encoding)
            #expect(CompactSize.size(of: value) == encoding.count / 2)
            let decoded = try CompactSize.decode(hex(encoding))
            #expect(decoded.value == value && decoded.size == encoding.count / 2)
        }
        for bad in ["fdfc00", "fd0000", "feffff0000", "fe00000000", "ffffffffff00000000", "ff0000000000000000"] {
            expectError("non_canonical_compact_size", "\(bad)") { () throws(BitcoinError) in _ = try CompactSize.decode(hex(bad)) }
        }
        expectError("truncated") { () throws(BitcoinError) in _ = try CompactSize.decode([0xfd, 0x00]) }
        expectError("truncated") { () throws(BitcoinError) in _ = try CompactSize.decode([]) }
        expectError("truncated") { () throws(BitcoinError) in _ = try CompactSize.decode([1], at: 5) }
        let trailing = try CompactSize.decode([0x00, 0xfd, 0xfd, 0x00], at: 1)
        #expect(trailing.value == 0xfd && trailing.size == 3)
    }

    @Test("absurd counts and lengths are rejected before anything is allocated")
    func absurdCounts() {
        let version: [UInt8] = [2, 0, 0, 0]
        let cases: [(String, [UInt8])] = [
            ("input count 2^64-1", version + [0xff] + [UInt8](repeating: 0xff, count: 8)),
            ("input count 2^32-1", version + [0xfe, 0xff, 0xff, 0xff, 0xff]),
            ("input count 2, one byte left", version + [0x02, 0x00]),
            ("scriptSig length 2^32-1", version + [0x01] + [UInt8](repeating: 0, count: 36) + [0xfe, 0xff, 0xff, 0xff, 0xff]),
            ("output count 2^64-1", version + [0x01] + [UInt8](repeating: 0, count: 36) + [0x00, 0, 0, 0, 0] + [0xff] + [UInt8](repeating: 0xff, count: 8)),
            ("witness items 2^32-1", version + [0x00, 0x01, 0x01] + [UInt8](repeating: 0, count: 36) + [0x00, 0, 0, 0, 0, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff]),
        ]
        for (name, bytes) in cases {
            expectError("count_too_large", "\(name)") { () throws(BitcoinError) in _ = try Transaction(bytes: bytes) }
        }
        expectError("count_too_large", "block transaction count") { () throws(BitcoinError) in
            _ = try Block(bytes: [UInt8](repeating: 0, count: 80) + [0xff] + [UInt8](repeating: 0xff, count: 8))
        }
        expectError("count_too_large", "decodeList count") { () throws(BitcoinError) in
            _ = try TransactionOutput.decodeList([0, 0, 0, 0, 0, 0, 0, 0, 0], count: 2)
        }
        expectError("count_too_large", "decodeList negative count") { () throws(BitcoinError) in
            _ = try TransactionOutput.decodeList([], count: -1)
        }
        expectError("non_canonical_compact_size") { () throws(BitcoinError) in _ = try Transaction(bytes: version + [0xfd, 0x01, 0x00]) }
    }

    @Test("BIP144 marker: unknown flag and a marker with only empty witnesses are errors; no marker without witness")
    func witnessMarker() throws {
        expectError("unknown_witness_flag") { () throws(BitcoinError) in _ = try Transaction(bytes: [2, 0, 0, 0, 0x00, 0x02]) }
        expectError("unknown_witness_flag") { () throws(BitcoinError) in _ = try Transaction(bytes: [2, 0, 0, 0, 0x00, 0x00, 0x00, 0, 0, 0, 0]) }
        var transaction = Network.genesisCoinbase
        transaction.inputs[0].witness = [[]]
        #expect(transaction.hasWitness)
        let withEmptyItem = transaction.serialized()
        #expect(withEmptyItem.count == Network.genesisCoinbase.serialized().count + 4)
        #expect(try Transaction(bytes: withEmptyItem) == transaction)
        // Marker and flag, then a zero witness count for the only input.
        var superfluous = withEmptyItem
        let witnessOffset = withEmptyItem.count - 4 - 2
        superfluous.replaceSubrange(witnessOffset..<witnessOffset + 2, with: [0x00])
        expectError("superfluous_witness") { () throws(BitcoinError) in _ = try Transaction(bytes: superfluous) }
        transaction.inputs[0].witness = []
        #expect(transaction.serialized() == Network.genesisCoinbase.serialized())
    }

    @Test("a segwit spend round-trips; txid ignores the witness, wtxid does not")
    func segwitRoundTrip() throws {
        let spend = Transaction(
            version: 2,
            inputs: [
                TransactionInput(previousOutput: OutPoint(txid: Network.genesisCoinbase.txid, vout: 0), scriptSig: [], sequence: 0xffff_fffd,
                                 witness: [[UInt8](repeating: 0x30, count: 71), [UInt8](repeating: 0x02, count: 33)]),
                TransactionInput(previousOutput: OutPoint(txid: U256(7), vout: 3), scriptSig: [0x51], sequence: 0),
            ],
            outputs: [TransactionOutput(value: 1, scriptPubKey: [0x00, 0x14] + [UInt8](repeating: 1, count: 20)),
                      TransactionOutput(value: 0, scriptPubKey: [UInt8](repeating: 0x6a, count: 300))],
            lockTime: 840_000)
        let bytes = spend.serialized()
        #expect(bytes[4] == 0x00 && bytes[5] == 0x01)
        let parsed = try Transaction(bytes: bytes)
        #expect(parsed == spend)
        #expect(parsed.inputs[1].witness.isEmpty)
        var stripped = spend
        for index in stripped.inputs.indices { stripped.inputs[index].witness = [] }
        #expect(stripped.txid == spend.txid && stripped.wtxid == stripped.txid && spend.wtxid != spend.txid)
        #expect(try Transaction(bytes: spend.serialized(includingWitness: false)) == stripped)
        #expect(!spend.isCoinbase)
        expectStrict(bytes, "segwit spend") { bytes throws(BitcoinError) in _ = try Transaction(bytes: bytes) }
        expectError("invalid_hex") { () throws(BitcoinError) in _ = try Transaction(hex: "0200000") }
    }

    @Test("garbage and mutated transactions never crash the parser")
    func garbage() {
        var random = SplitMix64(state: 2024)
        let valid = Network.genesisCoinbase.serialized()
        var segwit = Network.genesisCoinbase
        segwit.inputs[0].witness = [[1, 2, 3], []]
        let validSegwit = segwit.serialized()
        var parsed = 0
        for round in 0..<4000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:
                bytes = (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1:
                bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            default:
                bytes = validSegwit
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                bytes = Array(bytes[..<Int.random(in: 0...bytes.count, using: &random)])
            }
            if let transaction = try? Transaction(bytes: bytes) {
                parsed += 1
                #expect(transaction.serialized() == bytes, "a parsed transaction re-serialises to its bytes")
            }
            _ = try? Block(bytes: bytes)
            _ = try? BlockHeader(bytes: bytes)
            _ = try? Script.instructions(bytes)
            _ = Script.sigOpCount(bytes, accurate: true)
            _ = try? BIP34.height(inScriptSig: bytes)
            _ = try? TransactionOutput.decodeList(bytes, count: Int(bytes.first ?? 0))
        }
        #expect(parsed > 0)
    }
}
