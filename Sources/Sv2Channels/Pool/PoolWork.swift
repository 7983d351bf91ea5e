import Bitcoin
import Sv2Binary
import Sv2Messages

/// The pool's jobs as every session reads them: an immutable snapshot, published anew at each change and shared by
/// reference, so that a new connection starts from the current one instead of having events replayed into it.
public final class PoolWork: Sendable {
    /// The chain tip mined on, nil before the template provider sent one.
    public let tip: PoolPrevHash?
    /// The jobs shares may be submitted for: the job the tip activated and the later jobs on it.
    public let jobs: [UInt32: PoolJob]
    /// The job new channels start on: the newest of ``jobs``.
    public let latest: PoolJob?
    /// Jobs of earlier tips (the latest ``staleJobLimit``): shares for them are stale rather than unknown.
    public let staleJobIDs: Set<UInt32>
    /// Counts the snapshots a board published: a later snapshot has a larger number.
    public let generation: UInt64
    /// A proxy's upstream channel target: shares at or below it are also forwarded upstream (nil in a pool).
    public let upstreamTarget: U256?

    /// A snapshot from its parts.
    public init(
        tip: PoolPrevHash?, jobs: [UInt32: PoolJob], latest: PoolJob?, staleJobIDs: Set<UInt32>, generation: UInt64, upstreamTarget: U256? = nil
    ) {
        self.generation = generation
        self.upstreamTarget = upstreamTarget
        self.tip = tip
        self.jobs = jobs
        self.latest = latest
        self.staleJobIDs = staleJobIDs
    }

    /// How many job ids of earlier tips are remembered as stale: on regtest a tip may last milliseconds, and a share
    /// in flight for an older one is still stale rather than unknown.
    public static let staleJobLimit = 256

    /// The stale job ids once a new tip activates job `active`: these, this snapshot's jobs and `others`, the latest
    /// ``staleJobLimit`` of them.
    public func staleJobIDs(afterTipActivating active: UInt32, also others: [UInt32] = []) -> Set<UInt32> {
        let stale = staleJobIDs.union(jobs.keys).union(others).subtracting([active])
        return stale.count > Self.staleJobLimit ? Set(stale.sorted().suffix(Self.staleJobLimit)) : stale
    }

    /// No template yet.
    public static let empty = PoolWork(tip: nil, jobs: [:], latest: nil, staleJobIDs: [], generation: 0)
}

/// What changed between two snapshots, for sessions to tell their channels.
public enum PoolWorkChange: Hashable, Sendable {
    /// A new job: a future one, or one on the current tip.
    case job(PoolJob)
    /// A new tip, activating the future job it names.
    case tip(PoolPrevHash)
    /// Only the upstream target changed (a proxy's).
    case upstreamTarget
}

/// The pool's job state (sans-IO): turns the template provider's NewTemplate and SetNewPrevHash into jobs numbered
/// pool-wide and publishes a new ``PoolWork`` for each change.
public struct PoolJobBoard: Sendable {
    /// Why a template provider message changed nothing.
    public enum Ignored: Error, Hashable, Sendable, CustomStringConvertible {
        /// The template could not become a job.
        case unusableTemplate(templateID: UInt64, PoolJob.BuildError)
        /// A job on the current tip arrived before any tip.
        case noTipYet(templateID: UInt64)
        /// SetNewPrevHash named a template the pool does not know.
        case unknownTemplate(UInt64)

        /// A sentence for the log.
        public var description: String {
            switch self {
            case let .unusableTemplate(id, error): return "template \(id) cannot be mined: \(error)"
            case let .noTipYet(id): return "template \(id) is for the current tip, but no SetNewPrevHash came yet: ignored"
            case let .unknownTemplate(id): return "SetNewPrevHash for unknown template \(id): ignored"
            }
        }
    }

    /// Future templates kept waiting for their prevhash.
    static let futureLimit = 64

    private let rewardScript: [UInt8]
    private let poolTag: String
    private let extranonceLength: Int
    private var nextJobID: UInt32 = 1
    private var futureByTemplate = [UInt64: PoolJob]()
    /// The snapshot sessions read now.
    public private(set) var work = PoolWork.empty

    /// A board making jobs that pay `rewardScript`, tagged `Sv2/<poolTag>//`, reserving `extranonceLength` bytes.
    public init(rewardScript: [UInt8], poolTag: String, extranonceLength: Int) {
        self.rewardScript = rewardScript
        self.poolTag = poolTag
        self.extranonceLength = extranonceLength
    }

    /// A new template: a future job (kept until its prevhash) or a job on the current tip.
    public mutating func apply(_ template: NewTemplate) throws(Ignored) -> PoolWorkChange {
        let job: PoolJob
        do {
            job = try PoolJob(id: nextJobID, template: template, rewardScript: rewardScript, poolTag: poolTag, extranonceLength: extranonceLength)
        } catch {
            throw .unusableTemplate(templateID: template.templateID, error)
        }
        if job.isFuture {
            nextJobID = Self.next(nextJobID)
            futureByTemplate[template.templateID] = job
            if futureByTemplate.count > Self.futureLimit, let oldest = futureByTemplate.min(by: { $0.value.id < $1.value.id })?.key {
                futureByTemplate[oldest] = nil
            }
        } else {
            guard work.tip != nil else { throw .noTipYet(templateID: template.templateID) }
            nextJobID = Self.next(nextJobID)
            var jobs = work.jobs
            jobs[job.id] = job
            work = PoolWork(tip: work.tip, jobs: jobs, latest: job, staleJobIDs: work.staleJobIDs, generation: work.generation + 1)
        }
        return .job(job)
    }

    /// A new tip: the future job of its template becomes the only valid job; the jobs of earlier tips are stale.
    public mutating func apply(_ message: TemplateSetNewPrevHash) throws(Ignored) -> PoolWorkChange {
        guard let job = futureByTemplate[message.templateID] else { throw .unknownTemplate(message.templateID) }
        let tip = PoolPrevHash(
            jobID: job.id, prevHash: message.prevHash, minNtime: message.headerTimestamp, nBits: message.nBits, networkTarget: message.target)
        let stale = work.staleJobIDs(afterTipActivating: job.id, also: futureByTemplate.values.map(\.id))
        futureByTemplate[message.templateID] = nil
        work = PoolWork(tip: tip, jobs: [job.id: job], latest: job, staleJobIDs: stale, generation: work.generation + 1)
        return .tip(tip)
    }

    /// The next job id; ids stay below 2^31, the top bit marking custom jobs (``PoolSession/customJobBit``).
    private static func next(_ id: UInt32) -> UInt32 { id >= 0x7fff_ffff ? 1 : id + 1 }
}
