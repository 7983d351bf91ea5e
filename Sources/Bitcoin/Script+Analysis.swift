import Sv2Binary
import Sv2Crypto

/// The standard script templates, as Bitcoin Core's `Solver` recognises them (`rawValue`: the name its RPCs print).
public enum ScriptTemplate: String, Hashable, Sendable {
    /// None of the others.
    case nonstandard
    /// `<pubkey> OP_CHECKSIG`.
    case pubkey
    /// `OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`.
    case pubkeyhash
    /// `OP_HASH160 <20> OP_EQUAL`.
    case scripthash
    /// `m <pubkey>... n OP_CHECKMULTISIG`.
    case multisig
    /// `OP_RETURN` followed by pushes only.
    case nulldata
    /// Witness version 0, 20-byte program.
    case witnessV0KeyHash = "witness_v0_keyhash"
    /// Witness version 0, 32-byte program.
    case witnessV0ScriptHash = "witness_v0_scripthash"
    /// Witness version 1, 32-byte program.
    case witnessV1Taproot = "witness_v1_taproot"
    /// Pay-to-anchor: witness version 1, program `4e73`.
    case anchor
    /// Another witness version or program length.
    case witnessUnknown = "witness_unknown"
}

extension Script {
    /// The template `script` matches and its data: the public keys (with the key counts first and last for
    /// multisig), the hash, or the witness program.
    public static func template(of script: [UInt8]) -> (template: ScriptTemplate, solutions: [[UInt8]]) {
        if let address = try? Address(scriptPubKey: script, network: .mainnet) {
            switch address.payload {
            case let .pubkeyHash(hash): return (.pubkeyhash, [hash])
            case let .scriptHash(hash): return (.scripthash, [hash])
            case let .witnessProgram(version, program):
                switch (version, program.count) {
                case (0, 20): return (.witnessV0KeyHash, [program])
                case (0, 32): return (.witnessV0ScriptHash, [program])
                case (1, 32): return (.witnessV1Taproot, [program])
                case (1, 2) where program == [0x4e, 0x73]: return (.anchor, [])
                default: return (.witnessUnknown, [[version], program])
                }
            }
        }
        guard let instructions = try? Script.instructions(script) else { return (.nonstandard, []) }
        if script.first == opReturn, instructions.dropFirst().allSatisfy({ $0.opcode <= op16 }) {
            return (.nulldata, [])
        }
        if instructions.count == 2, instructions[1].opcode == opCheckSig, let key = instructions[0].data,
           isPublicKey(key) {
            return (.pubkey, [key])
        }
        if let multisig = multisigSolutions(instructions) { return (.multisig, multisig) }
        return (.nonstandard, [])
    }

    private static func multisigSolutions(_ instructions: [Instruction]) -> [[UInt8]]? {
        guard instructions.count >= 4, instructions.last?.opcode == opCheckMultiSig,
              let required = smallInteger(instructions[0].opcode),
              let count = smallInteger(instructions[instructions.count - 2].opcode),
              count == instructions.count - 3, required >= 1, required <= count
        else { return nil }
        var keys = [[UInt8]]()
        for instruction in instructions[1..<(instructions.count - 2)] {
            guard let key = instruction.data, isPublicKey(key) else { return nil }
            keys.append(key)
        }
        return [[UInt8(required)]] + keys + [[UInt8(count)]]
    }

    /// 1 to 16 for OP_1…OP_16.
    private static func smallInteger(_ opcode: UInt8) -> Int? {
        (op1...op16).contains(opcode) ? Int(opcode - op1) + 1 : nil
    }

    /// A compressed (33 bytes, 02/03) or uncompressed (65 bytes, 04) public key's shape.
    static func isPublicKey(_ bytes: [UInt8]) -> Bool {
        (bytes.count == 33 && (bytes[0] == 2 || bytes[0] == 3)) || (bytes.count == 65 && bytes[0] == 4)
    }

