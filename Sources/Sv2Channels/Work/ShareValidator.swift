import Bitcoin
import Sv2Binary

/// The one share check of every role: the pool on its channels, the translator on its Sv1 miners' shares, the miner
/// on what its engine found. Given what the job fixes and the header fields the miner chose, it checks the version
/// bits and the time, hashes the header (on the C path, SHA-NI when present) and compares the hash with the
/// network target and the share target. What a role adds around it (its job lookup, duplicate sets, error strings)
/// stays the role's.
public enum ShareValidator {
    /// What the job and the chain tip fix for a share's header.
    public struct Rules: Hashable, Sendable {
        /// The job's version.
        public var version: UInt32
        /// The version bits the miner may change (0: none).
        public var versionRollingMask: UInt32
        /// The previous block hash, internal byte order.
        public var previousBlockHash: U256
        /// nBits.
        public var bits: UInt32
        /// The target nBits stands for: a hash at or below it is a block.
        public var networkTarget: U256
        /// The earliest header time allowed (the job's or the tip's min_ntime).
        public var earliestTime: UInt32
        /// The latest header time allowed (nil: no bound).
        public var latestTime: UInt32?

        /// Rules from their parts; the network target is computed from `bits` unless given.
        public init(
            version: UInt32, versionRollingMask: UInt32, previousBlockHash: U256, bits: UInt32, networkTarget: U256? = nil,
            earliestTime: UInt32, latestTime: UInt32? = nil
        ) {
            self.version = version
            self.versionRollingMask = versionRollingMask
            self.previousBlockHash = previousBlockHash
            self.bits = bits
            self.networkTarget = networkTarget ?? (try? CompactTarget(bits: bits).target()) ?? .zero
            self.earliestTime = earliestTime
            self.latestTime = latestTime
        }

        /// What is wrong with a header of `version` and `time` under these rules, nil when nothing.
        public func violation(version: UInt32, time: UInt32) -> Violation? {
            if (version ^ self.version) & ~versionRollingMask != 0 { return .versionBits }
            if time < earliestTime { return .timeTooEarly }
            if let latestTime, time > latestTime { return .timeTooLate }
            return nil
        }
    }

    /// Why a share's header breaks the rules.
    public enum Violation: Error, Hashable, Sendable, CustomStringConvertible {
        /// Version bits changed outside the rolling mask.
        case versionBits
        /// The time is before the earliest allowed.
        case timeTooEarly
        /// The time is after the latest allowed.
        case timeTooLate

        /// A sentence for the log.
        public var description: String {
            switch self {
            case .versionBits: return "version bits changed outside the allowed mask"
            case .timeTooEarly: return "ntime before the job's min_ntime"
            case .timeTooLate: return "ntime too far in the future"
            }
        }
    }

    /// Checks a header made of `rules`, `merkleRoot` and the miner's `version`, `time` and `nonce` against `target`.
    public static func validate(
        _ rules: Rules, merkleRoot: U256, version: UInt32, time: UInt32, nonce: UInt32, target: U256
    ) -> Result<ShareAssessment, Violation> {
        if let violation = rules.violation(version: version, time: time) { return .failure(violation) }
        let hash = ShareHash.header(
            version: version, previousBlockHash: rules.previousBlockHash, merkleRoot: merkleRoot, time: time, bits: rules.bits, nonce: nonce)
        return .success(ShareAssessment(hash: hash, isBlock: hash <= rules.networkTarget, meetsTarget: hash <= target))
    }
}

/// What a valid share's header is worth.
public struct ShareAssessment: Hashable, Sendable {
    /// SHA256d of the share's header, as a little-endian number.
    public var hash: U256
    /// The hash meets the header's nBits: a block.
    public var isBlock: Bool
    /// The hash meets the share target.
    public var meetsTarget: Bool

    /// An assessment from its parts.
    public init(hash: U256, isBlock: Bool, meetsTarget: Bool) {
        self.hash = hash
        self.isBlock = isBlock
        self.meetsTarget = meetsTarget
    }

    /// Worth sending or accepting: a block (even when a newer target put it above the share target) or a share.
    public var isSubmittable: Bool { isBlock || meetsTarget }
}
