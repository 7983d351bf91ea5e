import Foundation
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Sessions

/// Grades one client of `sv2 probe --serve` from its connection's traffic both ways (the pool session's messages
/// are the reference): SetupConnection, channel requests, shares (sequence numbers, version bits, ntime, targets,
/// jobs of past tips), UpdateChannel, and whether it follows Reconnect. Sans-IO: time comes from the clock it is
/// given, and the report goes to `report` when the connection ends.
public struct ClientGrader: PoolSessionObserver {
    /// What the grader does besides watching.
    public struct Settings: Sendable {
        /// Seconds after setup at which the client is sent Reconnect to the same server (nil: never).
        public var reconnectAfter: Double?
        /// A share for a job of an earlier tip arriving within this many seconds of SetNewPrevHash was in flight.
        public var staleGrace: Double
        /// Past this many seconds such a share fails the check (between the two it warns).
        public var staleLimit: Double
        /// Seconds a client has to leave after Reconnect.
        public var reconnectLimit: Double

        /// Settings; defaults: no Reconnect, 100 ms of grace, 1 s at most for stale shares, 10 s to follow Reconnect.
        public init(reconnectAfter: Double? = nil, staleGrace: Double = 0.1, staleLimit: Double = 1, reconnectLimit: Double = 10) {
            self.reconnectAfter = reconnectAfter
            self.staleGrace = staleGrace
            self.staleLimit = staleLimit
            self.reconnectLimit = reconnectLimit
        }
    }

    private struct Job {
        var version: UInt32
        var mask: UInt32
        var minNtime: UInt32?
    }

    private struct Channel {
        var declaredRate: Float
        var target: U256
        var jobs: [UInt32: Job] = [:]
        /// Jobs of earlier tips (bounded: past 4,096 the set starts over).
        var staleJobs: Set<UInt32> = []
        var tipMinNtime: UInt32?
        var tipAt: Timestamp?
        /// When a SetTarget last made the target harder: refusals as too easy soon after were in flight.
        var harderAt: Timestamp?
        var lastSequence: UInt32?
        var accepted: UInt64 = 0
        var acceptedWork: Double = 0
        var opened: Timestamp
        var updates = 0
    }

    private let clock: Sv2Clock
    private let settings: Settings
    private let report: @Sendable (ProbeReport) -> Void
    private var firstMessage: String?
    private var setup: SetupConnection?
    private var setupRefusal: String?
    private var setupAt: Timestamp?
    private var fixedVersion = false
    private var requestedRates: [UInt32: Float] = [:]
    private var requestProblems: [String] = []
    private var refusedOpens: [String] = []
    private var channels: [UInt32: Channel] = [:]
    private var groups: [UInt32: Set<UInt32>] = [:]
    private var shares = 0
    private var sequenceProblems: [String] = []
    private var versionProblems: [String] = []
    private var ntimeProblems: [String] = []
    private var refusals: [String: Int] = [:]
    private var lowDifficultyInFlight = 0
    private var staleShares = 0
    private var staleWorstDelay = 0.0
    private var reconnectSentAt: Timestamp?
    private var sharesAfterReconnect = 0
    private var closedForIgnoringReconnect = false
    private var serverClosed: String?
    private var poolStopping = false
    private var updateRefusals: [String] = []

    /// A grader reading `clock`, doing what `settings` say, handing its report to `report` at the end.
    public init(clock: Sv2Clock, settings: Settings = Settings(), report: @escaping @Sendable (ProbeReport) -> Void) {
        self.clock = clock
        self.settings = settings
        self.report = report
    }

    // MARK: - Client to server

