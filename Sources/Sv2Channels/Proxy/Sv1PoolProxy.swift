import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions

/// `sv2 proxy` in front of a Stratum V1 pool, as a sans-IO state machine: Sv2 devices open standard channels
/// downstream; every user identity gets one Stratum V1 session upstream (an ``Sv1ClientSession`` run by the glue),
/// so that the pool's per-worker accounting stays right, and the channels of one user share it, each with its own
/// extranonce2 chosen by the proxy. mining.notify becomes each channel's NewMiningJob (the merkle root of its
/// extranonce2), with SetNewPrevHash on a new prevhash or clean_jobs; the pool's difficulty becomes SetTarget; a
/// device's share becomes mining.submit and the pool's answer SubmitShares.Success or .Error with the matching code.
///
/// The glue runs the sessions: ``Output/connect(user:suggestedDifficulty:)`` and ``Output/disconnect(user:)`` say
/// when a user's session is needed, ``Output/submit(user:share:tag:)`` hands it a share, and the session's work,
/// answers and ends come back through ``work(user:_:)``, ``submitted(user:tag:requestID:)``, ``answered(user:requestID:accepted:reason:)``
/// and ``upstreamLost(user:)``.
public struct Sv1PoolProxy<Device: Hashable & Sendable>: Sendable {
    /// Which device share a mining.submit stands for.
    public struct ShareTag: Hashable, Sendable {
        /// The device.
        public var device: Device
        /// Its channel.
        public var channelID: UInt32
        /// The share's sequence number.
        public var sequenceNumber: UInt32
        /// The share's weight in SubmitShares.Success (the channel target's difficulty).
        public var weight: UInt64
    }

    /// What the glue does.
    public enum Output: Sendable {
        /// Send this to a device.
        case device(Device, Sv2Message)
        /// Start a Stratum V1 session for `user`, suggesting this difficulty (from its first channel's hash rate).
        case connect(user: String, suggestedDifficulty: Double?)
        /// `user` has no channel left: end its session.
        case disconnect(user: String)
        /// Hand `share` to `user`'s session (mining.submit) and report the request id with ``submitted(user:tag:requestID:)``.
        case submit(user: String, share: FoundShare, tag: ShareTag)
        /// Log this line.
        case log(SessionLog)
    }

    /// Jobs kept per user (older ones are forgotten: their shares are unknown).
    static var jobLimit: Int { 32 }
    /// Submitted shares waiting for the pool's answer, per user.
    static var pendingLimit: Int { 4096 }

    private struct Key: Hashable, Sendable {
        var device: Device
        var channelID: UInt32
    }

    private struct Channel: Sendable {
        let user: String
        let index: UInt64
        /// The nominal hash rate the device declared.
        var nominalHashRate: Float = 0
        var maximumTarget: U256
        /// The device's request id while its open request waits for the user's first work.
        var pendingRequestID: UInt32?
        var target: U256?
    }

    private struct Upstream: Sendable {
        var channels = Set<Key>()
        var nextIndex: UInt64 = 0
        var connected = false
        var work: MiningWork?
        var jobs = [UInt32: MiningWork]()
        var staleJobIDs = Set<UInt32>()
        var nextJobID: UInt32 = 1
        var announcedPrevHash: U256?
        var cleanPending = false
        var pending = [UInt64: ShareTag]()
    }

    private let sharesPerMinute: Double
    private let defaultUser: String
    private let maximumChannelsPerDevice: Int
    private var channels = [Key: Channel]()
    private var upstreams = [String: Upstream]()
    private var nextChannelID = [Device: UInt32]()
    private var openChannels = [Device: Int]()
    private var scratch = [UInt8]()

    /// A proxy whose channels' hash rates suggest a difficulty for `sharesPerMinute`; channels with an empty
    /// user_identity mine as `defaultUser`; a device may have `maximumChannelsPerDevice` channels open (each may be a
    /// session upstream).
    public init(sharesPerMinute: Double, defaultUser: String, maximumChannelsPerDevice: Int = 256) {
        self.sharesPerMinute = sharesPerMinute
        self.defaultUser = defaultUser
        self.maximumChannelsPerDevice = maximumChannelsPerDevice
    }

