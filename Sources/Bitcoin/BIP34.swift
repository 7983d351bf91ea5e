/// BIP34: the block height as the first push of the coinbase scriptSig.
public enum BIP34 {
    /// The height push exactly as Bitcoin Core writes it (`CScript() << nHeight`): OP_0 for 0, OP_1…OP_16 for 1…16,
    /// else a minimal little-endian push with a sign byte when the top bit is set (17 → `01 11`, 128 → `02 80 00`).
    ///
    /// Bitcoin Core's block templates follow it with OP_0 (regtest height 2 gives scriptSig `52 00`); that byte is
    /// not part of the height push.
    public static func heightPush(_ height: UInt32) -> [UInt8] {
        Script.pushInteger(Int64(height))
    }

    /// The height that `scriptSig` starts with. Accepts exactly the encodings ``heightPush(_:)`` produces (what
    /// Bitcoin Core's BIP34 check compares against); anything else throws
    /// ``BitcoinError/invalidCoinbaseHeight(reason:)``.
    public static func height(inScriptSig scriptSig: [UInt8]) throws(BitcoinError) -> UInt32 {
        var offset = 0
        guard !scriptSig.isEmpty else { throw .invalidCoinbaseHeight(reason: "scriptSig is empty") }
        guard let instruction = Script.nextInstruction(scriptSig, at: &offset) else {
            throw .invalidCoinbaseHeight(reason: "the first push runs past the end of the scriptSig")
        }
        let height: Int64
        switch instruction.opcode {
        case Script.op0:
            height = 0
        case Script.op1...Script.op16:
            height = Int64(instruction.opcode - Script.op1) + 1
        case 0x01...0x05:
            guard let data = instruction.data, let value = Script.decodeScriptNumber(data) else {
                throw .invalidCoinbaseHeight(reason: "the first push is not a minimally encoded number")
            }
            height = value
        default:
            throw .invalidCoinbaseHeight(reason: "the first operation (0x\(String(instruction.opcode, radix: 16))) is not a push of 0 to 5 bytes")
        }
        guard height >= 0, height <= Int64(UInt32.max) else {
            throw .invalidCoinbaseHeight(reason: "height \(height) is negative or above 2^32-1")
        }
        let result = UInt32(height)
        guard scriptSig.starts(with: heightPush(result)) else {
            throw .invalidCoinbaseHeight(reason: "height \(result) is not pushed the way Bitcoin Core pushes it")
        }
        return result
    }
}
