import Bitcoin
import Sv2Binary
import Sv2Messages

/// The pool side of one mining connection (spec 5) as a state machine: messages and pool events in, actions out.
/// No I/O and no clock: every event carries `now` (Unix seconds).
///
/// Channels: standard channels (with REQUIRES_STANDARD_JOBS each gets NewMiningJob with its own merkle root;
/// otherwise they form one group channel per connection and get one NewExtendedMiningJob per job), extended
/// channels (NewExtendedMiningJob, per-channel extranonce prefix, the rest of the extranonce rolled by the miner).
/// Jobs are numbered by the pool, so one job has the same id on every channel. Accepted shares are acknowledged
/// in one SubmitShares.Success per channel for everything read in one go (``acknowledgeShares()``); each rejected
/// share gets its SubmitShares.Error at once.
public struct PoolSession: Sendable {
    /// SetupConnection flags of the mining protocol (spec 5.3.1).
    public enum SetupFlag {
        /// The client can only take NewMiningJob (no group channels).
        public static let requiresStandardJobs: UInt32 = 1 << 0
        /// The client will send SetCustomMiningJob.
        public static let requiresWorkSelection: UInt32 = 1 << 1
        /// The client needs version rolling.
        public static let requiresVersionRolling: UInt32 = 1 << 2
        /// (Success) the pool does not accept version changes.
        public static let requiresFixedVersion: UInt32 = 1 << 0
    }

    /// The BIP320 general-purpose version bits miners may roll.
    public static let versionRollingMask: UInt32 = 0x1fff_e000

    private enum State: Sendable {
        case awaitingSetup
        case ready(flags: UInt32)
        case closed
    }

    private enum Kind: Sendable {
        case standard
        case extended(rollable: Int)
    }

    private struct Channel: Sendable {
        let id: UInt32
        let kind: Kind
        let user: String
        let allocation: ExtranonceAllocator.Allocation
        var maximumTarget: U256
        var target: U256
        /// The target before the last SetTarget, still honoured until the next job reaches the channel.
        var previousTarget: U256
        var vardiff: Vardiff
        var seen = Set<U256>()
        var merkleRoots = [UInt32: U256]()
        var unacknowledged = (lastSequence: UInt32(0), count: UInt32(0), sum: UInt64(0))
    }

    private let configuration: PoolSessionConfiguration
    private var state = State.awaitingSetup
    private var allocator: ExtranonceAllocator
    private var channels = [UInt32: Channel]()
    private var groupID: UInt32?
    private var nextChannelID: UInt32 = 1
    private var jobs = [UInt32: PoolJob]()
    private var activeJobIDs = Set<UInt32>()
    private var staleJobIDs = Set<UInt32>()
    private var latestJob: PoolJob?
    private var prevHash: PoolPrevHash?
    private var tallies = [String: ShareTally]()
    private var scratch = [UInt8]()

    /// A session whose channels get extranonce prefixes starting with `connectionPrefix` (unique to this
    /// connection among the pool's live connections).
    public init(configuration: PoolSessionConfiguration, connectionPrefix: [UInt8]) throws(ExtranonceAllocator.LayoutError) {
        self.configuration = configuration
        allocator = try ExtranonceAllocator(
            upstreamPrefix: connectionPrefix, totalLength: configuration.extranonceLength,
            maximumChannels: configuration.maximumChannels)
    }

    /// Number of open channels (not counting the group channel).
    public var channelCount: Int { channels.count }

    private var flags: UInt32 {
        if case let .ready(flags) = state { return flags }
        return 0
    }

    private var requiresStandardJobs: Bool { flags & SetupFlag.requiresStandardJobs != 0 }

    // MARK: - Client messages

    /// Handles one message from the client at Unix time `now`.
    public mutating func receive(_ message: Sv2Message, now: Double) -> [PoolAction] {
        switch state {
        case .closed:
            return []
        case .awaitingSetup:
            return setUp(message)
        case .ready:
            break
        }
        switch message {
        case let .openStandardMiningChannel(request):
            return openStandard(request, now: now)
        case let .openExtendedMiningChannel(request):
            return openExtended(request, now: now)
        case let .submitSharesStandard(share):
            return submit(
                channelID: share.channelID, sequence: share.sequenceNumber, jobID: share.jobID, nonce: share.nonce,
                ntime: share.ntime, version: share.version, extranonce: nil, now: now)
        case let .submitSharesExtended(share):
            return submit(
                channelID: share.channelID, sequence: share.sequenceNumber, jobID: share.jobID, nonce: share.nonce,
                ntime: share.ntime, version: share.version, extranonce: share.extranonce, now: now)
        case let .updateChannel(update):
            return updateChannel(update, now: now)
        case let .closeChannel(close):
            return closeChannel(close.channelID, reason: close.reasonCode.description)
        case let .setCustomMiningJob(job):
            return [.send(.setCustomMiningJobError(SetCustomMiningJobError(
                channelID: job.channelID, requestID: job.requestID, errorCode: PoolErrorCode.customJobsUnsupported)))]
        case .setupConnection:
            return [.warn("a second SetupConnection: ignored")]
        default:
            return [.warn("\(message.name) is not a mining client message: ignored")]
        }
    }

