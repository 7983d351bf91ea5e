import Sv2Binary
import Sv2Crypto
import Sv2TestSupport
import Testing
@testable import Bitcoin

@Suite("bech32, addresses, descriptors")
struct AddressTests {
    let vectors: [String: Any]
    let descriptors: [String: Any]

    init() throws {
        vectors = try loadJSON("bech32_address_vectors.json")
        descriptors = try loadJSON("descriptor_checksum_vectors.json")
    }

    @Test("BIP173/BIP350 generic strings: valid ones decode with their variant, invalid ones fail for the stated reason")
    func bech32Strings() throws {
        for (bip, validKey, invalidKey, variant) in [("bip173", "valid_bech32", "invalid_bech32", Bech32.Variant.bech32),
                                                     ("bip350", "valid_bech32m", "invalid_bech32m", .bech32m)] {
            let section = object(vectors[bip])
            let valid = (section[validKey] as? [String]) ?? []
            #expect(valid.count == 7)
            for text in valid {
                let decoded = try Bech32.decode(text)
                #expect(decoded.variant == variant, "\(text)")
                // Re-encoding gives the lower-case string back.
                #expect(try Bech32.encode(hrp: decoded.hrp, values: decoded.values, variant: variant) == text.lowercased())
            }
            let invalid = objects(section[invalidKey])
            #expect(invalid.count >= 12)
            for item in invalid {
                let text = string(item["string"])
                expectError(string(item["error"]), "\(bip) \(text.debugDescription): \(string(item["reason"]))") { () throws(BitcoinError) in
                    _ = try Bech32.decode(text)
                }
            }
        }
    }

