import Bitcoin
import CSv2Native
import Sv2Binary
import Sv2Messages

/// One job the pool made from a template (spec 7 NewTemplate): the coinbase split around the extranonce, as
/// NewExtendedMiningJob carries it, and everything needed to check a share and rebuild the block.
///
/// The coinbase is SRI's layout, so jobs read the same in both implementations: version, one input spending
/// nothing with scriptSig = template coinbase_prefix (BIP34 height) || push("Sv2/<pool tag>/<miner tag>/") ||
/// push opcode of the full extranonce length || extranonce; then the pool's reward output with
/// coinbase_tx_value_remaining, the template's outputs (witness commitment) and lock time. ``coinbasePrefix`` and
/// ``coinbaseSuffix`` are the txid form (no BIP141 marker, flag or witness); the block gets the witness (one
/// 32-byte zero reserved value) back when the template commits to witnesses.
public struct PoolJob: Sendable, Hashable {
    /// Why a template cannot become a job.
    public enum BuildError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The template's coinbase outputs do not parse.
        case malformedOutputs(String)
        /// The coinbase scriptSig would exceed the consensus limit of 100 bytes.
        case scriptSigTooLong(Int)

        /// A sentence for the log.
        public var description: String {
            switch self {
            case let .malformedOutputs(reason): return "the template's coinbase outputs do not parse: \(reason)"
            case let .scriptSigTooLong(length): return "the coinbase scriptSig would be \(length) bytes (at most 100)"
            }
        }
    }

    /// The job id, the same on every channel (the pool numbers jobs, not channels).
    public let id: UInt32
    /// The template it was made from.
    public let templateID: UInt64
    /// True when the template waits for a SetNewPrevHash.
    public let isFuture: Bool
    /// Block version.
    public let version: UInt32
    /// Coinbase bytes before the extranonce (BIP141 fields stripped).
    public let coinbasePrefix: [UInt8]
    /// Coinbase bytes after the extranonce (BIP141 fields stripped).
    public let coinbaseSuffix: [UInt8]
    /// Merkle path of the coinbase, deepest first.
    public let merklePath: [U256]
    /// The full extranonce length the coinbase reserves.
    public let extranonceLength: Int
    /// True when the template's outputs carry a BIP141 witness commitment (the block's coinbase then needs the
    /// witness reserved value).
    public let commitsToWitnesses: Bool

    /// Builds the job of `template` paying `template.coinbaseTxValueRemaining` to `rewardScript`, tagged with
    /// `poolTag` and `minerTag`, reserving `extranonceLength` bytes.
    public init(
        id: UInt32, template: NewTemplate, rewardScript: [UInt8], poolTag: String, minerTag: String = "",
        extranonceLength: Int
    ) throws(BuildError) {
        let outputs: [TransactionOutput]
        do {
            outputs = try TransactionOutput.decodeList(template.coinbaseTxOutputs, count: Int(template.coinbaseTxOutputsCount))
        } catch {
            throw .malformedOutputs(error.description)
        }
        let tag = Array("Sv2/\(poolTag)/\(minerTag)/".utf8)
        let scriptSigLength = template.coinbasePrefix.count + 1 + tag.count + 1 + max(0, extranonceLength)
        guard scriptSigLength <= 100, tag.count <= 75, (0...75).contains(extranonceLength) else { throw .scriptSigTooLong(scriptSigLength) }
        var scriptSig = template.coinbasePrefix
        scriptSig += Script.pushData(tag)
        scriptSig.append(UInt8(extranonceLength))

        var prefix = [UInt8]()
        prefix.appendLittleEndian(template.coinbaseTxVersion)
        prefix.append(1)
        prefix.append(contentsOf: [UInt8](repeating: 0, count: 32))
        prefix.appendLittleEndian(UInt32.max)
        CompactSize.append(UInt64(scriptSigLength), to: &prefix)
        prefix.append(contentsOf: scriptSig)

        var suffix = [UInt8]()
        suffix.appendLittleEndian(template.coinbaseTxInputSequence)
        let allOutputs = [TransactionOutput(value: template.coinbaseTxValueRemaining, scriptPubKey: rewardScript)] + outputs
        CompactSize.append(UInt64(allOutputs.count), to: &suffix)
        for output in allOutputs { suffix.append(contentsOf: output.serialized) }
        suffix.appendLittleEndian(template.coinbaseTxLocktime)

        self.id = id
        self.templateID = template.templateID
        self.isFuture = template.futureTemplate
        self.version = template.version
        self.coinbasePrefix = prefix
        self.coinbaseSuffix = suffix
        self.merklePath = template.merklePath
        self.extranonceLength = extranonceLength
        self.commitsToWitnesses = outputs.contains { WitnessCommitment.commitment(inScript: $0.scriptPubKey) != nil }
    }

    /// The coinbase with `extranonce` (the full extranonce: prefix and rolled part), without witness: what the
    /// txid and the merkle root are computed over.
    public func coinbase(extranonce: [UInt8]) -> [UInt8] {
        coinbasePrefix + extranonce + coinbaseSuffix
    }

    /// The coinbase as the block carries it: with the BIP141 marker, flag and the 32-byte zero witness reserved
    /// value when the template commits to witnesses.
    public func blockCoinbase(extranonce: [UInt8]) -> [UInt8] {
        guard commitsToWitnesses, coinbasePrefix.count >= 4, coinbaseSuffix.count >= 4 else { return coinbase(extranonce: extranonce) }
        var bytes = Array(coinbasePrefix[..<4]) + [0x00, 0x01] + Array(coinbasePrefix[4...]) + extranonce
        bytes.append(contentsOf: coinbaseSuffix[..<(coinbaseSuffix.count - 4)])
        bytes.append(contentsOf: [0x01, 0x20] + WitnessCommitment.defaultReservedValue)
        bytes.append(contentsOf: coinbaseSuffix[(coinbaseSuffix.count - 4)...])
        return bytes
    }

    /// The merkle root of the block whose coinbase carries `extranonce`.
    public func merkleRoot(extranonce: [UInt8]) -> U256 {
        var scratch = [UInt8]()
        return merkleRoot(extranonce: extranonce, scratch: &scratch)
    }

    /// ``merkleRoot(extranonce:)`` assembling the coinbase in `scratch` (reused between calls: no allocation once
    /// it is large enough).
    public func merkleRoot<Extranonce: Collection<UInt8>>(extranonce: Extranonce, scratch: inout [UInt8]) -> U256 {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: coinbasePrefix)
        scratch.append(contentsOf: extranonce)
        scratch.append(contentsOf: coinbaseSuffix)
        var node = ShareHash.sha256d(scratch)
        for step in merklePath { node = ShareHash.sha256d(pair: node, step) }
        return node
    }

    /// NewExtendedMiningJob for `channelID` (an extended or a group channel); `minNtime` nil for a future job.
    public func extendedJob(channelID: UInt32, minNtime: UInt32?, versionRollingAllowed: Bool) -> NewExtendedMiningJob {
        NewExtendedMiningJob(
            channelID: channelID, jobID: id, minNtime: minNtime, version: version,
            versionRollingAllowed: versionRollingAllowed, merklePath: merklePath, coinbaseTxPrefix: coinbasePrefix,
            coinbaseTxSuffix: coinbaseSuffix)
    }
}

