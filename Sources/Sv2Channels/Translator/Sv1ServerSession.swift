import Bitcoin
import Foundation
import Sv1
import Sv2Binary
import Sv2Formats
import Sv2Monitoring
import Sv2Sessions

/// Settings of the translator's Sv1 side shared by every downstream connection: one immutable instance per
/// translator that every miner's session references (a session carries no copy of it).
public final class Sv1ServerConfiguration: Sendable {
    /// Bytes of extranonce2 each miner rolls (default 4; cgminer accepts at most 8).
    public let extranonce2Size: Int
    /// Shares per minute each miner's difficulty aims at.
    public let sharesPerMinute: Double
    /// The difficulty a miner starts at (before suggest_difficulty and vardiff).
    public let initialDifficulty: Double
    /// Lowest difficulty vardiff or a miner's suggestion may set.
    public let minimumDifficulty: Double
    /// Highest difficulty vardiff or a miner's suggestion may set.
    public let maximumDifficulty: Double
    /// Round every difficulty down to a power of two (for old firmware).
    public let powerOfTwoDifficulty: Bool
    /// Version bits miners may roll when they ask (BIP310), at most BIP320's 0x1fffe000.
    public let versionRollingMask: UInt32
    /// Vardiff pace and bounds, in hashes per second.
    public let vardiff: VardiffConfiguration

    /// Settings; nil when the numbers are out of range (bounds reversed, non-positive difficulties or rate).
    public init?(
        extranonce2Size: Int = 4, sharesPerMinute: Double = 6, initialDifficulty: Double = 1, minimumDifficulty: Double = 1e-8,
        maximumDifficulty: Double = 1e15, powerOfTwoDifficulty: Bool = false, versionRollingMask: UInt32 = 0x1fff_e000
    ) {
        guard (1...16).contains(extranonce2Size), minimumDifficulty > 0, maximumDifficulty >= minimumDifficulty,
              initialDifficulty > 0, initialDifficulty.isFinite, maximumDifficulty.isFinite,
              let vardiff = VardiffConfiguration(
                  sharesPerMinute: sharesPerMinute, minimumHashrate: max(1e-6, Self.hashrate(minimumDifficulty, sharesPerMinute)),
                  maximumHashrate: max(1e-6, Self.hashrate(maximumDifficulty, sharesPerMinute)), silenceSeconds: Self.silenceSeconds)
        else { return nil }
        self.extranonce2Size = extranonce2Size
        self.sharesPerMinute = sharesPerMinute
        self.initialDifficulty = initialDifficulty
        self.minimumDifficulty = minimumDifficulty
        self.maximumDifficulty = maximumDifficulty
        self.powerOfTwoDifficulty = powerOfTwoDifficulty
        self.versionRollingMask = versionRollingMask & MiningWork.bip320VersionMask
        self.vardiff = vardiff
    }

    /// How long a miner may find no share before vardiff lowers its difficulty (when at least one was expected).
    public static let silenceSeconds = 15.0

    /// The hashrate that finds `sharesPerMinute` shares a minute at `difficulty` (vardiff works in hashrates).
    static func hashrate(_ difficulty: Double, _ sharesPerMinute: Double) -> Double {
        MiningTarget.hashrate(target: MiningTarget.target(difficulty: difficulty), sharesPerMinute: sharesPerMinute)
    }

    /// `difficulty` within the bounds, rounded down to a power of two when configured.
    func clamp(_ difficulty: Double) -> Double {
        var value = min(max(difficulty.isFinite ? difficulty : minimumDifficulty, minimumDifficulty), maximumDifficulty)
        if powerOfTwoDifficulty {
            value = max(minimumDifficulty, pow(2, log2(value).rounded(.down)))
        }
        return value
    }
}