    /// A message from the client.
    public mutating func received(_ tagged: Sv2TaggedMessage) {
        let message = tagged.message
        if firstMessage == nil { firstMessage = message.name }
        let now = clock.now()
        switch message {
        case let .setupConnection(request) where setup == nil:
            setup = request
        case let .openStandardMiningChannel(request):
            requested(request.requestID, message.name, request.userIdentity, request.nominalHashRate)
        case let .openExtendedMiningChannel(request):
            requested(request.requestID, message.name, request.userIdentity, request.nominalHashRate)
        case let .submitSharesStandard(share):
            submitted(share.channelID, share.sequenceNumber, share.jobID, share.ntime, share.version, now: now)
        case let .submitSharesExtended(share):
            submitted(share.channelID, share.sequenceNumber, share.jobID, share.ntime, share.version, now: now)
        case let .updateChannel(update):
            channels[update.channelID]?.updates += 1
            channels[update.channelID]?.declaredRate = update.nominalHashRate
        default:
            break
        }
    }

    private mutating func requested(_ id: UInt32, _ name: String, _ user: Sv2String, _ rate: Float) {
        requestedRates[id] = rate
        if user.bytes.isEmpty { requestProblems.append("\(name) \(id) with an empty user_identity") }
        // 0.0 is what a proxy without devices MUST declare (5.3.2); update-channel judges it once shares come.
        if !(rate >= 0) || !rate.isFinite { requestProblems.append("\(name) \(id) declares nominal_hash_rate \(rate)") }
    }

    private mutating func submitted(_ channelID: UInt32, _ sequence: UInt32, _ jobID: UInt32, _ ntime: UInt32, _ version: UInt32, now: Timestamp) {
        shares += 1
        if let sent = reconnectSentAt, seconds(from: sent, to: now) > settings.staleGrace { sharesAfterReconnect += 1 }
        guard var channel = channels.removeValue(forKey: channelID) else { return }
        defer { channels[channelID] = channel }
        if let last = channel.lastSequence, sequence <= last, sequenceProblems.count < 5 {
            sequenceProblems.append("channel \(channelID): \(sequence) after \(last)")
        }
        channel.lastSequence = sequence
        if channel.staleJobs.contains(jobID), let tipAt = channel.tipAt {
            staleShares += 1
            staleWorstDelay = max(staleWorstDelay, seconds(from: tipAt, to: now))
            return
        }
        guard let job = channel.jobs[jobID] else { return }
        if (version ^ job.version) & ~job.mask != 0, versionProblems.count < 5 {
            versionProblems.append("version 0x\(String(version, radix: 16)) on job \(jobID) (0x\(String(job.version, radix: 16)), mask 0x\(String(job.mask, radix: 16)))")
        }
        if let floor = channel.tipMinNtime, let tipAt = channel.tipAt {
            let earliest = max(floor, job.minNtime ?? floor)
            let latest = floor &+ UInt32(clamping: Int64(max(0, seconds(from: tipAt, to: now)).rounded(.up))) &+ 1
            if ntime < earliest || ntime > latest, ntimeProblems.count < 5 {
                ntimeProblems.append("ntime \(ntime) outside \(earliest)…\(latest) on job \(jobID)")
            }
        }
    }

    // MARK: - Server to client

    /// What the pool's session did.
    public mutating func acted(_ actions: [SessionAction<Sv2Message, PoolEffect>]) {
        let now = clock.now()
        for action in actions {
            switch action {
            case let .send(message): sent(message, now: now)
            case let .close(reason): serverClosed = serverClosed ?? reason
            default: break
            }
        }
    }

    /// The pool is stopping: the connection ends for that, not for anything the client did.
    public mutating func stopping() {
        poolStopping = true
    }

