import Sv2Binary
import Sv2Crypto

/// A Bitcoin transaction with optional segregated witness (BIP141), serialised as BIP144 describes.
///
/// A value type without invariants: any field may be changed and the transaction re-serialised. Parsing is strict:
/// truncated input, bytes after the transaction, non-canonical CompactSizes, counts the input cannot hold, an unknown
/// BIP144 flag and a witness marker with only empty witnesses are errors.
public struct Transaction: Hashable, Sendable {
    /// The version (1 or 2 in practice).
    public var version: UInt32
    /// The inputs; a coinbase has one input spending ``OutPoint/null``.
    public var inputs: [TransactionInput]
    /// The outputs.
    public var outputs: [TransactionOutput]
    /// The lock time (a height below 500,000,000, else a Unix time).
    public var lockTime: UInt32

    /// Creates a transaction.
    public init(version: UInt32, inputs: [TransactionInput], outputs: [TransactionOutput], lockTime: UInt32) {
        self.version = version
        self.inputs = inputs
        self.outputs = outputs
        self.lockTime = lockTime
    }

    /// Parses one transaction that fills `bytes` exactly (with or without witness).
    public init(bytes: [UInt8]) throws(BitcoinError) {
        var reader = ByteReader(bytes)
        try self.init(reading: &reader)
        try reader.finish("transaction")
    }

    /// Parses one transaction from hex digits that encode it exactly.
    public init(hex: String) throws(BitcoinError) {
        guard let bytes = Hex.decode(hex) else { throw .invalidHex(what: "transaction") }
        try self.init(bytes: bytes)
    }

    /// Reads one transaction.
    init(reading reader: inout ByteReader) throws(BitcoinError) {
        version = try reader.readUInt32("transaction version")
        var segwit = false
        if reader.peek() == 0x00 {
            _ = try reader.readByte("witness marker")
            let flag = try reader.readByte("witness flag")
            guard flag == 0x01 else { throw .unknownWitnessFlag(flag) }
            segwit = true
        }
        // Smallest input: 36-byte outpoint, 1-byte script length, 4-byte sequence.
        let inputCount = try reader.readCount("input count", minimumElementSize: 41)
        var inputs = [TransactionInput]()
        inputs.reserveCapacity(inputCount)
        for _ in 0..<inputCount {
            let txid = try reader.readU256("input previous txid")
            let vout = try reader.readUInt32("input previous vout")
            let scriptSig = try reader.readVarBytes("input scriptSig")
            let sequence = try reader.readUInt32("input sequence")
            inputs.append(TransactionInput(previousOutput: OutPoint(txid: txid, vout: vout), scriptSig: scriptSig, sequence: sequence))
        }
        // Smallest output: 8-byte value, 1-byte script length.
        let outputCount = try reader.readCount("output count", minimumElementSize: 9)
        var outputs = [TransactionOutput]()
        outputs.reserveCapacity(outputCount)
        for _ in 0..<outputCount { outputs.append(try TransactionOutput(reading: &reader)) }
        if segwit {
            for index in inputs.indices {
                let itemCount = try reader.readCount("witness item count", minimumElementSize: 1)
                var stack = [[UInt8]]()
                stack.reserveCapacity(itemCount)
                for _ in 0..<itemCount { stack.append(try reader.readVarBytes("witness item")) }
                inputs[index].witness = stack
            }
            guard inputs.contains(where: { !$0.witness.isEmpty }) else { throw .superfluousWitness }
        }
        lockTime = try reader.readUInt32("transaction lock time")
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Whether any input has a non-empty witness (then the full serialisation carries the BIP144 marker and flag).
    public var hasWitness: Bool { inputs.contains { !$0.witness.isEmpty } }

    /// Whether this is a coinbase: exactly one input, spending ``OutPoint/null``.
    public var isCoinbase: Bool { inputs.count == 1 && inputs[0].previousOutput.isNull }

    /// The serialisation. With `includingWitness` (the default) and at least one non-empty witness it is the BIP144
    /// form (marker 0x00, flag 0x01, witnesses before the lock time); otherwise the legacy form that txids hash.
    ///
    /// A transaction without inputs serialises but does not parse back (its empty input count reads as a marker).
    public func serialized(includingWitness: Bool = true) -> [UInt8] {
        let witness = includingWitness && hasWitness
        var bytes = [UInt8]()
        bytes.reserveCapacity(estimatedSize)
        bytes.appendLittleEndian(version)
        if witness { bytes.append(contentsOf: [0x00, 0x01]) }
        CompactSize.append(UInt64(inputs.count), to: &bytes)
        for input in inputs {
            bytes.append(contentsOf: input.previousOutput.txid.littleEndianBytes)
            bytes.appendLittleEndian(input.previousOutput.vout)
            CompactSize.append(UInt64(input.scriptSig.count), to: &bytes)
            bytes.append(contentsOf: input.scriptSig)
            bytes.appendLittleEndian(input.sequence)
        }
        CompactSize.append(UInt64(outputs.count), to: &bytes)
        for output in outputs { output.append(to: &bytes) }
        if witness {
            for input in inputs {
                CompactSize.append(UInt64(input.witness.count), to: &bytes)
                for item in input.witness {
                    CompactSize.append(UInt64(item.count), to: &bytes)
                    bytes.append(contentsOf: item)
                }
            }
        }
        bytes.appendLittleEndian(lockTime)
        return bytes
    }

    /// A capacity hint for ``serialized(includingWitness:)``.
    private var estimatedSize: Int {
        var size = 10
        for input in inputs {
            size += 41 + 9 + input.scriptSig.count
            for item in input.witness { size += 9 + item.count }
        }
        for output in outputs { size += 18 + output.scriptPubKey.count }
        return size
    }

    /// The hex of the full serialisation.
    public var hex: String { Hex.encode(serialized()) }

    /// SHA256d of the serialisation without witness, in internal byte order (display with ``U256/displayHex``).
    public var txid: U256 { U256.fromDigest(Sv2Hash.sha256d(serialized(includingWitness: false))) }

    /// SHA256d of the full serialisation (equal to ``txid`` without witness), in internal byte order.
    ///
    /// BIP141 commits to the coinbase's wtxid as zero; ``WitnessCommitment`` applies that rule.
    public var wtxid: U256 { U256.fromDigest(Sv2Hash.sha256d(serialized())) }

    /// Bytes of the serialisation without witness.
    public var baseSize: Int { serialized(includingWitness: false).count }

    /// Bytes of the full serialisation.
    public var totalSize: Int { serialized().count }

    /// BIP141 weight: base size × 3 + total size.
    public var weight: Int { baseSize * 3 + totalSize }

    /// Virtual size: weight / 4, rounded up.
    public var virtualSize: Int { (weight + 3) / 4 }

    /// Bitcoin Core's legacy sigop count (`GetLegacySigOpCount`): the inaccurate count of every scriptSig and
    /// scriptPubKey (CHECKMULTISIG counts 20). Block templates charge it × 4 against the sigop-cost limit.
    public var legacySigOpCount: Int {
        inputs.reduce(0) { $0 + Script.sigOpCount($1.scriptSig, accurate: false) }
            + outputs.reduce(0) { $0 + Script.sigOpCount($1.scriptPubKey, accurate: false) }
    }
}