/// One upstream work as the Sv1 side sees it: the mining.notify values and how a miner's extranonce maps back.
///
/// Aggregated layout of the upstream channel's rolled extranonce (its `extranonce_size` bytes): zero padding, then
/// the miner's extranonce1 (unique per Sv1 connection), then the miner's extranonce2. coinbase1 = coinbase_tx_prefix
/// + the channel's extranonce_prefix + the padding, so Sv1 miners see an ordinary coinb1 || ex1 || ex2 || coinb2.
///
/// Immutable and shared by reference: every miner's session keeps the jobs it may get shares for, so a job costs each
/// of them one reference, not a copy of its arrays. Equal when the values are.
public final class TranslatorJob: Hashable, Sendable {
    /// What mining.notify carries.
    public let notify: Sv1Job
    /// The upstream work.
    public let work: MiningWork
    /// Zero bytes between the channel's prefix and extranonce1.
    public let padding: Int
    /// The mining.notify line of ``notify`` as every miner gets it (compact JSON and the newline): encoded once per
    /// job, so that sending a job to thousands of miners costs no JSON encoding per miner.
    public let notifyLine: [UInt8]

    /// The job for `work` under `jobID`; nil when the work has no coinbase to roll or too few extranonce bytes.
    public convenience init?(work: MiningWork, jobID: String, cleanJobs: Bool, extranonce1Size: Int, extranonce2Size: Int, time: UInt32? = nil) {
        guard case let .coinbase(template) = work.merkleRoot, template.extranonceSize >= extranonce1Size + extranonce2Size else { return nil }
        let padding = template.extranonceSize - extranonce1Size - extranonce2Size
        self.init(
            notify: Sv1Job(
                jobID: jobID, prevHash: work.previousBlockHash, coinbase1: template.prefix + [UInt8](repeating: 0, count: padding),
                coinbase2: template.suffix, merkleBranch: template.merklePath, version: work.version, nBits: work.bits,
                nTime: max(work.time, time ?? 0), cleanJobs: cleanJobs),
            work: work, padding: padding)
    }

    private init(notify: Sv1Job, work: MiningWork, padding: Int) {
        self.notify = notify
        self.work = work
        self.padding = padding
        notifyLine = Sv1Codec.encode(.notification(method: Sv1Method.notify, params: notify.params))
    }

    /// This job with clean_jobs set (itself when it is set already), for a miner that starts on it.
    public var cleaned: TranslatorJob {
        guard !notify.cleanJobs else { return self }
        var notify = notify
        notify.cleanJobs = true
        return TranslatorJob(notify: notify, work: work, padding: padding)
    }

    /// Jobs are equal when their values are.
    public static func == (lhs: TranslatorJob, rhs: TranslatorJob) -> Bool {
        lhs === rhs || (lhs.notify == rhs.notify && lhs.work == rhs.work && lhs.padding == rhs.padding)
    }

    /// Hashes the values (the line follows from them).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(notify)
        hasher.combine(work)
        hasher.combine(padding)
    }
}

/// The Sv1 server side of one translator connection (a mining device speaking Stratum V1) as a
/// ``ConnectionSession``: JSON-RPC messages in, actions out, time passed in.
///
/// Answers mining.configure (BIP310 version rolling within the translator's mask, minimum-difficulty),
/// mining.subscribe (this connection's extranonce1 and extranonce2 size), mining.authorize (any user; the name is
/// kept), mining.suggest_difficulty (within the bounds), mining.extranonce.subscribe and mining.submit; unknown
/// methods get a JSON-RPC error, never a disconnect. A share is checked against the miner's own difficulty (error 23
/// otherwise) and, when it also meets the upstream target, handed on as a ``FoundShare`` of the upstream work.
public struct Sv1ServerSession: ConnectionSession {
    /// What only the translator's glue does.
    public enum Effect: Hashable, Sendable {
        /// Send this job's mining.notify: the bytes of ``TranslatorJob/notifyLine``, encoded once for every miner.
        case notify(TranslatorJob)
        /// Submit this share of `worker` (the name the miner authorized with) upstream: it meets the upstream work's
        /// target.
        case submit(FoundShare, worker: String)
        /// The miner's hash rate (``hashRate``) changed: the upstream channel's nominal_hash_rate follows (spec 5.3.9).
        case hashRate(Double)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv1Message, Effect>