    private mutating func sent(_ message: Sv2Message, now: Timestamp) {
        switch message {
        case let .setupConnectionSuccess(success):
            setupAt = now
            fixedVersion = MiningSetupSuccessFlags(rawValue: success.flags).contains(.requiresFixedVersion)
        case let .setupConnectionError(error):
            setupRefusal = error.errorCode.description
        case let .openStandardMiningChannelSuccess(success):
            opened(success.requestID, success.channelID, success.target, group: success.groupChannelID, now: now)
        case let .openExtendedMiningChannelSuccess(success):
            opened(success.requestID, success.channelID, success.target, group: success.groupChannelID, now: now)
        case let .openMiningChannelError(error):
            refusedOpens.append("request \(error.requestID): \(error.errorCode)")
        case let .newMiningJob(job):
            let mask = fixedVersion ? 0 : MiningWork.bip323VersionMask
            update(job.channelID) { $0.jobs[job.jobID] = Job(version: job.version, mask: mask, minNtime: job.minNtime) }
        case let .newExtendedMiningJob(job):
            let mask = job.versionRollingAllowed && !fixedVersion ? MiningWork.bip323VersionMask : 0
            update(job.channelID) { $0.jobs[job.jobID] = Job(version: job.version, mask: mask, minNtime: job.minNtime) }
        case let .setNewPrevHash(tip):
            update(tip.channelID) { channel in
                if channel.staleJobs.count > 4096 { channel.staleJobs.removeAll() }
                channel.staleJobs.formUnion(channel.jobs.keys.filter { $0 != tip.jobID })
                channel.jobs = channel.jobs.filter { $0.key == tip.jobID }
                channel.tipMinNtime = tip.minNtime
                channel.tipAt = now
            }
        case let .setTarget(target):
            update(target.channelID) { channel in
                if target.maximumTarget < channel.target { channel.harderAt = now }
                channel.target = target.maximumTarget
            }
        case let .submitSharesSuccess(success):
            update(success.channelID) { channel in
                channel.accepted += UInt64(success.newSubmitsAcceptedCount)
                channel.acceptedWork += Double(success.newSubmitsAcceptedCount) * MiningTarget.expectedHashes(target: channel.target)
            }
        case let .submitSharesError(error):
            let code = error.errorCode.description
            if code == "difficulty-too-low", let harderAt = channels[error.channelID]?.harderAt, seconds(from: harderAt, to: now) <= settings.staleLimit {
                lowDifficultyInFlight += 1
            } else {
                refusals[code, default: 0] += 1
            }
        case let .updateChannelError(error):
            updateRefusals.append("UpdateChannel.Error \(error.errorCode) for channel \(error.channelID)")
        case .reconnect:
            reconnectSentAt = reconnectSentAt ?? now
        default:
            break
        }
    }

    private mutating func opened(_ requestID: UInt32, _ channelID: UInt32, _ target: U256, group: UInt32, now: Timestamp) {
        channels[channelID] = Channel(declaredRate: requestedRates[requestID] ?? 0, target: target, opened: now)
        if group != 0 { groups[group, default: []].insert(channelID) }
    }

    /// Applies `change` to channel `id`, or to every channel of the group `id`, each taken out of the table while
    /// it changes (no copy of its jobs).
    private mutating func update(_ id: UInt32, _ change: (inout Channel) -> Void) {
        for member in channels[id] != nil ? [id] : Array(groups[id] ?? []) {
            guard var channel = channels.removeValue(forKey: member) else { continue }
            change(&channel)
            channels[member] = channel
        }
    }

    /// Sends Reconnect (to this same server) once the configured time after setup has passed, and closes a
    /// connection whose client has not left `reconnectLimit` seconds after it.
    public mutating func tick() -> [SessionAction<Sv2Message, PoolEffect>] {
        guard let after = settings.reconnectAfter, let setupAt else { return [] }
        let now = clock.now()
        if let sent = reconnectSentAt {
            guard !closedForIgnoringReconnect, seconds(from: sent, to: now) > settings.reconnectLimit else { return [] }
            closedForIgnoringReconnect = true
            return [.close("the client did not follow Reconnect within \(Int(settings.reconnectLimit)) s")]
        }
        guard seconds(from: setupAt, to: now) >= after else { return [] }
        return [.send(.reconnect(Reconnect(newHost: "", newPort: 0)))]
    }

    // MARK: - Report

    /// The connection ended: the report is handed on.
    public func finished(peer: String) {
        report(grade(peer: peer, now: clock.now()))
    }

