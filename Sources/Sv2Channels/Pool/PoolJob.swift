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
/// coinbase_tx_value_remaining, the template's outputs (witness commitment) and lock time. ``coinbase`` is the txid
/// form (no BIP141 marker, flag or witness) around the whole extranonce; the block gets the witness (one 32-byte zero
/// reserved value) back when the template commits to witnesses.
///
/// Immutable and shared by reference between the pool's snapshots and its sessions (a share's lookup costs one
/// reference, not a copy of the coinbase). Equal when the values are.
public final class PoolJob: Sendable, Hashable {
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
    /// What the template leaves for the coinbase's outputs (subsidy and fees; 0 for a job without a template).
    public let reward: UInt64
    /// True when the template waits for a SetNewPrevHash.
    public let isFuture: Bool
    /// Block version.
    public let version: UInt32
    /// The coinbase (BIP141 fields stripped) around the full extranonce, with its merkle path.
    public let coinbase: CoinbaseTemplate
    /// True when the template's outputs carry a BIP141 witness commitment (the block's coinbase then needs the
    /// witness reserved value).
    public let commitsToWitnesses: Bool
    /// False when the job's source forbids rolling the version bits (a proxy's upstream); the pool's own setting
    /// applies on top.
    public let versionRollingAllowed: Bool

    /// Builds the job of `template` paying `template.coinbaseTxValueRemaining` to `rewardScript`, tagged with
    /// `poolTag` and `minerTag`, reserving `extranonceLength` bytes; a future job when `isFuture` says so (by default
    /// when the template is).
    public convenience init(
        id: UInt32, template: NewTemplate, rewardScript: [UInt8], poolTag: String, minerTag: String = "",
        extranonceLength: Int, isFuture: Bool? = nil
    ) throws(BuildError) {
        let tag = Array("Sv2/\(poolTag)/\(minerTag)/".utf8)
        guard tag.count <= 75, (0...75).contains(extranonceLength) else {
            throw .scriptSigTooLong(template.coinbasePrefix.count + 1 + tag.count + 1 + max(0, extranonceLength))
        }
        try self.init(
            id: id, template: template, scriptSig: template.coinbasePrefix + Script.pushData(tag) + [UInt8(extranonceLength)],
            payouts: [TransactionOutput(value: template.coinbaseTxValueRemaining, scriptPubKey: rewardScript)], extranonceLength: extranonceLength,
            isFuture: isFuture)
    }

    /// Builds the job of `template` with a coinbase whose scriptSig is `scriptSig` then the extranonce
    /// (`extranonceLength` bytes) and whose outputs are `payouts` then the template's own; a future job when
    /// `isFuture` says so (by default when the template is).
    public init(
        id: UInt32, template: NewTemplate, scriptSig: [UInt8], payouts: [TransactionOutput], extranonceLength: Int, isFuture: Bool? = nil
    ) throws(BuildError) {
        let outputs: [TransactionOutput]
        do {
            outputs = try TransactionOutput.decodeList(template.coinbaseTxOutputs, count: Int(template.coinbaseTxOutputsCount))
        } catch {
            throw .malformedOutputs(error.description)
        }
        let scriptSigLength = scriptSig.count + max(0, extranonceLength)
        guard scriptSigLength <= 100, extranonceLength >= 0 else { throw .scriptSigTooLong(scriptSigLength) }

        var prefix = [UInt8]()
        prefix.appendLittleEndian(template.coinbaseTxVersion)
        prefix.append(1)
        prefix.append(contentsOf: [UInt8](repeating: 0, count: 32))
        prefix.appendLittleEndian(UInt32.max)
        CompactSize.append(UInt64(scriptSigLength), to: &prefix)
        prefix.append(contentsOf: scriptSig)

        var suffix = [UInt8]()
        suffix.appendLittleEndian(template.coinbaseTxInputSequence)
        let allOutputs = payouts + outputs
        CompactSize.append(UInt64(allOutputs.count), to: &suffix)
        for output in allOutputs { suffix.append(contentsOf: output.serialized) }
        suffix.appendLittleEndian(template.coinbaseTxLocktime)

        self.id = id
        self.reward = template.coinbaseTxValueRemaining
        self.templateID = template.templateID
        self.isFuture = isFuture ?? template.futureTemplate
        self.version = template.version
        self.coinbase = CoinbaseTemplate(prefix: prefix, extranonceSize: extranonceLength, suffix: suffix, merklePath: template.merklePath)
        self.commitsToWitnesses = outputs.contains { WitnessCommitment.commitment(inScript: $0.scriptPubKey) != nil }
        self.versionRollingAllowed = true
    }

