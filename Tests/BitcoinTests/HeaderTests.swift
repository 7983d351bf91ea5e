import Sv2Binary
import Sv2TestSupport
import Testing
@testable import Bitcoin

@Suite("headers, nBits and targets, blocks, networks")
struct HeaderTests {
    @Test("headers.json: genesis headers and block 125552 parse, serialise and hash; targets from nBits")
    func knownHeaders() throws {
        let file = try loadJSON("headers.json")
        for name in ["regtest_genesis", "mainnet_genesis", "mainnet_block_125552"] {
            let entry = object(file[name])
            let bytes = hex(string(entry["header_hex"]))
            let header = try BlockHeader(bytes: bytes)
            #expect(header.serialized == bytes, "\(name)")
            #expect(header.version == UInt32(integer(entry["version"])), "\(name)")
            #expect(header.time == UInt32(integer(entry["time"])) && header.nonce == UInt32(integer(entry["nonce"])), "\(name)")
            #expect(header.bits == UInt32(integer(entry["nbits"])), "\(name)")
            #expect(header.hashDisplayHex == string(entry["hash_be_hex"]), "\(name)")
            if let internalHex = entry["hash_internal_hex"] as? String ?? entry["sha256d_internal_hex"] as? String {
                #expect(header.hash.hex == internalHex, "\(name)")
            }
            if let root = entry["merkle_root_be_hex"] as? String { #expect(header.merkleRoot.displayHex == root, "\(name)") }
            if let previous = entry["prev_hash_be_hex"] as? String { #expect(header.previousBlockHash.displayHex == previous, "\(name)") }
            let target = try header.compactTarget.target()
            if let expected = entry["target_be_hex"] as? String { #expect(target.displayHex == expected, "\(name)") }
            #expect(header.meets(target: target), "\(name)")
            var tooHard = header
            tooHard.nonce &+= 1
            if name != "regtest_genesis" { #expect(!tooHard.meets(target: target), "\(name): another nonce misses the target") }
            expectStrict(bytes, name) { bytes throws(BitcoinError) in _ = try BlockHeader(bytes: bytes) }
        }
        expectError("invalid_hex") { () throws(BitcoinError) in _ = try BlockHeader(hex: "zz") }
    }

    @Test("target_difficulty.json: nBits -> target, and the target's compact form is the same nBits")
    func nbitsToTarget() throws {
        let vectors = objects(object(try loadJSON("target_difficulty.json")["nbits_to_target"])["vectors"])
        #expect(vectors.count == 5)
        for vector in vectors {
            let bits = UInt32(integer(vector["nbits"]))
            #expect(bits == UInt32(integer(vector["nbits_decimal"])))
            let target = try CompactTarget(bits: bits).target()
            #expect(target.displayHex == string(vector["target_be_hex"]), "\(CompactTarget(bits: bits))")
            #expect(CompactTarget(target: target).bits == bits)
        }
        #expect(CompactTarget(bits: 0x1d00_ffff).description == "0x1d00ffff")
        #expect(CompactTarget(bits: 0x0300_0001).description == "0x03000001")
    }

    @Test("SetCompact/GetCompact as Bitcoin Core's arith_uint256 tests (bitcoin_compact)")
    func coreCompact() throws {
        // (nBits, target big-endian hex trimmed of leading zeros, GetCompact(negative), negative, overflow); values
        // transcribed from Bitcoin Core src/test/arith_uint256_tests.cpp.
        let cases: [(UInt32, String, UInt32, Bool, Bool)] = [
            (0x0000_0000, "0", 0, false, false),
            (0x0012_3456, "0", 0, false, false),
            (0x0100_3456, "0", 0, false, false),
            (0x0200_0056, "0", 0, false, false),
            (0x0300_0000, "0", 0, false, false),
            (0x0400_0000, "0", 0, false, false),
            (0x0092_3456, "0", 0, false, false),
            (0x0180_3456, "0", 0, false, false),
            (0x0280_0056, "0", 0, false, false),
            (0x0380_0000, "0", 0, false, false),
            (0x0480_0000, "0", 0, false, false),
            (0x0112_3456, "12", 0x0112_0000, false, false),
            (0x01fe_dcba, "7e", 0x01fe_0000, true, false),
            (0x0212_3456, "1234", 0x0212_3400, false, false),
            (0x0312_3456, "123456", 0x0312_3456, false, false),
            (0x0412_3456, "12345600", 0x0412_3456, false, false),
            (0x0492_3456, "12345600", 0x0492_3456, true, false),
            (0x0500_9234, "92340000", 0x0500_9234, false, false),
            (0x2012_3456, "123456" + String(repeating: "00", count: 29), 0x2012_3456, false, false),
        ]
        for (bits, targetHex, compact, negative, overflow) in cases {
            let expanded = CompactTarget(bits: bits).expanded
            let padded = String(repeating: "0", count: 64 - targetHex.count) + targetHex
            #expect(expanded.target.displayHex == padded, "\(CompactTarget(bits: bits))")
            #expect(expanded.isNegative == negative && expanded.isOverflow == overflow, "\(CompactTarget(bits: bits))")
            #expect(CompactTarget(target: expanded.target, negative: negative).bits == compact, "\(CompactTarget(bits: bits))")
        }
        #expect(CompactTarget(target: U256(0x80)).bits == 0x0200_8000, "no compact with the 0x00800000 bit set")
        let overflowing = CompactTarget(bits: 0xff12_3456).expanded
        #expect(!overflowing.isNegative && overflowing.isOverflow)
        expectError("target_overflow") { () throws(BitcoinError) in _ = try CompactTarget(bits: 0xff12_3456).target() }
        expectError("negative_target") { () throws(BitcoinError) in _ = try CompactTarget(bits: 0x0492_3456).target() }
        expectError("zero_target") { () throws(BitcoinError) in _ = try CompactTarget(bits: 0x0100_3456).target() }
        // Overflow bounds: 0x22 with a one-byte mantissa is the largest exponent that fits.
        #expect(!CompactTarget(bits: 0x2200_00ff).expanded.isOverflow && CompactTarget(bits: 0x2300_00ff).expanded.isOverflow)
        #expect(!CompactTarget(bits: 0x2100_ffff).expanded.isOverflow && CompactTarget(bits: 0x2200_ffff).expanded.isOverflow)
        #expect(!CompactTarget(bits: 0x2001_0000).expanded.isOverflow && CompactTarget(bits: 0x2101_0000).expanded.isOverflow)
        #expect(CompactTarget(target: .max).bits == 0x2100_ffff)
        #expect(CompactTarget(bits: 0x2100_ffff).expanded.target.displayHex == "ffff" + String(repeating: "0", count: 60))
        // Every exponent decodes without trapping.
        for exponent in UInt32(0)...255 { _ = CompactTarget(bits: exponent << 24 | 0x7f_ffff).expanded }
    }

    @Test("hash <= target: equality meets, one more does not")
    func meetsTarget() throws {
        let header = try BlockHeader(hex: string(object(try loadJSON("headers.json")["mainnet_block_125552"])["header_hex"]))
        let hash = header.hash
        #expect(header.meets(target: hash))
        #expect(!header.meets(target: U256(w0: hash.w0 &- 1, w1: hash.w1, w2: hash.w2, w3: hash.w3)))
        #expect(header.hasValidProofOfWork(powLimit: Network.mainnet.powLimit))
        #expect(!header.hasValidProofOfWork(powLimit: U256(1)), "target above the limit")
    }

    @Test("networks: genesis headers hash to the known hashes with valid proof of work; regtest genesis block round-trips")
    func networks() throws {
        for network in Network.allCases {
            let header = network.genesisHeader
            #expect(header.hash == network.genesisHash, "\(network)")
            #expect(header.hasValidProofOfWork(powLimit: network.powLimit), "\(network)")
            #expect(header.merkleRoot == network.genesisBlock.computedMerkleRoot, "\(network)")
            #expect(CompactTarget(target: network.powLimit).bits == header.bits, "\(network): genesis nBits is the compact limit")
        }
        #expect(Network.regtest.genesisHash.displayHex == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206")
        let regtest = try loadJSON("headers.json")["regtest_genesis"]
        #expect(Hex.encode(Network.regtest.genesisHeader.serialized) == string(object(regtest)["header_hex"]))

        let genesis = Network.regtest.genesisBlock
        let bytes = genesis.serialized
        let parsed = try Block(bytes: bytes)
        #expect(parsed == genesis)
        #expect(parsed.hash.displayHex == "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206")
        #expect(parsed.computedMerkleRoot == parsed.header.merkleRoot)
        #expect(try Block(hex: Hex.encode(bytes)) == genesis)
        #expect(parsed.weight == bytes.count * 4)
        expectStrict(bytes, "regtest genesis block") { bytes throws(BitcoinError) in _ = try Block(bytes: bytes) }

        #expect(Network.networks(bech32HRP: "tb") == [.testnet, .signet])
        #expect(Network.networks(base58Version: 111) == [.testnet, .signet, .regtest])
        #expect(Network.networks(base58Version: 5) == [.mainnet])
    }

    @Test("U256 display hex round-trips and rejects bad input")
    func displayHex() {
        let value = U256(w0: 1, w1: 2, w2: 3, w3: 0xff00_0000_0000_0000)
        #expect(U256(displayHex: value.displayHex) == value)
        #expect(value.displayHex.hasPrefix("ff00") && value.displayHex.hasSuffix("01"))
        #expect(U256(displayHex: "00") == nil && U256(displayHex: String(repeating: "g", count: 64)) == nil)
        #expect(U256(displayHex: "0x" + String(repeating: "0", count: 62)) == nil)
    }
}