/// SHA256d of headers and merkle nodes without allocating, through the C implementation.
public enum ShareHash {
    /// SHA256d of `bytes` as a little-endian 256-bit integer (internal byte order).
    public static func sha256d(_ bytes: [UInt8]) -> U256 {
        bytes.withUnsafeBufferPointer { buffer in digest(buffer.baseAddress, buffer.count) }
    }

    /// SHA256d of `left || right`, a merkle tree step.
    public static func sha256d(pair left: U256, _ right: U256) -> U256 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 8) { words in
            words[0] = left.w0.littleEndian
            words[1] = left.w1.littleEndian
            words[2] = left.w2.littleEndian
            words[3] = left.w3.littleEndian
            words[4] = right.w0.littleEndian
            words[5] = right.w1.littleEndian
            words[6] = right.w2.littleEndian
            words[7] = right.w3.littleEndian
            return digest(UnsafeRawPointer(words.baseAddress).map { $0.assumingMemoryBound(to: UInt8.self) }, 64)
        }
    }

    /// SHA256d of the 80-byte header made of these fields: the share's hash.
    public static func header(
        version: UInt32, previousBlockHash: U256, merkleRoot: U256, time: UInt32, bits: UInt32, nonce: UInt32
    ) -> U256 {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 20) { words in
            words[0] = version.littleEndian
            store(previousBlockHash, into: words, at: 1)
            store(merkleRoot, into: words, at: 9)
            words[17] = time.littleEndian
            words[18] = bits.littleEndian
            words[19] = nonce.littleEndian
            return digest(UnsafeRawPointer(words.baseAddress).map { $0.assumingMemoryBound(to: UInt8.self) }, 80)
        }
    }

    private static func store(_ value: U256, into words: UnsafeMutableBufferPointer<UInt32>, at index: Int) {
        for (offset, limb) in [value.w0, value.w1, value.w2, value.w3].enumerated() {
            words[index + 2 * offset] = UInt32(truncatingIfNeeded: limb).littleEndian
            words[index + 2 * offset + 1] = UInt32(truncatingIfNeeded: limb >> 32).littleEndian
        }
    }

    private static func digest(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> U256 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4) { out in
            out.withMemoryRebound(to: UInt8.self) { sv2_sha256d(bytes, count, $0.baseAddress) }
            return U256(w0: UInt64(littleEndian: out[0]), w1: UInt64(littleEndian: out[1]),
                        w2: UInt64(littleEndian: out[2]), w3: UInt64(littleEndian: out[3]))
        }
    }
}
