/// A transaction output: an amount and the script that locks it.
public struct TransactionOutput: Hashable, Sendable {
    /// The amount in satoshis.
    public var value: UInt64
    /// The locking script.
    public var scriptPubKey: [UInt8]

    /// Creates an output.
    public init(value: UInt64, scriptPubKey: [UInt8]) {
        self.value = value
        self.scriptPubKey = scriptPubKey
    }

    /// The output's serialisation: value (8 bytes LE), CompactSize script length, script.
    public var serialized: [UInt8] {
        var bytes = [UInt8]()
        append(to: &bytes)
        return bytes
    }

    /// Appends the output's serialisation to `bytes`.
    func append(to bytes: inout [UInt8]) {
        bytes.appendLittleEndian(value)
        CompactSize.append(UInt64(scriptPubKey.count), to: &bytes)
        bytes.append(contentsOf: scriptPubKey)
    }

    /// Reads one output.
    init(reading reader: inout ByteReader) throws(BitcoinError) {
        value = try reader.readUInt64("output value")
        scriptPubKey = try reader.readVarBytes("output scriptPubKey")
    }

    /// Parses `count` serialised outputs that fill `bytes` exactly, such as NewTemplate.coinbase_tx_outputs
    /// (Template Distribution, spec 7.3) with its coinbase_tx_outputs_count.
    public static func decodeList(_ bytes: [UInt8], count: Int) throws(BitcoinError) -> [TransactionOutput] {
        var reader = ByteReader(bytes)
        guard count >= 0, count <= bytes.count / 9 else {
            throw .countTooLarge(what: "output count", offset: 0, count: UInt64(max(count, 0)), maximum: bytes.count / 9)
        }
        var outputs = [TransactionOutput]()
        outputs.reserveCapacity(count)
        for _ in 0..<count { outputs.append(try TransactionOutput(reading: &reader)) }
        try reader.finish("outputs")
        return outputs
    }

    /// Parses a CompactSize count, then that many serialised outputs filling the rest of `bytes`: the framing of the
    /// outputs in AllocateMiningJobToken.Success and SetCustomMiningJob (spec 6.4.3, 5.3.18).
    public static func decodeCountedList(_ bytes: [UInt8]) throws(BitcoinError) -> [TransactionOutput] {
        var reader = ByteReader(bytes)
        let count = try reader.readCount("output count", minimumElementSize: 9)
        var outputs = [TransactionOutput]()
        outputs.reserveCapacity(count)
        for _ in 0..<count { outputs.append(try TransactionOutput(reading: &reader)) }
        try reader.finish("outputs")
        return outputs
    }

    /// A CompactSize count, then each output: the framing ``decodeCountedList(_:)`` reads.
    public static func encodeCountedList(_ outputs: [TransactionOutput]) -> [UInt8] {
        var bytes = CompactSize.encode(UInt64(outputs.count))
        for output in outputs { output.append(to: &bytes) }
        return bytes
    }
}