    /// Stratum V1 error codes as deployed pools use them.
    enum ErrorCode: Int {
        case other = 20, jobNotFound = 21, duplicate = 22, lowDifficulty = 23, unauthorized = 24, notSubscribed = 25
    }

    private let configuration: Sv1ServerConfiguration
    /// This connection's extranonce1.
    public let extranonce1: [UInt8]
    private var subscribed = false
    private var user: String?
    private var versionMask: UInt32 = 0
    /// The floor the miner asked for with mining.configure's minimum-difficulty (BIP310), 0 when none.
    private var minerMinimum: Double = 0
    /// The mask last announced for the current upstream work (negotiated mask ∩ what the work lets roll).
    private var announcedMask: UInt32?
    private var difficulty: Double
    private var target: U256
    private var previousTarget: U256
    private var vardiff: Vardiff
    private var jobs = [String: TranslatorJob]()
    private var jobOrder = [String]()
    private var latest: TranslatorJob?
    private var seen = Set<U256>()
    /// Whether the upstream channel is open: while it is not, shares are answered with an error, as no pool would
    /// credit them.
    private var upstreamAvailable = true
    /// Whether the miner chose its difficulty (mining.suggest_difficulty).
    private var suggested = false
    /// Shares accepted and rejected on this connection.
    public private(set) var accepted: UInt64 = 0
    /// Shares refused.
    public private(set) var rejected: UInt64 = 0
    /// The hash rate last handed upstream (``Effect/hashRate(_:)``).
    private var reportedHashRate = AnnouncedHashRate()

    /// A session for a new connection with `extranonce1`.
    public init(configuration: Sv1ServerConfiguration, extranonce1: [UInt8], now: Timestamp) {
        self.configuration = configuration
        self.extranonce1 = extranonce1
        difficulty = configuration.clamp(configuration.initialDifficulty)
        target = MiningTarget.target(difficulty: difficulty)
        previousTarget = target
        vardiff = Vardiff(
            configuration: configuration.vardiff,
            initialHashrate: MiningTarget.hashrate(target: target, sharesPerMinute: configuration.sharesPerMinute), now: now.seconds)
    }

    /// The user name the miner authorized with.
    public var userName: String? { user }

    /// The miner as monitoring shows it: client `clientID` at `address` (`host:port`), its shares going to upstream
    /// channel `channelID`.
    public func monitored(clientID: UInt64, address: String, channelID: UInt32?) -> Sv1Client {
        let name = user ?? ""
        let dot = name.firstIndex(of: ".")
        let host = address.lastIndex(of: ":").map { String(address[..<$0]) } ?? address
        return Sv1Client(
            clientID: clientID, channelID: channelID, connectionIP: host, username: dot.map { String(name[..<$0]) } ?? name,
            workerName: dot.map { String(name[name.index(after: $0)...]) } ?? "", target: target,
            hashrate: isMining ? Float(hashRate) : nil, stableHashrate: vardiff.isSettled, extranonce1: extranonce1,
            extranonce2Length: configuration.extranonce2Size, versionRollingMask: versionMask == 0 ? nil : versionMask,
            versionRollingMinimumBitCount: nil, sharesAccepted: accepted, sharesRejected: rejected)
    }

    /// The miner's hash rate as the translator knows it: the rate vardiff last settled on from its shares (at first,
    /// the rate its difficulty stands for at the configured shares per minute), even where the difficulty itself is
    /// held at a bound; 0 until it mines.
    public var hashRate: Double { isMining ? vardiff.targetHashrate : 0 }