    @Test("BIP350 segwit addresses: valid ones give their scriptPubKey and re-encode; BIP173's v1+ Bech32 forms are now rejected")
    func validSegwitAddresses() throws {
        var checked = 0
        for bip in ["bip173", "bip350"] {
            for item in objects(object(vectors[bip])["valid_segwit_addresses"]) {
                let text = string(item["address"])
                let network = Network(rawValue: string(item["network"])) ?? .regtest
                if let error = item["error_under_bip350"] as? String {
                    expectError(error, "\(text)") { () throws(BitcoinError) in _ = try Address(text, network: network) }
                    continue
                }
                checked += 1
                let address = try Address(text, network: network)
                #expect(Hex.encode(address.scriptPubKey) == string(item["script_pubkey_hex"]), "\(text)")
                #expect(address.description == text.lowercased())
                #expect(try Address(scriptPubKey: address.scriptPubKey, network: network) == address)
                if network == .testnet { #expect(try Address(text, network: .signet).scriptPubKey == address.scriptPubKey) }
                let other: Network = network == .mainnet ? .regtest : .mainnet
                expectError("wrong_network", "\(text) on \(other)") { () throws(BitcoinError) in _ = try Address(text, network: other) }
            }
        }
        #expect(checked == 11, "3 of BIP173's 6 and all 8 of BIP350's")
        let taproot = try Address("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", network: .mainnet)
        #expect(taproot.kind == .p2tr)
        #expect(try Address("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", network: .mainnet).kind == .p2wpkh)
        #expect(try Address("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", network: .testnet).kind == .p2wsh)
        #expect(try Address("BC1SW50QGDZ25J", network: .mainnet).kind == .witnessUnknown)
    }

    @Test("BIP173/BIP350 invalid segwit addresses fail with distinct errors")
    func invalidSegwitAddresses() {
        var codes = Set<String>()
        for bip in ["bip173", "bip350"] {
            for item in objects(object(vectors[bip])["invalid_segwit_addresses"]) {
                let text = string(item["address"])
                let network = Network(rawValue: string(item["network"])) ?? .regtest
                codes.insert(string(item["error"]))
                expectError(string(item["error"]), "\(text): \(string(item["reason"]))") { () throws(BitcoinError) in
                    _ = try Address(text, network: network)
                }
            }
        }
        #expect(codes.count >= 9)
    }

    @Test("base58 addresses: P2PKH and P2SH with network version bytes, checksum, length and version errors")
    func base58Addresses() throws {
        let genesis = try Address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", network: .mainnet)
        #expect(genesis.kind == .p2pkh)
        #expect(Hex.encode(genesis.scriptPubKey) == "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac")
        #expect(genesis.description == "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
        #expect(try Address(scriptPubKey: genesis.scriptPubKey, network: .mainnet) == genesis)
        #expect(throws: BitcoinError.wrongNetwork(expected: .regtest, addressNetworks: [.mainnet])) {
            try Address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", network: .regtest)
        }
        let bip385 = try Address("3PUNyaW7M55oKWJ3kDukwk9bsKvryra15j", network: .mainnet)
        #expect(bip385.kind == .p2sh && Hex.encode(bip385.scriptPubKey) == "a914eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee87")

        let hash = hex("62e907b15cbf27d5425399ebf6f0fb50ebb88f18")
        for network in [Network.testnet, .signet, .regtest] {
            let p2pkh = try Address(.pubkeyHash(hash), network: network)
            let p2sh = try Address(.scriptHash(hash), network: network)
            #expect(p2pkh.description.first == "m" || p2pkh.description.first == "n")
            #expect(p2sh.description.first == "2")
            for address in [p2pkh, p2sh] {
                for reader in [Network.testnet, .signet, .regtest] {
                    #expect(try Address(address.description, network: reader).scriptPubKey == address.scriptPubKey)
                }
                #expect(throws: BitcoinError.wrongNetwork(expected: .mainnet, addressNetworks: [.testnet, .signet, .regtest])) {
                    try Address(address.description, network: .mainnet)
                }
            }
        }
        expectError("invalid_base58_checksum") { () throws(BitcoinError) in _ = try Address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", network: .mainnet) }
        expectError("invalid_base58_character") { () throws(BitcoinError) in _ = try Address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", network: .mainnet) }
        expectError("invalid_base58_character") { () throws(BitcoinError) in _ = try Address("3PUNyaW7M55oKWJ3kDukwk9bsKvryra15I", network: .mainnet) }
        expectError("invalid_base58_payload_length") { () throws(BitcoinError) in
            _ = try Address(Base58.checkEncode([0] + hash.dropLast()), network: .mainnet)
        }
        expectError("invalid_base58_payload_length") { () throws(BitcoinError) in _ = try Address("11", network: .mainnet) }
        expectError("unknown_base58_version") { () throws(BitcoinError) in
            _ = try Address(Base58.checkEncode([0x30] + hash), network: .mainnet)
        }
        expectError("invalid_address_length") { () throws(BitcoinError) in _ = try Address("", network: .mainnet) }
        expectError("invalid_address_length") { () throws(BitcoinError) in
            _ = try Address(String(repeating: "1", count: 91), network: .mainnet)
        }
        expectError("invalid_length") { () throws(BitcoinError) in _ = try Address(.pubkeyHash([1, 2]), network: .mainnet) }
        expectError("invalid_witness_program_length") { () throws(BitcoinError) in
            _ = try Address(.witnessProgram(version: 0, program: [UInt8](repeating: 0, count: 21)), network: .mainnet)
        }
        expectError("invalid_witness_version") { () throws(BitcoinError) in
            _ = try Address(.witnessProgram(version: 17, program: [UInt8](repeating: 0, count: 32)), network: .mainnet)
        }
    }

    @Test("regtest bech32 addresses use bcrt; wrong network, mixed case, bad checksum and wrong variant are distinct errors")
    func regtestAddresses() throws {
        let program = hex("751e76e8199196d454941c45d1b3a323f1433bd6")
        let p2wpkh = try Address(.witnessProgram(version: 0, program: program), network: .regtest)
        let text = p2wpkh.description
        #expect(text.hasPrefix("bcrt1q"))
        #expect(try Address(text, network: .regtest) == p2wpkh)
        #expect(try Address(text.uppercased(), network: .regtest) == p2wpkh)
        #expect(throws: BitcoinError.wrongNetwork(expected: .mainnet, addressNetworks: [.regtest])) { try Address(text, network: .mainnet) }
        #expect(throws: BitcoinError.wrongNetwork(expected: .regtest, addressNetworks: [.testnet, .signet])) {
            try Address("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", network: .regtest)
        }
        let mixed = "BCRT" + text.dropFirst(4)
        expectError("bech32_mixed_case") { () throws(BitcoinError) in _ = try Address(String(mixed), network: .regtest) }
        var corrupted = Array(text)
        corrupted[10] = corrupted[10] == "q" ? "p" : "q"
        expectError("bech32_invalid_checksum") { () throws(BitcoinError) in _ = try Address(String(corrupted), network: .regtest) }
        let wrongVariant = try Bech32.encode(hrp: "bcrt", values: [0] + (Bech32.convertBits(program, from: 8, to: 5, pad: true) ?? []), variant: .bech32m)
        #expect(throws: BitcoinError.bech32WrongVariant(witnessVersion: 0, used: .bech32m)) { try Address(wrongVariant, network: .regtest) }
        let taproot = try Address(.witnessProgram(version: 1, program: [UInt8](repeating: 7, count: 32)), network: .regtest)
        #expect(taproot.description.hasPrefix("bcrt1p") && taproot.kind == .p2tr)
        #expect(try Address(taproot.description, network: .regtest) == taproot)
        #expect(Hex.encode(taproot.scriptPubKey) == "5120" + String(repeating: "07", count: 32))
        let future = try Address(.witnessProgram(version: 16, program: [1, 2]), network: .regtest)
        #expect(Hex.encode(future.scriptPubKey) == "60020102" && future.kind == .witnessUnknown)
        #expect(try Address(scriptPubKey: future.scriptPubKey, network: .regtest) == future)
        expectError("unknown_hrp") { () throws(BitcoinError) in
            _ = try Address(try Bech32.encodeSegwitAddress(hrp: "ltc", version: 0, program: program), network: .mainnet)
        }
        for script in ["6a24aa21a9ed" + String(repeating: "00", count: 32), "51", "0014" + String(repeating: "00", count: 19),
                       "0015" + String(repeating: "00", count: 21), "5101aa", "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ad", ""] {
            expectError("script_has_no_address", "\(script)") { () throws(BitcoinError) in
                _ = try Address(scriptPubKey: hex(script), network: .regtest)
            }
        }
    }