    /// Bitcoin Core's `ScriptToAsmStr`: pushes of up to 4 bytes as script numbers, longer ones as hex (with
    /// `decodeSignatures`, a push shaped like a DER signature with a known sighash type gets `[ALL]` etc. instead of
    /// its last byte), other opcodes by name; `[error]` where a push runs past the end.
    public static func assembly(_ script: [UInt8], decodeSignatures: Bool = false) -> String {
        var words = [String]()
        var offset = 0
        let unspendable = script.first == opReturn || script.count > 10_000
        while offset < script.count {
            guard let instruction = nextInstruction(script, at: &offset) else {
                words.append("[error]")
                break
            }
            guard let data = instruction.data else {
                words.append(opcodeName(instruction.opcode))
                continue
            }
            if data.count <= 4 {
                words.append(String(scriptNumberValue(data)))
            } else if decodeSignatures, !unspendable, let (signature, name) = signatureWithHashType(data) {
                words.append(Hex.encode(signature) + "[" + name + "]")
            } else {
                words.append(Hex.encode(data))
            }
        }
        return words.joined(separator: " ")
    }

    /// The value of a minimally or non-minimally encoded script number (little-endian, sign bit in the last byte).
    static func scriptNumberValue(_ bytes: [UInt8]) -> Int64 {
        guard let last = bytes.last else { return 0 }
        var value: Int64 = 0
        for (index, byte) in bytes.enumerated() { value |= Int64(byte) << (8 * index) }
        guard last & 0x80 != 0 else { return value }
        return -(value & ~(Int64(0x80) << (8 * (bytes.count - 1))))
    }

    /// A strictly DER-encoded signature (BIP66) followed by a defined sighash type: the signature and the type's name.
    private static func signatureWithHashType(_ bytes: [UInt8]) -> ([UInt8], String)? {
        guard let hashType = bytes.last, isStrictDER(Array(bytes.dropLast())) else { return nil }
        let names: [UInt8: String] = [
            0x01: "ALL", 0x02: "NONE", 0x03: "SINGLE",
            0x81: "ALL|ANYONECANPAY", 0x82: "NONE|ANYONECANPAY", 0x83: "SINGLE|ANYONECANPAY",
        ]
        guard let name = names[hashType] else { return nil }
        return (Array(bytes.dropLast()), name)
    }

    /// BIP66's `IsValidSignatureEncoding`, without the trailing sighash byte.
    private static func isStrictDER(_ sig: [UInt8]) -> Bool {
        guard sig.count >= 8, sig.count <= 72, sig[0] == 0x30, Int(sig[1]) == sig.count - 2, sig[2] == 0x02 else { return false }
        let lengthR = Int(sig[3])
        guard lengthR > 0, 5 + lengthR < sig.count, sig[4 + lengthR] == 0x02 else { return false }
        let lengthS = Int(sig[5 + lengthR])
        guard lengthS > 0, lengthR + lengthS + 6 == sig.count else { return false }
        guard sig[4] & 0x80 == 0, !(lengthR > 1 && sig[4] == 0 && sig[5] & 0x80 == 0) else { return false }
        let startS = 6 + lengthR
        guard sig[startS] & 0x80 == 0, !(lengthS > 1 && sig[startS] == 0 && sig[startS + 1] & 0x80 == 0) else { return false }
        return true
    }

    /// Bitcoin Core's `GetOpName` (OP_1…OP_16 as digits, OP_1NEGATE as -1, unknown opcodes `OP_UNKNOWN`).
    public static func opcodeName(_ opcode: UInt8) -> String {
        if opcode == op0 { return "0" }
        if opcode == op1Negate { return "-1" }
        if let number = smallInteger(opcode) { return String(number) }
        if let name = opcodeNames[opcode] { return name }
        if (0xb0...0xb9).contains(opcode) { return opcode == 0xb0 ? "OP_NOP1" : "OP_NOP\(opcode - 0xb0 + 1)" }
        return "OP_UNKNOWN"
    }