    /// True once the miner subscribed and authorized: it gets jobs.
    public var isMining: Bool { subscribed && user != nil }

    /// Set up: subscribed and authorized.
    public var isSetUp: Bool { isMining }

    // MARK: - Miner messages

    /// Handles one message from the miner.
    public mutating func receive(_ message: Sv1Message, now: Timestamp) -> [Action] {
        guard case let .request(id, method, params) = message else {
            if case let .notification(method, _) = message { return [.debug("notification \(method) from the miner ignored")] }
            return []
        }
        switch method {
        case Sv1Method.subscribe:
            let wasMining = isMining
            subscribed = true
            let subscription = JSONValue.string(hex(extranonce1))
            var actions: [Action] = [.send(.response(id: id, result: .array([
                .array([.array([.string(Sv1Method.setDifficulty), subscription]), .array([.string(Sv1Method.notify), subscription])]),
                .string(hex(extranonce1)), .number(String(configuration.extranonce2Size)),
            ]), error: .null))]
            if !wasMining, isMining { actions += startMining(now: now) }
            return actions
        case Sv1Method.authorize:
            let wasMining = isMining
            let name = params.first?.stringValue ?? ""
            user = name
            var actions: [Action] = [
                .send(.response(id: id, result: .bool(true), error: .null)),
                .info("miner authorized", ["user": String(decoding: name.utf8.prefix(100).map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)]),
            ]
            if !wasMining, isMining { actions += startMining(now: now) }
            return actions
        case Sv1Method.configure:
            return configure(id: id, params: params, now: now)
        case Sv1Method.suggestDifficulty:
            guard let value = params.first.flatMap(Self.number) else { return [error(id, .other, "expected a difficulty")] }
            var actions: [Action] = [.send(.response(id: id, result: .bool(true), error: .null))]
            suggested = true
            actions += setDifficulty(bounded(value), now: now, resetVardiff: true)
            return actions
        case Sv1Method.extranonceSubscribe:
            return [.send(.response(id: id, result: .bool(true), error: .null))]
        case Sv1Method.submit:
            return submit(id: id, params: params, now: now)
        default:
            return [error(id, .other, "Unknown method \(method)")]
        }
    }

    /// `value` within the translator's bounds and at least the miner's own minimum.
    private func bounded(_ value: Double) -> Double {
        bounded(value, network: latest?.work.networkTarget)
    }

    /// `value` within the configured bounds and the miner's minimum, and not harder than the network target's
    /// difficulty.
    private func bounded(_ value: Double, network: U256?) -> Double {
        let clamped = configuration.clamp(max(value, minerMinimum))
        guard let network else { return clamped }
        return min(clamped, MiningTarget.difficulty(target: network))
    }

    private mutating func configure(id: Sv1ID, params: [JSONValue], now: Timestamp) -> [Action] {
        let extensions = params.first?.arrayValue?.compactMap(\.stringValue) ?? []
        let options = params.count > 1 ? params[1] : .null
        var result = [(String, JSONValue)]()
        for name in extensions {
            switch name {
            case "version-rolling":
                let requested = options["version-rolling.mask"]?.stringValue.flatMap(Sv1Job.uint32(hex:)) ?? 0xffff_ffff
                versionMask = requested & configuration.versionRollingMask
                result.append(("version-rolling", .bool(versionMask != 0)))
                result.append(("version-rolling.mask", .string(Sv1Job.hex(versionMask))))
            case "minimum-difficulty":
                if let value = options["minimum-difficulty.value"].flatMap(Self.number), value > 0 { minerMinimum = value }
                result.append(("minimum-difficulty", .bool(true)))
            default:
                result.append((name, .bool(false)))
            }
        }
        var actions: [Action] = [.send(.response(id: id, result: .object(result), error: .null))]
        if bounded(difficulty) != difficulty { actions += setDifficulty(bounded(difficulty), now: now, resetVardiff: true) }
        return actions
    }

