import Sv2Binary
import Testing
@testable import Bitcoin

@Suite("Script templates, assembly and inferred descriptors (Bitcoin Core's Solver, ScriptToAsmStr, InferDescriptor)")
struct ScriptAnalysisTests {
    private func script(_ hex: String) -> [UInt8] { Hex.decode(hex) ?? [] }

    @Test("templates", arguments: [
        ("76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", ScriptTemplate.pubkeyhash),
        ("a914751e76e8199196d454941c45d1b3a323f1433bd687", .scripthash),
        ("0014751e76e8199196d454941c45d1b3a323f1433bd6", .witnessV0KeyHash),
        ("0020" + String(repeating: "ab", count: 32), .witnessV0ScriptHash),
        ("5120" + String(repeating: "ab", count: 32), .witnessV1Taproot),
        ("51024e73", .anchor),
        ("5202abcd", .witnessUnknown),
        ("6a0401020304", .nulldata),
        ("6a", .nulldata),
        ("210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798ac", .pubkey),
        ("51210279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f8179851ae", .multisig),
        ("51", .nonstandard),
        ("4c", .nonstandard),
    ])
    func templates(hex: String, expected: ScriptTemplate) {
        #expect(Script.template(of: script(hex)).template == expected)
    }

    @Test("assembly: small pushes as numbers, opcodes by name, signatures with their sighash type, truncation")
    func assembly() {
        #expect(Script.assembly(script("76a914751e76e8199196d454941c45d1b3a323f1433bd688ac"))
            == "OP_DUP OP_HASH160 751e76e8199196d454941c45d1b3a323f1433bd6 OP_EQUALVERIFY OP_CHECKSIG")
        #expect(Script.assembly(script("00515f604f02ff80018000")) == "0 1 15 16 -1 -255 0 0")
        #expect(Script.assembly(script("b1b2bab0b9c0ff")) == "OP_CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY OP_CHECKSIGADD OP_NOP1 OP_NOP10 OP_UNKNOWN OP_INVALIDOPCODE")
        #expect(Script.assembly(script("0201")) == "[error]")
        let signature = "3006020101020101"
        #expect(Script.assembly(script("09" + signature + "01"), decodeSignatures: true) == signature + "[ALL]")
        #expect(Script.assembly(script("09" + signature + "01")) == signature + "01")
        #expect(Script.assembly(script("09" + signature + "05"), decodeSignatures: true) == signature + "05")
    }

    @Test("inferred descriptors carry Core's checksum")
    func descriptors() throws {
        let raw = Script.inferredDescriptor(script("deadbeef"), network: .regtest)
        #expect(raw == "raw(deadbeef)#89f8spxm")
        let address = Script.inferredDescriptor(script("0014751e76e8199196d454941c45d1b3a323f1433bd6"), network: .mainnet)
        #expect(address.hasPrefix("addr(bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4)#"))
        _ = try Descriptor(address, network: .mainnet)
    }
}