    @Test("convertBits and segwit encoding edge cases")
    func convertBits() throws {
        #expect(Bech32.convertBits([0xff], from: 8, to: 5, pad: true) == [31, 28])
        #expect(Bech32.convertBits([31, 28], from: 5, to: 8, pad: false) == [0xff])
        #expect(Bech32.convertBits([31, 29], from: 5, to: 8, pad: false) == nil, "non-zero padding")
        #expect(Bech32.convertBits([32], from: 5, to: 8, pad: false) == nil, "value too wide")
        #expect(Bech32.convertBits([1], from: 0, to: 8, pad: false) == nil)
        expectError("invalid_witness_program_length") { () throws(BitcoinError) in
            _ = try Bech32.encodeSegwitAddress(hrp: "bc", version: 1, program: [1])
        }
        expectError("bech32_invalid_character") { () throws(BitcoinError) in _ = try Bech32.encode(hrp: "bc", values: [32], variant: .bech32) }
        expectError("bech32_empty_hrp") { () throws(BitcoinError) in _ = try Bech32.encode(hrp: "", values: [], variant: .bech32) }
        expectError("bech32_too_long") { () throws(BitcoinError) in
            _ = try Bech32.encode(hrp: "bc", values: [UInt8](repeating: 0, count: 90), variant: .bech32)
        }
    }