    private mutating func startMining(now: Timestamp) -> [Action] {
        var actions = [Action]()
        if let latest, let eased = easedDifficulty(for: latest) {
            actions += setDifficulty(eased, now: now, resetVardiff: true)
        } else {
            actions.append(.send(.notification(method: Sv1Method.setDifficulty, params: [Self.json(difficulty)])))
        }
        if let latest { actions.append(.effect(.notify(latest.cleaned))) }
        return actions + reportHashRate()
    }

    /// The hash rate upstream when it moved by more than a tenth since last handed on (or first, or to or from 0).
    private mutating func reportHashRate() -> [Action] {
        guard let rate = reportedHashRate.announce(hashRate) else { return [] }
        return [.effect(.hashRate(rate))]
    }

    /// A lower difficulty for the miner when `job` calls for one: never harder than the network's (a block is always
    /// a share), and until its first accepted share (unless it suggested one) not harder than the upstream channel's,
    /// so that a slow miner's first share does not wait on a default meant for ASICs. Nil when the current one stays.
    private func easedDifficulty(for job: TranslatorJob) -> Double? {
        var wanted = bounded(difficulty, network: job.work.networkTarget)
        if accepted == 0, !suggested {
            wanted = min(wanted, bounded(MiningTarget.difficulty(target: job.work.target), network: job.work.networkTarget))
        }
        return wanted < difficulty ? wanted : nil
    }

    private mutating func submit(id: Sv1ID, params: [JSONValue], now: Timestamp) -> [Action] {
        guard subscribed else { return reject(id, .notSubscribed, "Not subscribed") }
        guard user != nil else { return reject(id, .unauthorized, "Unauthorized worker") }
        let fields = params.map { $0.stringValue ?? "" }
        guard fields.count >= 5, let extranonce2 = Self.bytes(hex: fields[2]), extranonce2.count == configuration.extranonce2Size,
              let time = Sv1Job.uint32(hex: fields[3]), let nonce = Sv1Job.uint32(hex: fields[4])
        else { return reject(id, .other, "Malformed submit: expected worker, job_id, extranonce2 (\(configuration.extranonce2Size) bytes), ntime, nonce") }
        guard let job = jobs[fields[1]] else { return reject(id, .jobNotFound, "Job not found") }
        var version = job.work.version
        if fields.count > 5, !fields[5].isEmpty {
            guard let bits = Sv1Job.uint32(hex: fields[5]) else { return reject(id, .other, "Malformed version bits") }
            let mask = versionMask & job.work.versionRollingMask
            version = (version & ~mask) | (bits & mask)
        }
        let share = FoundShare(
            workID: job.work.id, nonce: nonce, time: time, version: version,
            extranonce: [UInt8](repeating: 0, count: job.padding) + extranonce1 + extranonce2)
        guard let assessment = job.work.assess(share, target: job.work.target) else {
            return reject(id, .other, "ntime before the job's")
        }
        let hash = assessment.hash
        guard seen.insert(hash).inserted else { return reject(id, .duplicate, "Duplicate share") }
        // A block is forwarded whatever the miner's difficulty.
        guard hash <= max(target, previousTarget) || assessment.isBlock else { return reject(id, .lowDifficulty, "Low difficulty share") }
        guard upstreamAvailable else { return reject(id, .other, "Pool unreachable: the share cannot be credited") }
        accepted += 1
        vardiff.recordShare(now: now.seconds)
        var actions: [Action] = [.send(.response(id: id, result: .bool(true), error: .null))]
        if assessment.isSubmittable { actions.append(.effect(.submit(share, worker: user ?? ""))) }
        return actions
    }

    // MARK: - Translator events

    /// An effect of the upstream this miner's shares go to: a job (``newJob(_:)``), or its channel opening or closing.
    public mutating func upstream(_ effect: TranslatorUpstreamSession.Effect, now: Timestamp) -> [Action] {
        switch effect {
        case let .job(job): return newJob(job, now: now)
        case let .upstream(available): return upstream(available: available)
        case .acknowledged: return []  // the translator's metrics, not the miner's concern
        }
    }