    /// Channels open or opening.
    public var channelCount: Int { channels.count }

    // MARK: - Devices

    /// A mining message from `device` (after its SetupConnection).
    public mutating func fromDevice(_ device: Device, _ message: Sv2Message) -> [Output] {
        switch message {
        case let .openStandardMiningChannel(request):
            return open(device, request)
        case let .openExtendedMiningChannel(request):
            return [.device(device, .openMiningChannelError(OpenMiningChannelError(
                requestID: request.requestID, errorCode: "extended-channels-unsupported")))]
        case let .submitSharesStandard(share):
            return submit(device, share)
        case let .submitSharesExtended(share):
            return [.device(device, .submitSharesError(SubmitSharesError(
                channelID: share.channelID, sequenceNumber: share.sequenceNumber, errorCode: "invalid-channel-id")))]
        case let .updateChannel(update):
            let key = Key(device: device, channelID: update.channelID)
            guard var channel = channels[key] else {
                return [.device(device, .updateChannelError(UpdateChannelError(channelID: update.channelID, errorCode: "invalid-channel-id")))]
            }
            channel.maximumTarget = update.maximumTarget
            channels[key] = channel
            guard let work = upstreams[channel.user]?.work else { return [] }
            return retarget(key, to: work.target)
        case let .closeChannel(close):
            return remove(Key(device: device, channelID: close.channelID))
        case let .setCustomMiningJob(job):
            return [.device(device, .setCustomMiningJobError(job.unsupported))]
        default:
            return [.log(SessionLog(.warning, "\(message.name) is not a mining client message: ignored"))]
        }
    }

    /// `device` disconnected: its channels close; users left without channels end their sessions.
    public mutating func deviceGone(_ device: Device) -> [Output] {
        nextChannelID[device] = nil
        return channels.keys.filter { $0.device == device }.sorted { $0.channelID < $1.channelID }.flatMap { remove($0) }
    }

    // MARK: - Upstream sessions

    /// New work from `user`'s session (a job, or a harder target for the current one).
    public mutating func work(user: String, _ work: MiningWork) -> [Output] {
        guard var upstream = upstreams[user] else { return [] }
        upstream.connected = true
        let previous = upstream.work
        upstream.work = work
        if let previous, previous.id == work.id {
            // The same job with a new target.
            if let id = upstream.jobs.first(where: { $0.value.id == work.id })?.key { upstream.jobs[id] = work }
            upstreams[user] = upstream
            return upstream.channels.sorted(by: Self.order).flatMap { retarget($0, to: work.target) }
        }
        let jobID = upstream.nextJobID
        upstream.nextJobID = upstream.nextJobID == UInt32.max ? 1 : upstream.nextJobID + 1
        let clean = upstream.cleanPending || upstream.announcedPrevHash != work.previousBlockHash
        upstream.cleanPending = false
        if clean {
            upstream.staleJobIDs.formUnion(upstream.jobs.keys)
            if upstream.staleJobIDs.count > 4 * Self.jobLimit { upstream.staleJobIDs = Set(upstream.jobs.keys) }
            upstream.jobs = [:]
            upstream.announcedPrevHash = work.previousBlockHash
        }
        upstream.jobs[jobID] = work
        if upstream.jobs.count > Self.jobLimit, let oldest = upstream.jobs.keys.min(by: { jobID &- $0 > jobID &- $1 }) {
            upstream.jobs[oldest] = nil
        }
        upstreams[user] = upstream
        var outputs = [Output]()
        for key in upstream.channels.sorted(by: Self.order) {
            guard let channel = channels[key] else { continue }
            if let requestID = channel.pendingRequestID {
                outputs += answerOpen(key, requestID: requestID, work: work)
            } else {
                outputs += retarget(key, to: work.target)
            }
            outputs += job(jobID, work: work, clean: clean || channel.pendingRequestID != nil, for: key)
            channels[key]?.pendingRequestID = nil
        }
        return outputs
    }

    /// `user`'s session saw clean_jobs: its next work voids the earlier jobs (SetNewPrevHash to the devices).
    public mutating func cleaned(user: String) {
        upstreams[user]?.cleanPending = true
    }