    @Test("BIP380 descriptor checksum vectors")
    func descriptorChecksums() throws {
        let cases = objects(descriptors["bip380_checksum"])
        #expect(cases.count == 8)
        for item in cases {
            let text = string(item["descriptor"])
            if item["valid"] as? Bool == true {
                #expect(try Descriptor(text, network: .mainnet) == .raw(hex("deadbeef")), "\(string(item["name"]))")
            } else {
                expectError(string(item["error"]), "\(string(item["name"])): \(text)") { () throws(BitcoinError) in
                    _ = try Descriptor(text, network: .mainnet)
                }
            }
        }
        #expect(try Descriptor.checksum("raw(deadbeef)") == "89f8spxm")
        #expect(Descriptor.raw(hex("deadbeef")).description == "raw(deadbeef)#89f8spxm")
    }

    @Test("BIP385 raw() and addr() vectors; descriptors round-trip with their checksum")
    func descriptorScripts() throws {
        let valid = objects(descriptors["bip385_valid"])
        #expect(valid.count == 4)
        for item in valid {
            let descriptor = try Descriptor(string(item["descriptor"]), network: .mainnet)
            #expect(Hex.encode(descriptor.scriptPubKey) == string(item["script_hex"]))
            #expect(descriptor.body == string(item["descriptor"]))
            #expect(try Descriptor(descriptor.description, network: .mainnet) == descriptor)
        }
        let invalid = objects(descriptors["bip385_invalid"])
        #expect(invalid.count == 6)
        for item in invalid {
            let text = string(item["descriptor"])
            do {
                _ = try Descriptor(text, network: .mainnet)
                Issue.record("\(string(item["name"])): \(text) parsed")
            } catch {
                let expected = text.hasPrefix("raw(") ? ["invalid_hex"]
                    : text.hasPrefix("addr(") ? ["invalid_base58_payload_length", "invalid_base58_checksum"] : ["unsupported_descriptor"]
                #expect(expected.contains(error.code), "\(text): \(error)")
            }
        }
        let regtest = try Address(.witnessProgram(version: 0, program: [UInt8](repeating: 3, count: 32)), network: .regtest)
        let descriptor = Descriptor.address(regtest)
        #expect(try Descriptor(descriptor.description, network: .regtest) == descriptor)
        #expect(descriptor.scriptPubKey == regtest.scriptPubKey)
        expectError("wrong_network") { () throws(BitcoinError) in _ = try Descriptor(descriptor.body, network: .testnet) }
        for text in ["raw()", "raw(0x00)", "raw(abc)", "RAW(00)", "addr()", "raw(00", "pk(00)", ""] {
            do {
                _ = try Descriptor(text, network: .regtest)
                Issue.record("\(text) parsed")
            } catch {
                #expect(["invalid_hex", "unsupported_descriptor", "invalid_address_length"].contains(error.code), "\(text): \(error)")
            }
        }
        #expect(try Descriptor("raw(DEADBEEF)", network: .regtest) == .raw(hex("deadbeef")))
    }

    @Test("garbage strings never crash address, bech32 or descriptor parsing")
    func garbage() {
        var random = SplitMix64(state: 350)
        let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l1bcrtBCRT#()addrw\u{80}\u{ff}Ü ?")
        for _ in 0..<3000 {
            let text = String((0..<Int.random(in: 0...95, using: &random)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
            let seeded = ["bc1", "tb1", "bcrt1", "addr(", "raw(", ""][Int.random(in: 0..<6, using: &random)] + text
            for candidate in [text, seeded] {
                for network in Network.allCases { _ = try? Address(candidate, network: network) }
                _ = try? Bech32.decode(candidate)
                _ = try? Descriptor(candidate, network: .regtest)
                _ = try? Descriptor.checksum(candidate)
            }
        }
    }
}
