import Bitcoin
import Sv2Binary

/// The jobs of the proxy's aggregate mode (sans-IO): the work of its one upstream extended channel, as the miner
/// client session delivers it, becomes ``PoolWork`` snapshots that the devices' ``PoolSession``s serve, so that the
/// devices get their own channels, targets and share checks inside the upstream channel's extranonce.
///
/// Devices fill ``extranonceSize`` bytes; when the upstream channel leaves more, the rest (just after its prefix) is
/// zeros, part of every job's coinbase prefix and put back in front of a forwarded share's extranonce. Job ids are the
/// proxy's, each mapped to the work it came from.
public struct AggregateJobBoard: Sendable {
    /// Why upstream work cannot be served to devices.
    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        /// The upstream channel leaves fewer extranonce bytes than the devices need.
        case extranonceTooSmall(available: Int, needed: Int)
        /// The upstream sent standard jobs (a fixed merkle root): nothing to divide among devices.
        case fixedMerkleRoot
        /// The work's nBits do not decode to a target.
        case badBits(UInt32)

        /// A sentence for the log.
        public var description: String {
            switch self {
            case let .extranonceTooSmall(available, needed):
                return "the upstream channel leaves \(available) extranonce bytes; the devices need \(needed)"
            case .fixedMerkleRoot: return "the upstream sent a standard job: an extended channel is needed"
            case let .badBits(bits): return "nBits 0x\(String(bits, radix: 16)) is not a target"
            }
        }
    }

    /// Jobs kept on one tip (older ones are dropped, shares for them become unknown).
    static let jobLimit = 32

    /// Bytes of extranonce the devices' channels share.
    public let extranonceSize: Int
    /// The snapshot device sessions read now.
    public private(set) var work = PoolWork.empty
    private var origins = [UInt32: (workID: UInt64, padding: Int)]()
    private var nextJobID: UInt32 = 1
    private var last: MiningWork?

    /// A board for devices that fill `extranonceSize` bytes.
    public init(extranonceSize: Int) {
        self.extranonceSize = extranonceSize
    }

    /// New work of the upstream channel: the changes for the device sessions, in order (a new tip is a future job
    /// then the tip that activates it; new work on the tip is a job; a new target alone changes only the snapshot).
    public mutating func apply(_ next: MiningWork) throws(Refusal) -> [PoolWorkChange] {
        guard case let .coinbase(template) = next.merkleRoot else { throw .fixedMerkleRoot }
        guard template.extranonceSize >= extranonceSize else {
            throw .extranonceTooSmall(available: template.extranonceSize, needed: extranonceSize)
        }
        if let last, next.hasSameSearchSpace(as: last), let latest = work.latest {
            self.last = next
            origins[latest.id]?.workID = next.id
            work = PoolWork(
                tip: work.tip, jobs: work.jobs, latest: latest, staleJobIDs: work.staleJobIDs, generation: work.generation + 1,
                upstreamTarget: next.target)
            return [.upstreamTarget]
        }
        let networkTarget: U256
        do {
            networkTarget = try CompactTarget(bits: next.bits).target()
        } catch {
            throw .badBits(next.bits)
        }
        let padding = template.extranonceSize - extranonceSize
        let coinbase = CoinbaseTemplate(
            prefix: template.prefix + [UInt8](repeating: 0, count: padding), extranonceSize: extranonceSize, suffix: template.suffix,
            merklePath: template.merklePath)
        let newTip = last?.previousBlockHash != next.previousBlockHash
        let id = nextJobID
        nextJobID = nextJobID == UInt32.max ? 1 : nextJobID + 1
        last = next
        let job = PoolJob(id: id, version: next.version, coinbase: coinbase, isFuture: newTip, versionRollingAllowed: next.versionRollingMask != 0)
        if newTip {
            let tip = PoolPrevHash(jobID: id, prevHash: next.previousBlockHash, minNtime: next.time, nBits: next.bits, networkTarget: networkTarget)
            origins = [id: (next.id, padding)]
            work = PoolWork(
                tip: tip, jobs: [id: job], latest: job, staleJobIDs: work.staleJobIDs(afterTipActivating: id), generation: work.generation + 1,
                upstreamTarget: next.target)
            return [.job(job), .tip(tip)]
        }
        var jobs = work.jobs
        jobs[id] = job
        origins[id] = (next.id, padding)
        if jobs.count > Self.jobLimit, let oldest = jobs.keys.min(by: { Self.age($0, newest: id) > Self.age($1, newest: id) }) {
            jobs[oldest] = nil
            origins[oldest] = nil
        }
        work = PoolWork(tip: work.tip, jobs: jobs, latest: job, staleJobIDs: work.staleJobIDs, generation: work.generation + 1, upstreamTarget: next.target)
        return [.job(job)]
    }

    /// The upstream connection ended: its jobs can no longer be forwarded, so they become stale (devices' shares for
    /// them are refused rather than acknowledged and lost), and the next work starts a new tip (clean jobs), whatever
    /// its prevhash, since the next connection's session knows nothing of this one's work. Returns true when the
    /// snapshot changed (the device sessions must hear of it, as ``PoolWorkChange/upstreamTarget``).
    public mutating func upstreamLost() -> Bool {
        last = nil
        guard !work.jobs.isEmpty else { return false }
        origins.removeAll()
        work = PoolWork(
            tip: work.tip, jobs: [:], latest: nil, staleJobIDs: work.staleJobIDs.union(work.jobs.keys), generation: work.generation + 1,
            upstreamTarget: nil)
        return true
    }

    /// The upstream work's share for a device's `share`, or nil when its job is no longer known.
    public func upstreamShare(_ share: ForwardedShare) -> FoundShare? {
        guard let origin = origins[share.jobID] else { return nil }
        return FoundShare(
            workID: origin.workID, nonce: share.nonce, time: share.ntime, version: share.version,
            extranonce: [UInt8](repeating: 0, count: origin.padding) + share.extranonce)
    }

    /// How many ids before `newest` `id` was given (ids wrap around).
    private static func age(_ id: UInt32, newest: UInt32) -> UInt32 { newest &- id }
}
