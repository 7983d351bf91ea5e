/// Script building and inspection: pushes as Bitcoin Core's `CScript <<` writes them, opcode iteration and the
/// legacy sigop count.
///
/// Scripts are plain byte arrays; these functions never trap on malformed scripts.
public enum Script {
    /// OP_0 (also OP_FALSE): pushes an empty array.
    public static let op0: UInt8 = 0x00
    /// OP_PUSHDATA1: the next byte is a push length.
    public static let opPushData1: UInt8 = 0x4c
    /// OP_PUSHDATA2: the next two bytes (LE) are a push length.
    public static let opPushData2: UInt8 = 0x4d
    /// OP_PUSHDATA4: the next four bytes (LE) are a push length.
    public static let opPushData4: UInt8 = 0x4e
    /// OP_1NEGATE: pushes -1.
    public static let op1Negate: UInt8 = 0x4f
    /// OP_1 (also OP_TRUE); OP_2 … OP_16 follow it.
    public static let op1: UInt8 = 0x51
    /// OP_16.
    public static let op16: UInt8 = 0x60
    /// OP_RETURN: marks an output unspendable (and carries data such as the BIP141 commitment).
    public static let opReturn: UInt8 = 0x6a
    /// OP_DUP.
    public static let opDup: UInt8 = 0x76
    /// OP_EQUAL.
    public static let opEqual: UInt8 = 0x87
    /// OP_EQUALVERIFY.
    public static let opEqualVerify: UInt8 = 0x88
    /// OP_HASH160.
    public static let opHash160: UInt8 = 0xa9
    /// OP_CHECKSIG.
    public static let opCheckSig: UInt8 = 0xac
    /// OP_CHECKSIGVERIFY.
    public static let opCheckSigVerify: UInt8 = 0xad
    /// OP_CHECKMULTISIG.
    public static let opCheckMultiSig: UInt8 = 0xae
    /// OP_CHECKMULTISIGVERIFY.
    public static let opCheckMultiSigVerify: UInt8 = 0xaf

    /// One operation of a script: its opcode and, for push opcodes (0x00 to 0x4e), the pushed bytes.
    public struct Instruction: Hashable, Sendable {
        /// The opcode byte.
        public var opcode: UInt8
        /// The data pushed, for opcodes 0x00 … 0x4e; nil for other opcodes.
        public var data: [UInt8]?
        /// Byte offset of the opcode in the script.
        public var offset: Int

        /// Creates an instruction.
        public init(opcode: UInt8, data: [UInt8]?, offset: Int) {
            self.opcode = opcode
            self.data = data
            self.offset = offset
        }
    }

    /// The operations of `script` in order; throws ``BitcoinError/truncatedScriptPush(offset:)`` when a push runs past
    /// the end.
    public static func instructions(_ script: [UInt8]) throws(BitcoinError) -> [Instruction] {
        var result = [Instruction]()
        var offset = 0
        while offset < script.count {
            guard let instruction = nextInstruction(script, at: &offset) else {
                throw .truncatedScriptPush(offset: offset)
            }
            result.append(instruction)
        }
        return result
    }

    /// Decodes the operation at `offset` and advances past it (Bitcoin Core's `GetScriptOp`); nil when a push runs
    /// past the end (the offset is left at the bad opcode).
    static func nextInstruction(_ script: [UInt8], at offset: inout Int) -> Instruction? {
        guard offset < script.count else { return nil }
        let start = offset
        let opcode = script[offset]
        var cursor = offset + 1
        guard opcode <= opPushData4 else {
            offset = cursor
            return Instruction(opcode: opcode, data: nil, offset: start)
        }
        var length: Int
        switch opcode {
        case opPushData1: length = 1
        case opPushData2: length = 2
        case opPushData4: length = 4
        default: length = 0
        }
        if length > 0 {
            guard script.count - cursor >= length else { return nil }
            var value = 0
            for index in 0..<length { value |= Int(script[cursor + index]) << (8 * index) }
            cursor += length
            length = value
        } else {
            length = Int(opcode)
        }
        guard script.count - cursor >= length else { return nil }
        offset = cursor + length
        return Instruction(opcode: opcode, data: Array(script[cursor..<cursor + length]), offset: start)
    }