    /// The session took `tag`'s share as the mining.submit of `requestID`, or dropped it (nil: its job was voided).
    public mutating func submitted(user: String, tag: ShareTag, requestID: UInt64?) -> [Output] {
        guard let requestID else {
            return [.device(tag.device, .submitSharesError(SubmitSharesError(
                channelID: tag.channelID, sequenceNumber: tag.sequenceNumber, errorCode: "stale-share")))]
        }
        guard upstreams[user] != nil else { return [] }
        upstreams[user]?.pending[requestID] = tag
        if let count = upstreams[user]?.pending.count, count > Self.pendingLimit, let oldest = upstreams[user]?.pending.keys.min() {
            upstreams[user]?.pending[oldest] = nil
        }
        return []
    }

    /// The pool answered `user`'s mining.submit `requestID`.
    public mutating func answered(user: String, requestID: UInt64, accepted: Bool, reason: String?) -> [Output] {
        guard let tag = upstreams[user]?.pending.removeValue(forKey: requestID) else { return [] }
        guard channels[Key(device: tag.device, channelID: tag.channelID)] != nil else { return [] }
        if accepted {
            return [.device(tag.device, .submitSharesSuccess(SubmitSharesSuccess(
                channelID: tag.channelID, lastSequenceNumber: tag.sequenceNumber, newSubmitsAcceptedCount: 1, newSharesSum: tag.weight)))]
        }
        let code = Self.errorCode(reason ?? "")
        return [
            .device(tag.device, .submitSharesError(SubmitSharesError(channelID: tag.channelID, sequenceNumber: tag.sequenceNumber, errorCode: code))),
            .log(SessionLog(.info, "the pool rejected a share: \(reason ?? "")", ["user": user, "code": code.description])),
        ]
    }

    /// `user`'s connection ended: its channels stay; shares wait for the next connection's work, whose first job
    /// is clean. Answers still owed are lost with the connection: the devices hear `upstream-unavailable`.
    public mutating func upstreamLost(user: String) -> [Output] {
        guard var upstream = upstreams[user] else { return [] }
        let owed = upstream.pending.values.sorted { ($0.channelID, $0.sequenceNumber) < ($1.channelID, $1.sequenceNumber) }
        upstream.pending = [:]
        upstream.connected = false
        upstream.work = nil
        upstream.staleJobIDs.formUnion(upstream.jobs.keys)
        upstream.jobs = [:]
        upstream.announcedPrevHash = nil
        upstreams[user] = upstream
        return owed.map { tag in
            .device(tag.device, .submitSharesError(SubmitSharesError(
                channelID: tag.channelID, sequenceNumber: tag.sequenceNumber, errorCode: GroupProxy<Device>.upstreamUnavailable)))
        }
    }

    /// `user`'s session cannot mine (the pool refused the user): its channels close, opens waiting are refused.
    public mutating func refused(user: String, reason: String) -> [Output] {
        guard let upstream = upstreams.removeValue(forKey: user) else { return [] }
        var outputs: [Output] = [.log(SessionLog(.warning, "the pool refused user \"\(user)\": \(reason)", ["user": user]))]
        for key in upstream.channels.sorted(by: Self.order) {
            guard let channel = channels.removeValue(forKey: key) else { continue }
            released(key.device)
            if let requestID = channel.pendingRequestID {
                outputs.append(.device(key.device, .openMiningChannelError(OpenMiningChannelError(requestID: requestID, errorCode: "unknown-user"))))
            } else {
                outputs.append(.device(key.device, .closeChannel(CloseChannel(channelID: key.channelID, reasonCode: "unknown-user"))))
            }
        }
        outputs.append(.disconnect(user: user))
        return outputs
    }

    // MARK: - Internals