    /// The upstream channel opened or closed.
    public mutating func upstream(available: Bool) -> [Action] {
        upstreamAvailable = available
        return []
    }

    /// A line that is not a Stratum V1 message: a JSON-RPC error (code 20) without an id; the connection stays.
    public mutating func malformed(_ problem: String, now: Timestamp) -> [Action] {
        [.send(.response(id: .null, result: .null, error: .array([.number(String(ErrorCode.other.rawValue)), .string(problem), .null])))]
    }

    /// New upstream work as a job: sent at once to a miner that is mining, as `.notify(job)` with `job` itself (so
    /// the glue can send every miner the same encoded line); a clean job drops the earlier ones.
    public mutating func newJob(_ job: TranslatorJob, now: Timestamp) -> [Action] {
        if job.notify.cleanJobs {
            jobs.removeAll(keepingCapacity: true)
            jobOrder.removeAll(keepingCapacity: true)
            seen.removeAll()
        }
        jobs[job.notify.jobID] = job
        jobOrder.append(job.notify.jobID)
        if jobOrder.count > 32 { jobs[jobOrder.removeFirst()] = nil }
        latest = job
        previousTarget = target
        guard isMining else { return [] }
        var actions = [Action]()
        let mask = versionMask & job.work.versionRollingMask
        if versionMask != 0, mask != (announcedMask ?? versionMask) {
            actions.append(.send(.notification(method: Sv1Method.setVersionMask, params: [.string(Sv1Job.hex(mask))])))
        }
        if versionMask != 0 { announcedMask = mask }
        if let eased = easedDifficulty(for: job) { actions += setDifficulty(eased, now: now, resetVardiff: true) }
        actions.append(.effect(.notify(job)))
        return actions
    }

    /// Vardiff: a new difficulty when the miner's share rate has moved it.
    public mutating func tick(now: Timestamp) -> [Action] {
        guard isMining else { return [] }
        var actions = [Action]()
        if let proposed = vardiff.update(now: now.seconds) {
            actions = setDifficulty(bounded(MiningTarget.difficulty(target: proposed)), now: now, resetVardiff: false)
        }
        // The estimate also moves where the difficulty cannot (at a bound): the upstream hears of that too.
        return actions + reportHashRate()
    }

    private mutating func setDifficulty(_ value: Double, now: Timestamp, resetVardiff: Bool) -> [Action] {
        if resetVardiff {
            vardiff = Vardiff(
                configuration: configuration.vardiff,
                initialHashrate: Sv1ServerConfiguration.hashrate(value, configuration.sharesPerMinute),
                now: now.seconds)
        }
        guard value != difficulty else { return [] }
        difficulty = value
        previousTarget = target
        target = MiningTarget.target(difficulty: value)
        guard isMining else { return [] }
        return [.send(.notification(method: Sv1Method.setDifficulty, params: [Self.json(value)]))] + reportHashRate()
    }

    // MARK: - Helpers

    private mutating func reject(_ id: Sv1ID, _ code: ErrorCode, _ message: String) -> [Action] {
        rejected += 1
        return [error(id, code, message)]
    }

    private func error(_ id: Sv1ID, _ code: ErrorCode, _ message: String) -> Action {
        .send(.response(id: id, result: .null, error: .array([.number(String(code.rawValue)), .string(message), .null])))
    }

    private static func json(_ value: Double) -> JSONValue {
        value == value.rounded() && abs(value) < 1e15 ? .number(String(Int64(value))) : .number("\(value)")
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case let .number(text): return Double(text)
        case let .string(text): return Double(text)
        default: return nil
        }
    }

    private func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    private static func bytes(hex text: String) -> [UInt8]? {
        Hex.decode(text)
    }
}