    /// A push of `data` as Bitcoin Core's `CScript << std::vector` writes it: a direct length byte below 76 bytes,
    /// else OP_PUSHDATA1/2/4 (single bytes are not turned into OP_1…OP_16).
    public static func pushData(_ data: [UInt8]) -> [UInt8] {
        var script = [UInt8]()
        switch data.count {
        case 0..<Int(opPushData1):
            script.append(UInt8(data.count))
        case 0..<0x100:
            script.append(opPushData1)
            script.append(UInt8(data.count))
        case 0..<0x1_0000:
            script.append(opPushData2)
            script.appendLittleEndian(UInt16(data.count))
        default:
            script.append(opPushData4)
            script.appendLittleEndian(UInt32(truncatingIfNeeded: data.count))
        }
        return script + data
    }

    /// The minimal little-endian encoding of `value` with a sign bit (Bitcoin Core's `CScriptNum::serialize`); empty
    /// for zero.
    public static func scriptNumber(_ value: Int64) -> [UInt8] {
        guard value != 0 else { return [] }
        var magnitude = value.magnitude
        var bytes = [UInt8]()
        while magnitude > 0 {
            bytes.append(UInt8(truncatingIfNeeded: magnitude))
            magnitude >>= 8
        }
        if let last = bytes.last, last & 0x80 != 0 {
            bytes.append(value < 0 ? 0x80 : 0x00)
        } else if value < 0 {
            bytes[bytes.count - 1] |= 0x80
        }
        return bytes
    }

    /// Decodes a script number (little-endian magnitude, sign in the top bit of the last byte) of at most 8 bytes;
    /// nil when longer or not minimally encoded.
    static func decodeScriptNumber(_ bytes: [UInt8]) -> Int64? {
        guard let last = bytes.last else { return 0 }
        guard bytes.count <= 8 else { return nil }
        // Minimal: the last byte carries more than the sign, unless the byte before needs its top bit free.
        if last & 0x7f == 0 {
            guard bytes.count > 1, bytes[bytes.count - 2] & 0x80 != 0 else { return nil }
        }
        var magnitude: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            let part = index == bytes.count - 1 ? byte & 0x7f : byte
            magnitude |= UInt64(part) << (8 * UInt64(index))
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return last & 0x80 != 0 ? -Int64(magnitude) : Int64(magnitude)
    }

    /// A push of the integer `value` as Bitcoin Core's `CScript << int64_t` writes it: OP_0 for 0, OP_1NEGATE for
    /// -1, OP_1…OP_16 for 1…16, else a push of ``scriptNumber(_:)``.
    public static func pushInteger(_ value: Int64) -> [UInt8] {
        switch value {
        case 0: return [op0]
        case -1: return [op1Negate]
        case 1...16: return [op1 + UInt8(value - 1)]
        default: return pushData(scriptNumber(value))
        }
    }

    /// Bitcoin Core's `CScript::GetSigOpCount(fAccurate)`: one per CHECKSIG(VERIFY); per CHECKMULTISIG(VERIFY) the key
    /// count of a preceding OP_1…OP_16 when `accurate`, else 20. Counting stops at a push that runs past the end.
    public static func sigOpCount(_ script: [UInt8], accurate: Bool) -> Int {
        var count = 0
        var offset = 0
        var lastOpcode: UInt8 = 0xff // OP_INVALIDOPCODE
        while let instruction = nextInstruction(script, at: &offset) {
            switch instruction.opcode {
            case opCheckSig, opCheckSigVerify:
                count += 1
            case opCheckMultiSig, opCheckMultiSigVerify:
                if accurate, lastOpcode >= op1, lastOpcode <= op16 {
                    count += Int(lastOpcode - op1) + 1
                } else {
                    count += 20
                }
            default:
                break
            }
            lastOpcode = instruction.opcode
        }
        return count
    }
}