    private mutating func open(_ device: Device, _ request: OpenStandardMiningChannel) -> [Output] {
        guard openChannels[device, default: 0] < maximumChannelsPerDevice else {
            return [.device(device, .openMiningChannelError(OpenMiningChannelError(requestID: request.requestID, errorCode: "too-many-channels")))]
        }
        openChannels[device, default: 0] += 1
        let id = nextChannelID[device] ?? 1
        nextChannelID[device] = id &+ 1
        let key = Key(device: device, channelID: id)
        let user = request.userIdentity.description.isEmpty ? defaultUser : request.userIdentity.description
        var outputs = [Output]()
        var upstream = upstreams[user] ?? Upstream()
        if upstreams[user] == nil {
            let rate = Double(request.nominalHashRate)
            let difficulty = rate.isFinite && rate > 0
                ? MiningTarget.difficulty(target: MiningTarget.target(hashrate: rate, sharesPerMinute: sharesPerMinute)) : nil
            outputs.append(.connect(user: user, suggestedDifficulty: difficulty))
        }
        let index = upstream.nextIndex
        upstream.nextIndex += 1
        upstream.channels.insert(key)
        upstreams[user] = upstream
        channels[key] = Channel(
            user: user, index: index, nominalHashRate: request.nominalHashRate, maximumTarget: request.maxTarget, pendingRequestID: request.requestID)
        guard let work = upstream.work, let jobID = upstream.jobs.first(where: { $0.value.id == work.id })?.key else {
            return outputs + [.log(SessionLog(.info, "channel waits for the pool's first job", ["channel": "\(id)", "user": user]))]
        }
        channels[key]?.pendingRequestID = nil
        return outputs + answerOpen(key, requestID: request.requestID, work: work) + job(jobID, work: work, clean: true, for: key)
    }

    /// Every device channel (standard) as monitoring shows it, with its device; share counters left empty (the relay
    /// keeps them). Each channel's extranonce is its place in its user's Sv1 extranonce2.
    public func monitoredChannels() -> [(device: Device, channel: ChannelSnapshot)] {
        channels.map { key, channel in
            (key.device, ChannelSnapshot(
                channelID: key.channelID, kind: .standard, userIdentity: channel.user, nominalHashrate: channel.nominalHashRate,
                target: channel.target ?? channel.maximumTarget, requestedMaximumTarget: channel.maximumTarget, extranoncePrefix: [],
                fullExtranonceSize: 0, rollableExtranonceSize: 0, versionRolling: nil, expectedSharesPerMinute: Float(sharesPerMinute),
                shares: ShareCounters()))
        }
    }

    /// How many Sv1 pool connections (one per user) are up, and how many there are.
    public var upstreamConnections: (connected: Int, total: Int) {
        (upstreams.values.filter(\.connected).count, upstreams.count)
    }