    private static let opcodeNames: [UInt8: String] = {
        let names = [
            (0x4c, "OP_PUSHDATA1"), (0x4d, "OP_PUSHDATA2"), (0x4e, "OP_PUSHDATA4"), (0x50, "OP_RESERVED"),
            (0x61, "OP_NOP"), (0x62, "OP_VER"), (0x63, "OP_IF"), (0x64, "OP_NOTIF"), (0x65, "OP_VERIF"),
            (0x66, "OP_VERNOTIF"), (0x67, "OP_ELSE"), (0x68, "OP_ENDIF"), (0x69, "OP_VERIFY"), (0x6a, "OP_RETURN"),
            (0x6b, "OP_TOALTSTACK"), (0x6c, "OP_FROMALTSTACK"), (0x6d, "OP_2DROP"), (0x6e, "OP_2DUP"),
            (0x6f, "OP_3DUP"), (0x70, "OP_2OVER"), (0x71, "OP_2ROT"), (0x72, "OP_2SWAP"), (0x73, "OP_IFDUP"),
            (0x74, "OP_DEPTH"), (0x75, "OP_DROP"), (0x76, "OP_DUP"), (0x77, "OP_NIP"), (0x78, "OP_OVER"),
            (0x79, "OP_PICK"), (0x7a, "OP_ROLL"), (0x7b, "OP_ROT"), (0x7c, "OP_SWAP"), (0x7d, "OP_TUCK"),
            (0x7e, "OP_CAT"), (0x7f, "OP_SUBSTR"), (0x80, "OP_LEFT"), (0x81, "OP_RIGHT"), (0x82, "OP_SIZE"),
            (0x83, "OP_INVERT"), (0x84, "OP_AND"), (0x85, "OP_OR"), (0x86, "OP_XOR"), (0x87, "OP_EQUAL"),
            (0x88, "OP_EQUALVERIFY"), (0x89, "OP_RESERVED1"), (0x8a, "OP_RESERVED2"), (0x8b, "OP_1ADD"),
            (0x8c, "OP_1SUB"), (0x8d, "OP_2MUL"), (0x8e, "OP_2DIV"), (0x8f, "OP_NEGATE"), (0x90, "OP_ABS"),
            (0x91, "OP_NOT"), (0x92, "OP_0NOTEQUAL"), (0x93, "OP_ADD"), (0x94, "OP_SUB"), (0x95, "OP_MUL"),
            (0x96, "OP_DIV"), (0x97, "OP_MOD"), (0x98, "OP_LSHIFT"), (0x99, "OP_RSHIFT"), (0x9a, "OP_BOOLAND"),
            (0x9b, "OP_BOOLOR"), (0x9c, "OP_NUMEQUAL"), (0x9d, "OP_NUMEQUALVERIFY"), (0x9e, "OP_NUMNOTEQUAL"),
            (0x9f, "OP_LESSTHAN"), (0xa0, "OP_GREATERTHAN"), (0xa1, "OP_LESSTHANOREQUAL"),
            (0xa2, "OP_GREATERTHANOREQUAL"), (0xa3, "OP_MIN"), (0xa4, "OP_MAX"), (0xa5, "OP_WITHIN"),
            (0xa6, "OP_RIPEMD160"), (0xa7, "OP_SHA1"), (0xa8, "OP_SHA256"), (0xa9, "OP_HASH160"),
            (0xaa, "OP_HASH256"), (0xab, "OP_CODESEPARATOR"), (0xac, "OP_CHECKSIG"), (0xad, "OP_CHECKSIGVERIFY"),
            (0xae, "OP_CHECKMULTISIG"), (0xaf, "OP_CHECKMULTISIGVERIFY"), (0xb1, "OP_CHECKLOCKTIMEVERIFY"),
            (0xb2, "OP_CHECKSEQUENCEVERIFY"), (0xba, "OP_CHECKSIGADD"), (0xff, "OP_INVALIDOPCODE"),
        ]
        return Dictionary(uniqueKeysWithValues: names.map { (UInt8($0.0), $0.1) })
    }()

    /// The descriptor Bitcoin Core infers for an output script without key knowledge: `pk(KEY)`, `multi(k,KEY…)`,
    /// `addr(ADDRESS)` for anything with an address, else `raw(HEX)`; with its checksum.
    public static func inferredDescriptor(_ script: [UInt8], network: Network) -> String {
        let (template, solutions) = template(of: script)
        let body: String
        switch template {
        case .pubkey:
            body = "pk(\(Hex.encode(solutions[0])))"
        case .multisig:
            let keys = solutions.dropFirst().dropLast().map { Hex.encode($0) }
            body = "multi(\(solutions[0][0]),\(keys.joined(separator: ",")))"
        default:
            if let address = try? Address(scriptPubKey: script, network: network) {
                body = "addr(\(address))"
            } else {
                body = "raw(\(Hex.encode(script)))"
            }
        }
        return body + "#" + ((try? Descriptor.checksum(body)) ?? "")
    }
}