    /// The report on this connection as it stands at `now`.
    func grade(peer: String, now: Timestamp) -> ProbeReport {
        let who = setup.map { " (\($0.vendor) \($0.firmware))" } ?? ""
        var report = ProbeReport(subject: "client \(peer)\(who)")
        func add(_ name: String, _ section: String, _ verdict: ProbeVerdict) {
            report.results.append(ProbeResult(name: name, section: section, verdict: verdict))
        }
        add("setup-first", "3.6.1", firstMessage.map { first in
            first == SetupConnection.name ? .pass("SetupConnection first") : .fail(expected: "SetupConnection as the first message", got: first)
        } ?? .skip("no message"))
        add("setup-fields", "3.6.1", setupFields)
        add("channel-requests", "5.3.2, 5.3.4", channelRequests)
        let shareChecks = self.shareChecks
        for (name, section, verdict) in shareChecks { add(name, section, verdict) }
        add("honours-prevhash", "5.3.17", honoursPrevHash)
        add("update-channel", "5.3.7", updateChannel(now: now))
        add("honours-reconnect", "3.3, 3.6.5", honoursReconnect(now: now))
        add("connection", "3.2", connection)
        return report
    }

    private var setupFields: ProbeVerdict {
        guard let setup else { return .skip("no SetupConnection") }
        if let setupRefusal { return .warn("the pool refused the SetupConnection (\(setupRefusal)): it lacks what the client asked for") }
        guard !setup.vendor.bytes.isEmpty else { return .fail(expected: "vendor filled (MUST)", got: "an empty vendor") }
        let undefined = setup.flags & ~SetupNegotiation.definedFlags(.mining)
        if undefined != 0 { return .warn("flags 0x\(String(undefined, radix: 16)) the spec does not define (5.3.1)") }
        guard !setup.hardwareVersion.bytes.isEmpty else { return .warn("hardware_version empty (SHOULD be filled)") }
        return .pass("vendor \"\(setup.vendor)\", hardware_version \"\(setup.hardwareVersion)\", firmware \"\(setup.firmware)\", flags 0x\(String(setup.flags, radix: 16))")
    }

    private var channelRequests: ProbeVerdict {
        guard !requestedRates.isEmpty else { return .skip("no channel requested") }
        if let refused = refusedOpens.first { return .warn("the pool refused a channel (\(refused))") }
        if let problem = requestProblems.first { return .warn(problem) }
        return .pass("\(requestedRates.count) channel(s) requested with a user and a nominal_hash_rate")
    }

    private var shareChecks: [(String, String, ProbeVerdict)] {
        guard shares > 0 else {
            return [("shares", "5.3.11, 5.3.12", .skip("no share submitted"))]
        }
        func problems(_ list: [String], pass: String) -> ProbeVerdict {
            list.isEmpty ? .pass(pass) : .fail(expected: pass, got: list.joined(separator: "; "))
        }
        let lowDifficulty = refusals["difficulty-too-low", default: 0]
        // The pool's own refusals count where the grader's view did not already see the fault.
        let versionProblems = self.versionProblems.isEmpty && refusals["version-rolling-not-allowed"] != nil
            ? ["\(refusals["version-rolling-not-allowed"] ?? 0) refused as version-rolling-not-allowed"] : self.versionProblems
        let ntimeProblems = self.ntimeProblems.isEmpty && refusals["invalid-timestamp"] != nil
            ? ["\(refusals["invalid-timestamp"] ?? 0) refused as invalid-timestamp"] : self.ntimeProblems
        let invalid = ["invalid-channel-id", "invalid-job-id", "bad-extranonce-size", "duplicate-share"].compactMap { code in
            refusals[code].map { "\($0) \(code)" }
        }
        let accepted = channels.values.reduce(0) { $0 + $1.accepted }
        return [
            ("share-sequence", "5.3.11", problems(sequenceProblems, pass: "sequence numbers increasing on every channel (\(shares) shares)")),
            ("share-version-bits", "5.3.16", problems(versionProblems, pass: "versions within each job's rolling mask")),
            ("share-ntime", "5.3.11", problems(ntimeProblems, pass: "ntime from min_ntime to min_ntime plus the seconds since SetNewPrevHash")),
            ("honours-settarget", "5.3.21", lowDifficulty == 0
                ? .pass("no share above its target" + (lowDifficultyInFlight > 0 ? " (\(lowDifficultyInFlight) in flight when the target got harder)" : ""))
                : .fail(expected: "shares meeting the target in force", got: "\(lowDifficulty) difficulty-too-low")),
            ("share-fields", "5.3.14", invalid.isEmpty
                ? .pass("\(accepted) accepted; no share for an unknown channel or job, of a wrong extranonce size or repeated")
                : .fail(expected: "shares the pool can take", got: invalid.joined(separator: ", "))),
        ]
    }