    private mutating func answerOpen(_ key: Key, requestID: UInt32, work: MiningWork) -> [Output] {
        guard let channel = channels[key], let extranonce2 = Self.extranonce2(channel.index, size: work.merkleRoot.extranonceSize) else {
            let outputs = remove(key)
            return outputs + [.device(key.device, .openMiningChannelError(OpenMiningChannelError(requestID: requestID, errorCode: "too-many-channels")))]
        }
        let target = min(work.target, channel.maximumTarget)
        channels[key]?.target = target
        return [
            .device(key.device, .openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                requestID: requestID, channelID: key.channelID, target: target, extranoncePrefix: extranonce2, groupChannelID: 0))),
            .log(SessionLog(.info, "channel open", ["channel": "\(key.channelID)", "user": channel.user])),
        ]
    }

    /// NewMiningJob for `key` (future when `clean`, then the SetNewPrevHash that makes it current).
    private mutating func job(_ jobID: UInt32, work: MiningWork, clean: Bool, for key: Key) -> [Output] {
        guard let channel = channels[key], case let .coinbase(coinbase) = work.merkleRoot,
              let extranonce2 = Self.extranonce2(channel.index, size: coinbase.extranonceSize)
        else { return [] }
        let root = coinbase.merkleRoot(extranonce: extranonce2, scratch: &scratch)
        let job = NewMiningJob(channelID: key.channelID, jobID: jobID, minNtime: clean ? nil : work.time, version: work.version, merkleRoot: root)
        guard clean else { return [.device(key.device, .newMiningJob(job))] }
        return [
            .device(key.device, .newMiningJob(job)),
            .device(key.device, .setNewPrevHash(SetNewPrevHash(
                channelID: key.channelID, jobID: jobID, prevHash: work.previousBlockHash, minNtime: work.time, nbits: work.bits))),
        ]
    }

    private mutating func retarget(_ key: Key, to poolTarget: U256) -> [Output] {
        guard let channel = channels[key], channel.pendingRequestID == nil else { return [] }
        let target = min(poolTarget, channel.maximumTarget)
        guard channel.target != target else { return [] }
        channels[key]?.target = target
        return [.device(key.device, .setTarget(SetTarget(channelID: key.channelID, maximumTarget: target)))]
    }

    private func submit(_ device: Device, _ share: SubmitSharesStandard) -> [Output] {
        func refuse(_ code: Sv2String) -> [Output] {
            [.device(device, .submitSharesError(SubmitSharesError(channelID: share.channelID, sequenceNumber: share.sequenceNumber, errorCode: code)))]
        }
        guard let channel = channels[Key(device: device, channelID: share.channelID)], channel.pendingRequestID == nil,
              let upstream = upstreams[channel.user]
        else { return refuse("invalid-channel-id") }
        guard upstream.connected else { return refuse(GroupProxy<Device>.upstreamUnavailable) }
        guard let work = upstream.jobs[share.jobID] else {
            return refuse(upstream.staleJobIDs.contains(share.jobID) ? "stale-share" : "invalid-job-id")
        }
        guard let extranonce2 = Self.extranonce2(channel.index, size: work.merkleRoot.extranonceSize) else { return refuse("invalid-channel-id") }
        let found = FoundShare(workID: work.id, nonce: share.nonce, time: share.ntime, version: share.version, extranonce: extranonce2)
        guard (share.version ^ work.version) & ~work.versionRollingMask == 0 else { return refuse("version-rolling-not-allowed") }
        let target = channel.target ?? work.target
        guard let assessment = work.assess(found, target: target) else { return refuse("invalid-timestamp") }
        guard assessment.isSubmittable else { return refuse("difficulty-too-low") }
        let difficulty = MiningTarget.difficulty(target: target).rounded()
        let weight = difficulty < 0x1p64 ? UInt64(max(1, difficulty)) : .max
        return [.submit(user: channel.user, share: found, tag: ShareTag(
            device: device, channelID: share.channelID, sequenceNumber: share.sequenceNumber, weight: weight))]
    }

    private mutating func remove(_ key: Key) -> [Output] {
        guard let channel = channels.removeValue(forKey: key) else { return [] }
        released(key.device)
        upstreams[channel.user]?.channels.remove(key)
        guard upstreams[channel.user]?.channels.isEmpty == true else { return [] }
        upstreams[channel.user] = nil
        return [.disconnect(user: channel.user)]
    }

    /// One channel of `device` is gone.
    private mutating func released(_ device: Device) {
        if let count = openChannels[device] { openChannels[device] = count > 1 ? count - 1 : nil }
    }

    /// Channel `index`'s extranonce2: the index big-endian in `size` bytes, nil when it does not fit.
    static func extranonce2(_ index: UInt64, size: Int) -> [UInt8]? {
        guard size >= 0, size >= 8 || index >> (8 * UInt64(size)) == 0 else { return nil }
        return (0..<size).map { position in
            let shift = 8 * (size - 1 - position)
            return shift >= 64 ? 0 : UInt8(truncatingIfNeeded: index >> UInt64(shift))
        }
    }

    /// The Sv2 error code for a Stratum V1 rejection: by the code it starts with (20-25, as pools send them), else by
    /// the words of its message.
    static func errorCode(_ reason: String) -> Sv2String {
        let text = reason.lowercased()
        let code = Int(text.prefix { $0.isNumber })
        switch code {
        case 21: return "stale-share"
        case 22: return "duplicate-share"
        case 23: return "difficulty-too-low"
        case 24: return "unauthorized-worker"
        case 25: return "not-subscribed"
        default: break
        }
        if text.contains("stale") || text.contains("job not found") || text.contains("old job") { return "stale-share" }
        if text.contains("duplicate") { return "duplicate-share" }
        if text.contains("low difficulty") || text.contains("above target") || text.contains("high-hash") { return "difficulty-too-low" }
        if text.contains("unauthorized") || text.contains("not authorized") { return "unauthorized-worker" }
        return "invalid-share"
    }

    private static func order(_ lhs: Key, _ rhs: Key) -> Bool { lhs.channelID < rhs.channelID }
}
