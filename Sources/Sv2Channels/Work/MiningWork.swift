import Bitcoin
import Sv2Binary

/// One unit of work for a hashing engine, whatever protocol delivered it: the block header's fields, how its merkle
/// root is formed, the share target, and which header parts the engine may roll.
///
/// The engine owns the nonce; it may change the bits of `version` in `versionRollingMask`, fill the extranonce of a
/// ``MerkleRootSource/coinbase(_:)`` root, and raise `time` by at most the seconds elapsed since it got the work
/// (spec 5.3.11). Every header it finds at or below ``searchTarget`` (the share target, or the network target when
/// that is easier) comes back as a ``FoundShare``.
public struct MiningWork: Hashable, Sendable {
    /// BIP320's general purpose version bits: what this project's miners roll (a subset of BIP323's, which the spec
    /// lets them roll), and the mask Stratum V1's mining.configure offers.
    public static let bip320VersionMask: UInt32 = 0x1fff_e000
    /// BIP323's general purpose version bits (5 to 28), which the spec lets a downstream node change freely (5.3.15,
    /// 5.3.16): what a pool accepts. Miners here roll the BIP320 bits, a subset.
    public static let bip323VersionMask: UInt32 = 0x1fff_ffe0

    /// The producer's tag, echoed in every ``FoundShare`` so that it can map a share back to its job.
    public var id: UInt64
    /// The header version before rolling.
    public var version: UInt32
    /// The version bits the engine may change (0: the version is fixed).
    public var versionRollingMask: UInt32
    /// The previous block hash, internal byte order.
    public var previousBlockHash: U256
    /// The merkle root, or the coinbase parts it is computed from.
    public var merkleRoot: MerkleRootSource
    /// The first nTime to hash with.
    public var time: UInt32
    /// nBits.
    public var bits: UInt32
    /// Shares are headers whose SHA256d, as a little-endian number, is at most this.
    public var target: U256

    /// Creates work from its parts.
    public init(
        id: UInt64, version: UInt32, versionRollingMask: UInt32, previousBlockHash: U256, merkleRoot: MerkleRootSource,
        time: UInt32, bits: UInt32, target: U256
    ) {
        self.id = id
        self.version = version
        self.versionRollingMask = versionRollingMask
        self.previousBlockHash = previousBlockHash
        self.merkleRoot = merkleRoot
        self.time = time
        self.bits = bits
        self.target = target
    }

    /// What an engine searches for: headers at or below ``target`` or the network target of ``bits``, whichever is
    /// easier, so that a hash solving a block is never dropped whatever the share target.
    public var searchTarget: U256 {
        max(target, networkTarget)
    }

    /// The target of ``bits`` (zero when they do not encode one).
    public var networkTarget: U256 {
        (try? CompactTarget(bits: bits).target()) ?? .zero
    }

    /// True when `other` describes the same headers and differs at most in its target: an engine keeps its place
    /// in the search instead of starting over.
    public func hasSameSearchSpace(as other: MiningWork) -> Bool {
        var retargeted = other
        retargeted.target = target
        return retargeted == self
    }

    /// The header a share claims to have found, or nil when the share does not fit this work: a different work id,
    /// version bits outside the rolling mask, an extranonce of the wrong length, or a time before `time`.
    public func header(for share: FoundShare) -> BlockHeader? {
        guard share.workID == id, shareRules.violation(version: share.version, time: share.time) == nil,
              let root = merkleRoot.root(extranonce: share.extranonce)
        else { return nil }
        return BlockHeader(
            version: share.version, previousBlockHash: previousBlockHash, merkleRoot: root, time: share.time, bits: bits,
            nonce: share.nonce)
    }
}

/// Where a work's merkle root comes from.
public enum MerkleRootSource: Hashable, Sendable {
    /// A root fixed by the server (standard jobs, header-only mining).
    case fixed(U256)
    /// A coinbase with room for an extranonce the miner rolls (extended jobs).
    case coinbase(CoinbaseTemplate)

    /// Bytes of extranonce the miner fills (0 for a fixed root).
    public var extranonceSize: Int {
        switch self {
        case .fixed: return 0
        case let .coinbase(template): return template.extranonceSize
        }
    }

    /// The root with `extranonce` in the coinbase; nil when its length is not ``extranonceSize``.
    public func root(extranonce: [UInt8]) -> U256? {
        switch self {
        case let .fixed(root):
            return extranonce.isEmpty ? root : nil
        case let .coinbase(template):
            return extranonce.count == template.extranonceSize ? template.merkleRoot(extranonce: extranonce) : nil
        }
    }
}

/// A header an engine found at or below its work's target: what it chose for the parts it may roll.
public struct FoundShare: Hashable, Sendable {
    /// The ``MiningWork/id`` of the work.
    public var workID: UInt64
    /// The nonce.
    public var nonce: UInt32
    /// The nTime used.
    public var time: UInt32
    /// The full version used (rolled bits included).
    public var version: UInt32
    /// The extranonce used (empty for a fixed merkle root).
    public var extranonce: [UInt8]

    /// Creates a share from its parts.
    public init(workID: UInt64, nonce: UInt32, time: UInt32, version: UInt32, extranonce: [UInt8]) {
        self.workID = workID
        self.nonce = nonce
        self.time = time
        self.version = version
        self.extranonce = extranonce
    }
}

extension MiningWork {
    /// The rules a share of this work is checked against (``ShareValidator``): the version within the rolling mask,
    /// the time from ``time`` on.
    public var shareRules: ShareValidator.Rules {
        ShareValidator.Rules(
            version: version, versionRollingMask: versionRollingMask, previousBlockHash: previousBlockHash, bits: bits, earliestTime: time)
    }

    /// Checks `share` with the ``ShareValidator`` against nBits and `target` (the target now in force, which may be
    /// harder than the one the engine hashed against); nil when the share does not fit this work: another work's
    /// id, an extranonce of the wrong length, or header fields outside the rules (an engine error).
    public func assess(_ share: FoundShare, target: U256) -> ShareAssessment? {
        guard share.workID == id, let root = merkleRoot.root(extranonce: share.extranonce) else { return nil }
        return try? ShareValidator.validate(
            shareRules, merkleRoot: root, version: share.version, time: share.time, nonce: share.nonce, target: target
        ).get()
    }
}