    private var honoursPrevHash: ProbeVerdict {
        guard staleShares > 0 else {
            return channels.values.contains(where: { $0.tipAt != nil }) ? .pass("no share for a job of an earlier tip") : .skip("no tip sent")
        }
        let worst = staleWorstDelay
        let text = "\(staleShares) share(s) for jobs of an earlier tip, the last \(Int(worst * 1000)) ms after SetNewPrevHash"
        if worst > settings.staleLimit { return .fail(expected: "mining moved to the new tip at once", got: text) }
        if worst > settings.staleGrace { return .warn(text + " (in flight is a few ms)") }
        return .pass(text + " (in flight)")
    }

    private func updateChannel(now: Timestamp) -> ProbeVerdict {
        let updates = channels.values.reduce(0) { $0 + $1.updates }
        if let refusal = updateRefusals.first { return .fail(expected: "UpdateChannel for open channels only", got: refusal) }
        for (id, channel) in channels.sorted(by: { $0.key < $1.key }) where channel.accepted >= 20 {
            let elapsed = seconds(from: channel.opened, to: now)
            guard elapsed >= 30 else { continue }
            let measured = channel.acceptedWork / elapsed
            let declared = Double(channel.declaredRate)
            if !(declared > 0) || measured / declared > 4 || declared / measured > 4 {
                return .warn("channel \(id) declares \(rate(declared)) but its accepted shares stand for about \(rate(measured)) (\(updates) UpdateChannel)")
            }
        }
        return updates > 0 ? .pass("\(updates) UpdateChannel, declared rates in line with the shares") : .pass("declared rates in line with the shares (or too few shares to tell)")
    }

    private func honoursReconnect(now: Timestamp) -> ProbeVerdict {
        guard let sent = reconnectSentAt else {
            return .skip(settings.reconnectAfter == nil ? "no Reconnect sent (--reconnect-after)" : "the connection ended before Reconnect was due")
        }
        if closedForIgnoringReconnect {
            return .fail(expected: "the client to move to the server Reconnect named (3.3: it MUST)", got: "still here after \(Int(settings.reconnectLimit)) s")
        }
        if poolStopping { return .skip("the probe stopped before the client left") }
        let after = seconds(from: sent, to: now)
        if sharesAfterReconnect > 0 { return .warn("left \(Int(after * 1000)) ms after Reconnect, with \(sharesAfterReconnect) share(s) sent meanwhile") }
        return .pass("left \(Int(after * 1000)) ms after Reconnect")
    }

    private var connection: ProbeVerdict {
        guard let serverClosed, setupRefusal == nil, !closedForIgnoringReconnect else {
            return .pass(poolStopping ? "open until the probe stopped" : "closed by the client")
        }
        return .fail(expected: "a connection the pool keeps", got: "the pool closed it: \(serverClosed)")
    }

    /// A hash rate for a report line.
    private func rate(_ value: Double) -> String {
        String(format: "%.3g H/s", value)
    }

    private func seconds(from start: Timestamp, to end: Timestamp) -> Double {
        Double(end.nanoseconds - start.nanoseconds) / 1e9
    }
}