    private mutating func setUp(_ message: Sv2Message) -> [PoolAction] {
        guard case let .setupConnection(setup) = message else {
            state = .closed
            return [.close("the first message must be SetupConnection, got \(message.name)")]
        }
        guard setup.protocol == 0 else {
            state = .closed
            return [
                .send(.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "unsupported-protocol"))),
                .close("SetupConnection for protocol \(setup.protocol); this pool speaks the mining protocol (0)"),
            ]
        }
        guard setup.minVersion <= 2, setup.maxVersion >= 2 else {
            state = .closed
            return [
                .send(.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "protocol-version-mismatch"))),
                .close("SetupConnection versions \(setup.minVersion)...\(setup.maxVersion) exclude 2"),
            ]
        }
        var unsupported = setup.flags & SetupFlag.requiresWorkSelection
        if !configuration.versionRolling { unsupported |= setup.flags & SetupFlag.requiresVersionRolling }
        guard unsupported == 0 else {
            state = .closed
            return [
                .send(.setupConnectionError(SetupConnectionError(flags: unsupported, errorCode: "unsupported-feature-flags"))),
                .close("SetupConnection asks for unsupported features (flags 0x\(String(unsupported, radix: 16)))"),
            ]
        }
        state = .ready(flags: setup.flags)
        let successFlags = configuration.versionRolling ? 0 : SetupFlag.requiresFixedVersion
        return [
            .send(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: successFlags))),
            .log("mining connection set up (vendor \(setup.vendor), device \(setup.deviceID), flags 0x\(String(setup.flags, radix: 16)))"),
        ]
    }

    // MARK: - Channels

    private mutating func newChannelID() -> UInt32 {
        let id = nextChannelID
        nextChannelID &+= 1
        return id
    }

    private func initialTarget(nominalHashRate: Float, maximumTarget: U256) -> (hashrate: Double, target: U256) {
        let reported = Double(nominalHashRate)
        let hashrate = reported.isFinite && reported > 0 ? reported : configuration.defaultHashrate
        return (hashrate, min(MiningTarget.target(hashrate: hashrate, sharesPerMinute: configuration.sharesPerMinute), maximumTarget))
    }

    private func refusal(maximumTarget: U256) -> Sv2String? {
        if maximumTarget == .zero { return PoolErrorCode.maxTargetOutOfRange }
        if channels.count >= Int(configuration.maximumChannels) { return PoolErrorCode.tooManyChannels }
        return nil
    }

    private mutating func openStandard(_ request: OpenStandardMiningChannel, now: Double) -> [PoolAction] {
        if let code = refusal(maximumTarget: request.maxTarget) {
            return [.send(.openMiningChannelError(OpenMiningChannelError(requestID: request.requestID, errorCode: code)))]
        }
        guard let allocation = allocator.allocateStandard() else {
            return [.send(.openMiningChannelError(OpenMiningChannelError(requestID: request.requestID, errorCode: PoolErrorCode.tooManyChannels)))]
        }
        if !requiresStandardJobs, groupID == nil { groupID = newChannelID() }
        let id = newChannelID()
        let (hashrate, target) = initialTarget(nominalHashRate: request.nominalHashRate, maximumTarget: request.maxTarget)
        let user = request.userIdentity.description
        channels[id] = Channel(
            id: id, kind: .standard, user: user, allocation: allocation, maximumTarget: request.maxTarget, target: target,
            previousTarget: target, vardiff: Vardiff(configuration: configuration.vardiff, initialHashrate: hashrate, now: now))
        var actions: [PoolAction] = [
            .send(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                requestID: request.requestID, channelID: id, target: target, extranoncePrefix: allocation.prefix,
                groupChannelID: groupID ?? 0))),
            .log("standard channel \(id) for \"\(user)\" at \(Self.rate(hashrate))" + (groupID.map { " in group \($0)" } ?? "")),
        ]
        if let job = latestJob, let prevHash {
            actions.append(.send(.newMiningJob(standardJob(job, channelID: id, minNtime: nil))))
            actions.append(.send(.setNewPrevHash(mining(prevHash, channelID: id))))
        }
        return actions
    }

    private mutating func openExtended(_ request: OpenExtendedMiningChannel, now: Double) -> [PoolAction] {
        if let code = refusal(maximumTarget: request.maxTarget) {
            return [.send(.openMiningChannelError(OpenMiningChannelError(requestID: request.requestID, errorCode: code)))]
        }
        guard Int(request.minExtranonceSize) <= allocator.rollableLength else {
            return [.send(.openMiningChannelError(OpenMiningChannelError(
                requestID: request.requestID, errorCode: PoolErrorCode.extranonceSizeTooLarge)))]
        }
        guard let allocation = allocator.allocateExtended() else {
            return [.send(.openMiningChannelError(OpenMiningChannelError(requestID: request.requestID, errorCode: PoolErrorCode.tooManyChannels)))]
        }
        let id = newChannelID()
        let (hashrate, target) = initialTarget(nominalHashRate: request.nominalHashRate, maximumTarget: request.maxTarget)
        let user = request.userIdentity.description
        let rollable = allocator.rollableLength
        channels[id] = Channel(
            id: id, kind: .extended(rollable: rollable), user: user, allocation: allocation, maximumTarget: request.maxTarget,
            target: target, previousTarget: target,
            vardiff: Vardiff(configuration: configuration.vardiff, initialHashrate: hashrate, now: now))
        var actions: [PoolAction] = [
            .send(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                requestID: request.requestID, channelID: id, target: target, extranonceSize: UInt16(rollable),
                extranoncePrefix: allocation.prefix, groupChannelID: 0))),
            .log("extended channel \(id) for \"\(user)\" at \(Self.rate(hashrate)), \(rollable) extranonce bytes to roll"),
        ]
        if let job = latestJob, let prevHash {
            actions.append(.send(.newExtendedMiningJob(job.extendedJob(
                channelID: id, minNtime: nil, versionRollingAllowed: configuration.versionRolling))))
            actions.append(.send(.setNewPrevHash(mining(prevHash, channelID: id))))
        }
        return actions
    }

    private mutating func updateChannel(_ update: UpdateChannel, now: Double) -> [PoolAction] {
        guard var channel = channels[update.channelID] else {
            return [.send(.updateChannelError(UpdateChannelError(channelID: update.channelID, errorCode: PoolErrorCode.invalidChannelID)))]
        }
        guard update.maximumTarget != .zero else {
            return [.send(.updateChannelError(UpdateChannelError(channelID: update.channelID, errorCode: PoolErrorCode.maxTargetOutOfRange)))]
        }
        channel.maximumTarget = update.maximumTarget
        let reported = Double(update.nominalHashRate)
        if reported.isFinite, reported > 0 {
            channel.vardiff = Vardiff(configuration: configuration.vardiff, initialHashrate: reported, now: now)
        }
        let target = min(channel.vardiff.target, channel.maximumTarget)
        var actions = [PoolAction]()
        if target != channel.target {
            channel.previousTarget = channel.target
            channel.target = target
            actions.append(.send(.setTarget(SetTarget(channelID: channel.id, maximumTarget: target))))
        }
        channels[update.channelID] = channel
        return actions
    }

    private mutating func closeChannel(_ id: UInt32, reason: String) -> [PoolAction] {
        let closing: [UInt32]
        if id == groupID {
            closing = channels.values.filter { if case .standard = $0.kind { return true } else { return false } }.map(\.id)
        } else if channels[id] != nil {
            closing = [id]
        } else {
            return [.warn("CloseChannel for unknown channel \(id): ignored")]
        }
        for channelID in closing {
            if let channel = channels.removeValue(forKey: channelID) { allocator.release(channel.allocation.index) }
        }
        return [.log("channel(s) \(closing.sorted().map(String.init).joined(separator: ", ")) closed by the client (\(reason))")]
    }

    // MARK: - Shares

    private mutating func submit(
        channelID: UInt32, sequence: UInt32, jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32,
        extranonce: [UInt8]?, now: Double
    ) -> [PoolAction] {
        // Taken out of the dictionary while it changes, so its seen-share set is not copied on write.
        guard var channel = channels.removeValue(forKey: channelID) else {
            return [reject(channelID: channelID, sequence: sequence, PoolErrorCode.invalidChannelID, user: nil)]
        }
        defer { channels[channelID] = channel }
        let code = check(&channel, jobID: jobID, nonce: nonce, ntime: ntime, version: version, extranonce: extranonce, now: now)
        var actions = [PoolAction]()
        switch code {
        case let .rejected(error):
            return [reject(channelID: channelID, sequence: sequence, error, user: channel.user)]
        case let .accepted(block):
            channel.unacknowledged.lastSequence = sequence
            channel.unacknowledged.count &+= 1
            channel.unacknowledged.sum &+= UInt64(max(1, MiningTarget.difficulty(target: channel.target).rounded()))
            channel.vardiff.recordShare(now: now)
            tallies[channel.user, default: ShareTally()].accepted += 1
            tallies[channel.user, default: ShareTally()].work += MiningTarget.expectedHashes(target: channel.target)
            if let block {
                tallies[channel.user, default: ShareTally()].blocks += 1
                actions.append(.submitBlock(block))
            }
        }
        return actions
    }

    /// The outcome of one share's checks.
    private enum Verdict {
        /// Valid; with the block when the hash meets the network target.
        case accepted(FoundBlock?)
        /// Refused with this error code.
        case rejected(Sv2String)
    }

    /// Validates one share; on success returns the block when the hash meets the network target.
    private mutating func check(
        _ channel: inout Channel, jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32, extranonce: [UInt8]?, now: Double
    ) -> Verdict {
        guard let prevHash, activeJobIDs.contains(jobID), let job = jobs[jobID] else {
            return .rejected(staleJobIDs.contains(jobID) ? PoolErrorCode.staleShare : PoolErrorCode.invalidJobID)
        }
        let root: U256
        switch (channel.kind, extranonce) {
        case (.standard, nil):
            if let cached = channel.merkleRoots[jobID] {
                root = cached
            } else {
                root = job.merkleRoot(extranonce: channel.allocation.prefix, scratch: &scratch)
                channel.merkleRoots[jobID] = root
            }
        case let (.extended(rollable), .some(extranonce)):
            guard extranonce.count == rollable else { return .rejected(PoolErrorCode.badExtranonceSize) }
            root = job.merkleRoot(extranonce: channel.allocation.prefix + extranonce, scratch: &scratch)
        default:
            return .rejected(PoolErrorCode.invalidChannelID)
        }
        let allowedChanges = configuration.versionRolling ? Self.versionRollingMask : 0
        guard (version ^ job.version) & ~allowedChanges == 0 else { return .rejected(PoolErrorCode.versionRollingNotAllowed) }
        let latest = UInt64(max(0, now)) + UInt64(configuration.maximumFutureTime)
        guard ntime >= prevHash.minNtime, UInt64(ntime) <= latest else { return .rejected(PoolErrorCode.invalidTimestamp) }
        let hash = ShareHash.header(
            version: version, previousBlockHash: prevHash.prevHash, merkleRoot: root, time: ntime, bits: prevHash.nBits, nonce: nonce)
        guard channel.seen.insert(hash).inserted else { return .rejected(PoolErrorCode.duplicateShare) }
        if hash <= prevHash.networkTarget {
            let full = channel.allocation.prefix + (extranonce ?? [])
            return .accepted(FoundBlock(
                templateID: job.templateID, version: version, ntime: ntime, nonce: nonce,
                coinbase: job.blockCoinbase(extranonce: full), hash: hash, user: channel.user))
        }
        guard hash <= max(channel.target, channel.previousTarget) else { return .rejected(PoolErrorCode.difficultyTooLow) }
        return .accepted(nil)
    }

    private mutating func reject(channelID: UInt32, sequence: UInt32, _ code: Sv2String, user: String?) -> PoolAction {
        if let user { tallies[user, default: ShareTally()].rejected += 1 }
        return .send(.submitSharesError(SubmitSharesError(channelID: channelID, sequenceNumber: sequence, errorCode: code)))
    }

    /// One SubmitShares.Success per channel with shares accepted since the last call (the glue calls it when it
    /// has handled everything one read delivered).
    public mutating func acknowledgeShares() -> [PoolAction] {
        var actions = [PoolAction]()
        for (id, channel) in channels where channel.unacknowledged.count > 0 {
            actions.append(.send(.submitSharesSuccess(SubmitSharesSuccess(
                channelID: id, lastSequenceNumber: channel.unacknowledged.lastSequence,
                newSubmitsAcceptedCount: channel.unacknowledged.count, newSharesSum: channel.unacknowledged.sum))))
            channels[id]?.unacknowledged = (0, 0, 0)
        }
        return actions
    }

    /// The per-user tallies since the last call, emptied.
    public mutating func collectTallies() -> [String: ShareTally] {
        defer { tallies.removeAll(keepingCapacity: true) }
        return tallies
    }

    // MARK: - Pool events

    /// A new job from a new template: future jobs wait for their prevhash, others replace the current job.
    public mutating func newJob(_ job: PoolJob) -> [PoolAction] {
        jobs[job.id] = job
        let minNtime: UInt32?
        if job.isFuture {
            minNtime = nil
        } else {
            guard let prevHash else { return [] }
            activeJobIDs.insert(job.id)
            latestJob = job
            minNtime = prevHash.minNtime
        }
        restoreTargets()
        return broadcast(job, minNtime: minNtime)
    }

    /// A new chain tip: its job becomes the only valid one; shares for earlier jobs are stale from now on.
    public mutating func newPrevHash(_ prevHash: PoolPrevHash) -> [PoolAction] {
        guard let job = jobs[prevHash.jobID] else {
            return [.warn("SetNewPrevHash for unknown job \(prevHash.jobID): ignored")]
        }
        staleJobIDs = Set(jobs.keys).subtracting([job.id])
        jobs = [job.id: job]
        activeJobIDs = [job.id]
        latestJob = job
        self.prevHash = prevHash
        for id in channels.keys {
            channels[id]?.seen.removeAll()
            channels[id]?.merkleRoots.removeAll()
        }
        restoreTargets()
        var actions = [PoolAction]()
        if let groupID { actions.append(.send(.setNewPrevHash(mining(prevHash, channelID: groupID)))) }
        for channel in channels.values.sorted(by: { $0.id < $1.id }) {
            if case .standard = channel.kind, !requiresStandardJobs { continue }
            actions.append(.send(.setNewPrevHash(mining(prevHash, channelID: channel.id))))
        }
        return actions
    }

    /// Vardiff: a SetTarget for every channel whose share rate has moved its target.
    public mutating func tick(now: Double) -> [PoolAction] {
        var actions = [PoolAction]()
        for id in channels.keys.sorted() {
            guard var channel = channels[id], let proposed = channel.vardiff.update(now: now) else { continue }
            let target = min(proposed, channel.maximumTarget)
            guard target != channel.target else { continue }
            channel.previousTarget = channel.target
            channel.target = target
            channels[id] = channel
            actions.append(.send(.setTarget(SetTarget(channelID: id, maximumTarget: target))))
            actions.append(.log("channel \(id): vardiff estimates \(Self.rate(channel.vardiff.hashrate)), new target"))
        }
        return actions
    }

    /// A connection the pool is shutting down or moving: Reconnect (spec 3.9) to `host`:`port` (empty host and port
    /// 0 mean the same server).
    public mutating func reconnect(host: String, port: UInt16) -> [PoolAction] {
        [.send(.reconnect(Reconnect(newHost: Sv2String(host), newPort: port)))]
    }

    private mutating func restoreTargets() {
        for (id, channel) in channels { channels[id]?.previousTarget = channel.target }
    }

    private func broadcast(_ job: PoolJob, minNtime: UInt32?) -> [PoolAction] {
        var actions = [PoolAction]()
        if let groupID {
            actions.append(.send(.newExtendedMiningJob(job.extendedJob(
                channelID: groupID, minNtime: minNtime, versionRollingAllowed: configuration.versionRolling))))
        }
        for channel in channels.values.sorted(by: { $0.id < $1.id }) {
            switch channel.kind {
            case .extended:
                actions.append(.send(.newExtendedMiningJob(job.extendedJob(
                    channelID: channel.id, minNtime: minNtime, versionRollingAllowed: configuration.versionRolling))))
            case .standard where requiresStandardJobs:
                actions.append(.send(.newMiningJob(standardJob(job, channelID: channel.id, minNtime: minNtime))))
            case .standard:
                continue
            }
        }
        return actions
    }

    private func standardJob(_ job: PoolJob, channelID: UInt32, minNtime: UInt32?) -> NewMiningJob {
        let prefix = channels[channelID]?.allocation.prefix ?? []
        return NewMiningJob(
            channelID: channelID, jobID: job.id, minNtime: minNtime, version: job.version, merkleRoot: job.merkleRoot(extranonce: prefix))
    }

    private func mining(_ prevHash: PoolPrevHash, channelID: UInt32) -> SetNewPrevHash {
        SetNewPrevHash(channelID: channelID, jobID: prevHash.jobID, prevHash: prevHash.prevHash, minNtime: prevHash.minNtime, nbits: prevHash.nBits)
    }

    /// `27.1 MH/s` style.
    static func rate(_ hashrate: Double) -> String {
        let units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"]
        var value = hashrate
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