    /// A job of a proxy from its upstream's work: `coinbase` around the part of the extranonce the proxy's devices
    /// fill (no template; the pool upstream builds the block), rolling the version only where the upstream allows.
    public init(id: UInt32, version: UInt32, coinbase: CoinbaseTemplate, isFuture: Bool, versionRollingAllowed: Bool) {
        self.id = id
        self.reward = 0
        self.templateID = 0
        self.isFuture = isFuture
        self.version = version
        self.coinbase = coinbase
        self.commitsToWitnesses = false
        self.versionRollingAllowed = versionRollingAllowed
    }

    /// The coinbase as the block carries it: with the BIP141 marker, flag and the 32-byte zero witness reserved
    /// value when the template commits to witnesses.
    public func blockCoinbase(extranonce: [UInt8]) -> [UInt8] {
        let (prefix, suffix) = blockCoinbaseSplit(held: 0)
        return prefix + extranonce + suffix
    }

    /// The coinbase as the block carries it (``blockCoinbase(extranonce:)``) around an extranonce that begins `held`
    /// bytes before the end of ``coinbase``'s prefix: the bytes before it and those after the whole extranonce. A job
    /// declarator client declares its job so (spec 6.4.4), the pool channel's part counted in the extranonce.
    public func blockCoinbaseSplit(held: Int) -> (prefix: [UInt8], suffix: [UInt8]) {
        let prefix = Array(coinbase.prefix.dropLast(max(0, held))), suffix = coinbase.suffix
        guard commitsToWitnesses, prefix.count >= 4, suffix.count >= 4 else { return (prefix, suffix) }
        return (
            Array(prefix[..<4]) + [0x00, 0x01] + Array(prefix[4...]),
            Array(suffix[..<(suffix.count - 4)]) + [0x01, 0x20] + WitnessCommitment.defaultReservedValue + Array(suffix[(suffix.count - 4)...]))
    }

    /// NewExtendedMiningJob for `channelID` (an extended or a group channel); `minNtime` nil for a future job; version
    /// rolling as `versionRollingAllowed` says, where the job itself allows it.
    public func extendedJob(channelID: UInt32, minNtime: UInt32?, versionRollingAllowed: Bool) -> NewExtendedMiningJob {
        NewExtendedMiningJob(
            channelID: channelID, jobID: id, minNtime: minNtime, version: version,
            versionRollingAllowed: versionRollingAllowed && self.versionRollingAllowed, merklePath: coinbase.merklePath, coinbaseTxPrefix: coinbase.prefix,
            coinbaseTxSuffix: coinbase.suffix)
    }

    /// Jobs are equal when their values are.
    public static func == (lhs: PoolJob, rhs: PoolJob) -> Bool {
        lhs === rhs || (lhs.id == rhs.id && lhs.templateID == rhs.templateID && lhs.isFuture == rhs.isFuture
            && lhs.version == rhs.version && lhs.coinbase == rhs.coinbase && lhs.commitsToWitnesses == rhs.commitsToWitnesses
            && lhs.versionRollingAllowed == rhs.versionRollingAllowed)
    }

    /// Hashes the values.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(templateID)
        hasher.combine(isFuture)
        hasher.combine(version)
        hasher.combine(coinbase)
        hasher.combine(commitsToWitnesses)
        hasher.combine(versionRollingAllowed)
    }
}
