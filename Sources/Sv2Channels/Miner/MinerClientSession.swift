import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions

/// The miner's side of one Mining Protocol connection (spec 5) as a state machine: messages in, actions out.
///
/// It sends SetupConnection, opens ``MinerSessionConfiguration/channelCount`` channels (channel `i` is mined by
/// lane `i` of a hashing engine), turns jobs into ``MiningWork`` for the lanes, and found shares into
/// SubmitSharesStandard/Extended. Jobs addressed to a group channel are derived for every member: a standard
/// member gets a fixed merkle root from coinbase_tx_prefix + extranonce_prefix + coinbase_tx_suffix, an extended
/// member a coinbase with its extranonce_prefix and room for its own extranonce. Future jobs wait for the
/// SetNewPrevHash that names them. It does no I/O and reads no clock; one session serves one connection, and the
/// next connection's session continues its ``statistics`` and work ids.
public struct MinerClientSession: MinerSession {
    /// Mining Protocol's number in SetupConnection.protocol.
    public static let protocolNumber: UInt8 = 0
    /// The protocol version spoken.
    public static let version: UInt16 = 2
    /// SetupConnection flag REQUIRES_STANDARD_JOBS (spec 5.3.1).
    public static let requiresStandardJobsFlag: UInt32 = 1 << 0
    /// SetupConnection.Success flag REQUIRES_FIXED_VERSION: the version may not be rolled.
    public static let requiresFixedVersionFlag: UInt32 = 1 << 0
    /// SetupConnection.Success flag REQUIRES_EXTENDED_CHANNELS: standard channels will be refused.
    public static let requiresExtendedChannelsFlag: UInt32 = 1 << 1
    /// Future jobs kept per channel while they wait for their SetNewPrevHash.
    static let futureJobLimit = 8
    /// Works per channel whose shares are still accepted for submission (jobs valid since the last SetNewPrevHash).
    static let issuedWorkLimit = 32

    /// What the I/O glue must do, in order; `.reconnect` answers the pool's Reconnect (spec 3.6.5).
    public typealias Action = MinerSessionAction<Sv2TaggedMessage, MinerSessionEvent>
    /// Messages with their TLV fields (extension 0x0002 on SubmitSharesExtended).
    public typealias Inbound = Sv2TaggedMessage
    /// How long the pool has to answer RequestExtensions before the miner opens its channels without extensions
    /// (a pool that does not know extension 0x0001 ignores the request, as the spec has it).
    public static let extensionAnswerTimeout = Duration.seconds(2)
    /// What the session reports for the log.
    public typealias Event = MinerSessionEvent

    private enum State: Sendable {
        case idle
        case awaitingSetup
        /// RequestExtensions sent after `success`; channels open once the pool answers or at `deadline`.
        case negotiating(success: SetupConnectionSuccess, deadline: Timestamp)
        case setUp
        case closed
    }

    /// A job of a channel, its merkle root already derived for that channel.
    private struct Job: Sendable {
        var version: UInt32
        var versionRollingAllowed: Bool
        var merkleRoot: MerkleRootSource
    }

    private struct PrevHash: Sendable {
        var hash: U256
        var minNtime: UInt32
        var nbits: UInt32
    }

    private struct Channel: Sendable {
        let lane: Int
        let kind: MiningChannelKind
        let extranonceSize: Int
        var groupID: UInt32
        var target: U256
        var extranoncePrefix: [UInt8]
        /// Future jobs by job id, oldest first in `futureOrder`.
        var futureJobs: [UInt32: Job] = [:]
        var futureOrder: [UInt32] = []
        var prevHash: PrevHash?
        var currentWork: MiningWork?
        /// Works handed out since the last SetNewPrevHash, by work id, with their job id.
        var issued: [UInt64: (jobID: UInt32, work: MiningWork)] = [:]
        var nextSequenceNumber: UInt32 = 0
        /// Shares sent and not yet answered, oldest first.
        var unanswered: [AcknowledgedShare] = []
        /// The lane's wait after a block it found.
        var pause = BlockPause()
        /// What monitoring shows of the channel's shares.
        var shares = ShareCounters()
        /// The lowest share hash sent (its best difficulty).
        var bestHash: U256?

        /// A share left on this channel.
        mutating func sent(sequenceNumber: UInt32, hash: U256, block: Bool) {
            shares.submitted &+= 1
            shares.lastSequenceNumber = sequenceNumber
            if block { shares.blocksFound &+= 1 }
            if bestHash.map({ hash < $0 }) ?? true { bestHash = hash }
        }

        /// The pool acknowledged shares of this channel.
        mutating func acknowledge(_ success: SubmitSharesSuccess) {
            shares.accepted &+= success.newSubmitsAcceptedCount
            shares.acknowledgedWorkSum &+= success.newSharesSum
            shares.workSum += Double(success.newSubmitsAcceptedCount) * MiningTarget.difficulty(target: target)
            shares.lastBatchAccepted = success.newSubmitsAcceptedCount
            shares.lastBatchWorkSum = success.newSharesSum
        }
    }

    /// The configuration it was made with.
    public let configuration: MinerSessionConfiguration
    /// Share counts, continued from the previous connection's session.
    private var counters: MinerStatistics

    /// Share counts, to continue in the next connection's session; a session still waiting for the answer to
    /// RequestExtensions counts a negotiation lost (``MinerStatistics/negotiationsLost``), so that the next session
    /// does not ask again a pool that dropped the connection over it.
    public var statistics: MinerStatistics {
        var statistics = counters
        if case .negotiating = state { statistics.negotiationsLost += 1 }
        return statistics
    }
    /// The id the next work handed out gets; pass it to the next connection's session so that a late share of this
    /// connection can never be taken for one of the next.
    public private(set) var nextWorkID: UInt64

    private var state = State.idle
    private var fixedVersion = false
    /// Whether the pool confirmed extension 0x0002: extended shares carry the worker's user_identity.
    public private(set) var tracksWorkers = false
    private var pendingOpens: [UInt32: Int] = [:]
    private var channels: [UInt32: Channel] = [:]
    private var announcedPrevHash: U256?

    /// A session that has not sent anything yet.
    public init(configuration: MinerSessionConfiguration, statistics: MinerStatistics = MinerStatistics(), firstWorkID: UInt64 = 1) {
        self.configuration = configuration
        counters = statistics
        self.nextWorkID = firstWorkID
    }

    /// True once SetupConnection succeeded and extensions were negotiated (the channels are opening), until the
    /// session closes.
    public var isSetUp: Bool {
        if case .setUp = state { return true }
        return false
    }

    /// The ids of the open channels, by lane.
    public var openChannels: [Int: UInt32] {
        Dictionary(channels.map { ($0.value.lane, $0.key) }, uniquingKeysWith: min)
    }

    /// Starts the connection: SetupConnection (spec 3.6.1) for the Mining Protocol with the flags of 5.3.1.
    public mutating func start(now: Timestamp) -> [Action] {
        guard case .idle = state else { return [] }
        state = .awaitingSetup
        let setup = SetupConnection(
            protocol: Self.protocolNumber, minVersion: Self.version, maxVersion: Self.version,
            flags: configuration.requiresStandardJobs ? Self.requiresStandardJobsFlag : 0,
            endpointHost: Sv2String(configuration.endpointHost), endpointPort: configuration.endpointPort,
            vendor: Sv2String(configuration.vendor), hardwareVersion: Sv2String(configuration.hardwareVersion),
            firmware: Sv2String(configuration.firmware), deviceID: Sv2String(configuration.deviceID))
        return [.send(.setupConnection(setup))]
    }

    /// Handles one message from the pool, without TLV fields.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        receive(Sv2TaggedMessage(message), now: now)
    }

    /// Handles one message from the pool.
    public mutating func receive(_ tagged: Sv2TaggedMessage, now: Timestamp) -> [Action] {
        let message = tagged.message
        switch state {
        case .idle, .closed:
            return []
        case let .negotiating(success, _):
            switch message {
            case let .requestExtensionsSuccess(answer):
                tracksWorkers = answer.supportedExtensions.contains(Sv2TLV.userIdentityType.extensionType)
                return [.event(.extensionsNegotiated(
                    tracksWorkers: tracksWorkers, detail: "RequestExtensions.Success \(answer.supportedExtensions)"))] + openChannels(success)
            case let .requestExtensionsError(answer):
                return [.event(.extensionsNegotiated(
                    tracksWorkers: false, detail: "RequestExtensions.Error: unsupported \(answer.unsupportedExtensions)"))] + openChannels(success)
            case let .reconnect(reconnect):
                return moved(reconnect)
            default:
                return [.event(.ignored("\(message.name) before RequestExtensions was answered"))]
            }
        case .awaitingSetup:
            switch message {
            case let .setupConnectionSuccess(success):
                return setUp(success, now: now)
            case let .setupConnectionError(error):
                state = .closed
                return [.fail("the pool refused SetupConnection: \(Self.text(error.errorCode))")]
            case let .reconnect(reconnect):
                return moved(reconnect)
            default:
                return [.event(.ignored("\(message.name) before SetupConnection.Success"))]
            }
        case .setUp:
            return receiveWhileSetUp(message)
        }
    }

    private mutating func receiveWhileSetUp(_ message: Sv2Message) -> [Action] {
        switch message {
        case let .openStandardMiningChannelSuccess(success):
            return opened(
                requestID: success.requestID, channelID: success.channelID, kind: .standard, target: success.target,
                extranoncePrefix: success.extranoncePrefix, extranonceSize: 0, groupID: success.groupChannelID)
        case let .openExtendedMiningChannelSuccess(success):
            return opened(
                requestID: success.requestID, channelID: success.channelID, kind: .extended, target: success.target,
                extranoncePrefix: success.extranoncePrefix, extranonceSize: Int(success.extranonceSize),
                groupID: success.groupChannelID)
        case let .openMiningChannelError(error):
            guard let lane = pendingOpens.removeValue(forKey: error.requestID) else {
                return [.event(.ignored("OpenMiningChannel.Error for unknown request id \(error.requestID)"))]
            }
            return [.event(.channelRefused(lane: lane, reason: Self.text(error.errorCode)))] + failIfNothingOpen()
        case let .newMiningJob(job):
            guard let channel = channels[job.channelID], channel.kind == .standard else {
                return [.event(.ignored("NewMiningJob for channel \(job.channelID), which is not an open standard channel"))]
            }
            let derived = Job(version: job.version, versionRollingAllowed: true, merkleRoot: .fixed(job.merkleRoot))
            return accept(derived, jobID: job.jobID, minNtime: job.minNtime, channelID: job.channelID, channel: channel)
        case let .newExtendedMiningJob(job):
            return extendedJob(job)
        case let .setNewPrevHash(prevHash):
            return newPrevHash(prevHash)
        case let .setTarget(setTarget):
            return retarget(setTarget)
        case let .setExtranoncePrefix(update):
            guard channels[update.channelID] != nil else {
                return [.event(.ignored("SetExtranoncePrefix for unknown channel \(update.channelID)"))]
            }
            channels[update.channelID]?.extranoncePrefix = update.extranoncePrefix
            return []
        case let .setGroupChannel(group):
            let unknown = group.channelIDs.filter { channels[$0] == nil }
            for id in group.channelIDs { channels[id]?.groupID = group.groupChannelID }
            return unknown.isEmpty ? [] : [.event(.ignored("SetGroupChannel names unknown channels \(unknown)"))]
        case let .closeChannel(close):
            return closed(close)
        case let .submitSharesSuccess(success):
            guard channels[success.channelID] != nil else {
                return [.event(.ignored("SubmitShares.Success for unknown channel \(success.channelID)"))]
            }
            counters.accepted &+= Int(success.newSubmitsAcceptedCount)
            channels[success.channelID]?.acknowledge(success)
            let unanswered = channels[success.channelID]?.unanswered ?? []
            let acknowledged = Array(unanswered.prefix { Int32(bitPattern: $0.sequenceNumber &- success.lastSequenceNumber) <= 0 })
            channels[success.channelID]?.unanswered.removeFirst(acknowledged.count)
            return [.event(.sharesAccepted(channelID: success.channelID, count: success.newSubmitsAcceptedCount, shares: acknowledged))]
        case let .submitSharesError(error):
            guard channels[error.channelID] != nil else {
                return [.event(.ignored("SubmitShares.Error for unknown channel \(error.channelID)"))]
            }
            counters.rejected += 1
            channels[error.channelID]?.shares.rejectedByReason[Self.text(error.errorCode), default: 0] &+= 1
            channels[error.channelID]?.unanswered.removeAll { $0.sequenceNumber == error.sequenceNumber }
            return [.event(.shareRejected(
                channelID: error.channelID, sequenceNumber: error.sequenceNumber, errorCode: Self.text(error.errorCode)))]
        case let .reconnect(reconnect):
            return moved(reconnect)
        default:
            return [.event(.ignored("\(message.name) is not a message a pool sends to a miner"))]
        }
    }

    /// A share the engine found on `lane`: SubmitSharesStandard/Extended, or nothing when its job is no longer valid,
    /// its hash is above both its job's target and the network target, or the lane waits after a block.
    public mutating func submit(_ share: FoundShare, lane: Int) -> [Action] {
        submit(share, lane: lane, worker: nil)
    }

    /// ``submit(_:lane:)`` for a share of `worker` (a translator's Sv1 miner): with extension 0x0002 negotiated its
    /// SubmitSharesExtended carries that worker's user_identity (nil: the configured worker's).
    public mutating func submit(_ share: FoundShare, lane: Int, worker: String?) -> [Action] {
        guard case .setUp = state, case let (channelID, channel)? = channels.first(where: { $0.value.lane == lane }),
              let issued = channel.issued[share.workID], !channel.pause.isPaused
        else {
            counters.discarded += 1
            return []
        }
        guard let assessment = issued.work.assess(share, target: issued.work.target) else {
            counters.discarded += 1
            return [.event(.ignored("a share that does not fit work \(share.workID) (engine error)"))]
        }
        // Each share is held to its own job's target (spec 5.3.21); a block is sent whatever the target.
        guard assessment.isSubmittable else {
            counters.discarded += 1
            return []
        }
        var actions = [Action]()
        if assessment.isBlock {
            counters.blocks += 1
            actions.append(.event(.blockFound(channelID: channelID, hash: assessment.hash)))
            if configuration.pausesAfterBlocks, channels[channelID]?.pause.blockFound() == true { actions.append(.setWork(lane: channel.lane, nil)) }
        }
        let sequenceNumber = channel.nextSequenceNumber
        channels[channelID]?.nextSequenceNumber = sequenceNumber &+ 1
        if channel.unanswered.count >= Self.unansweredLimit { channels[channelID]?.unanswered.removeFirst() }
        channels[channelID]?.unanswered.append(AcknowledgedShare(sequenceNumber: sequenceNumber, hash: assessment.hash))
        counters.submitted += 1
        channels[channelID]?.sent(sequenceNumber: sequenceNumber, hash: assessment.hash, block: assessment.isBlock)
        switch channel.kind {
        case .standard:
            actions.append(.send(.submitSharesStandard(SubmitSharesStandard(
                channelID: channelID, sequenceNumber: sequenceNumber, jobID: issued.jobID, nonce: share.nonce,
                ntime: share.time, version: share.version))))
        case .extended:
            let tlvs = tracksWorkers ? [Sv2TLV.userIdentity(truncating: worker ?? configuration.worker ?? configuration.userIdentity)] : []
            actions.append(.send(Sv2TaggedMessage(.submitSharesExtended(SubmitSharesExtended(
                channelID: channelID, sequenceNumber: sequenceNumber, jobID: issued.jobID, nonce: share.nonce,
                ntime: share.time, version: share.version, extranonce: share.extranonce)), tlvs: tlvs)))
        }
        return actions
    }

    /// Shares remembered per channel until the pool answers them (a pool that never does costs no more).
    static let unansweredLimit = 4096

    /// Shares sent that the pool has neither accepted nor rejected yet, over every channel.
    public var unansweredShares: Int { channels.values.reduce(0) { $0 + $1.unanswered.count } }

    /// Ends the session: CloseChannel for every open channel (the miner is shutting down).
    public mutating func close() -> [Action] {
        guard case .setUp = state else {
            state = .closed
            return []
        }
        state = .closed
        return channels.keys.sorted().map { .send(.closeChannel(CloseChannel(channelID: $0, reasonCode: "shutdown"))) }
    }

    // MARK: - Monitoring

    /// Every open channel as monitoring shows it, declaring `nominalHashRate` (split evenly over the channels).
    public func monitoredChannels(nominalHashRate: Float) -> [ChannelSnapshot] {
        let rate = nominalHashRate / Float(max(channels.count, 1))
        return channels.map { id, channel in
            var shares = channel.shares
            shares.bestDifficulty = channel.bestHash.map { MiningTarget.difficulty(target: $0) } ?? 0
            return ChannelSnapshot(
                channelID: id, kind: channel.kind == .standard ? .standard : .extended, userIdentity: configuration.userIdentity,
                nominalHashrate: rate, target: channel.target, requestedMaximumTarget: .max, extranoncePrefix: channel.extranoncePrefix,
                fullExtranonceSize: channel.extranoncePrefix.count + channel.extranonceSize,
                rollableExtranonceSize: UInt16(clamping: channel.extranonceSize), versionRolling: !fixedVersion, expectedSharesPerMinute: 0,
                shares: shares)
        }
    }

    // MARK: - Setup and channels

    private mutating func setUp(_ success: SetupConnectionSuccess, now: Timestamp) -> [Action] {
        if success.flags & Self.requiresExtendedChannelsFlag != 0, configuration.channelKind == .standard {
            state = .closed
            return [.fail("the pool accepts extended channels only (REQUIRES_EXTENDED_CHANNELS); open extended channels")]
        }
        guard configuration.worker != nil, configuration.channelKind == .extended, counters.negotiationsLost == 0 else {
            return openChannels(success)
        }
        // Extension 0x0001: RequestExtensions right after SetupConnection.Success, the answer awaited before the
        // channels open.
        state = .negotiating(success: success, deadline: now + Self.extensionAnswerTimeout)
        return [.send(.requestExtensions(RequestExtensions(requestID: 0, requestedExtensions: [Sv2TLV.userIdentityType.extensionType])))]
    }

    /// SetupConnection succeeded (and extensions were negotiated): the channels open.
    private mutating func openChannels(_ success: SetupConnectionSuccess) -> [Action] {
        state = .setUp
        fixedVersion = success.flags & Self.requiresFixedVersionFlag != 0
        let count = max(configuration.channelCount, 1)
        let hashRate = configuration.nominalHashRate / Float(count)
        var actions: [Action] = [.event(.setUp(flags: success.flags))]
        for lane in 0..<count {
            let requestID = UInt32(truncatingIfNeeded: lane)
            pendingOpens[requestID] = lane
            let user = Sv2String(configuration.userIdentity)
            switch configuration.channelKind {
            case .standard:
                actions.append(.send(.openStandardMiningChannel(OpenStandardMiningChannel(
                    requestID: requestID, userIdentity: user, nominalHashRate: hashRate, maxTarget: .max))))
            case .extended:
                actions.append(.send(.openExtendedMiningChannel(OpenExtendedMiningChannel(
                    requestID: requestID, userIdentity: user, nominalHashRate: hashRate, maxTarget: .max,
                    minExtranonceSize: configuration.minimumExtranonceSize))))
            }
        }
        return actions
    }

    private mutating func opened(
        requestID: UInt32, channelID: UInt32, kind: MiningChannelKind, target: U256, extranoncePrefix: [UInt8],
        extranonceSize: Int, groupID: UInt32
    ) -> [Action] {
        guard let lane = pendingOpens.removeValue(forKey: requestID) else {
            return [.event(.ignored("a channel opened for unknown request id \(requestID)"))]
        }
        guard channels[channelID] == nil else {
            return [.event(.channelRefused(lane: lane, reason: "the pool reused channel id \(channelID)"))] + failIfNothingOpen()
        }
        // SubmitSharesExtended.extranonce is a B0_32.
        guard extranonceSize <= 32 else {
            return [
                .send(.closeChannel(CloseChannel(channelID: channelID, reasonCode: "extranonce-size-too-large"))),
                .event(.channelRefused(lane: lane, reason: "extranonce_size \(extranonceSize) exceeds 32")),
            ] + failIfNothingOpen()
        }
        channels[channelID] = Channel(
            lane: lane, kind: kind, extranonceSize: extranonceSize, groupID: groupID, target: target,
            extranoncePrefix: extranoncePrefix)
        return [.event(.channelOpened(
            lane: lane, channelID: channelID, kind: kind, target: target, extranoncePrefix: extranoncePrefix,
            extranonceSize: extranonceSize, groupChannelID: groupID))]
    }

    private mutating func failIfNothingOpen() -> [Action] {
        guard channels.isEmpty, pendingOpens.isEmpty else { return [] }
        state = .closed
        return [.fail("no mining channel could be opened")]
    }

    private mutating func closed(_ close: CloseChannel) -> [Action] {
        let ids = addressedChannels(close.channelID)
        guard !ids.isEmpty else { return [.event(.ignored("CloseChannel for unknown channel \(close.channelID)"))] }
        var actions = [Action]()
        for id in ids {
            guard let channel = channels.removeValue(forKey: id) else { continue }
            actions.append(.setWork(lane: channel.lane, nil))
            actions.append(.event(.channelClosed(lane: channel.lane, channelID: id, reason: Self.text(close.reasonCode))))
        }
        if channels.isEmpty, pendingOpens.isEmpty {
            state = .closed
            actions.append(.close("the pool closed every channel"))
        }
        return actions
    }

    private mutating func moved(_ reconnect: Reconnect) -> [Action] {
        state = .closed
        let host = reconnect.newHost.bytes.isEmpty ? configuration.endpointHost : Self.text(reconnect.newHost)
        let port = reconnect.newPort == 0 ? Int(configuration.endpointPort) : Int(reconnect.newPort)
        return [.reconnect(host: host, port: port)]
    }

    /// The channel `id` itself, or the members of group `id`; empty when neither exists.
    private func addressedChannels(_ id: UInt32) -> [UInt32] {
        if channels[id] != nil { return [id] }
        return channels.filter { $0.value.groupID == id }.keys.sorted()
    }

    // MARK: - Jobs

    private mutating func extendedJob(_ job: NewExtendedMiningJob) -> [Action] {
        let ids = addressedChannels(job.channelID)
        guard !ids.isEmpty else {
            return [.event(.ignored("NewExtendedMiningJob for unknown channel \(job.channelID)"))]
        }
        var actions = [Action]()
        for id in ids {
            guard let channel = channels[id] else { continue }
            let merkleRoot: MerkleRootSource
            switch channel.kind {
            case .standard:
                merkleRoot = .fixed(Merkle.root(
                    coinbase: job.coinbaseTxPrefix + channel.extranoncePrefix + job.coinbaseTxSuffix, path: job.merklePath))
            case .extended:
                merkleRoot = .coinbase(CoinbaseTemplate(
                    prefix: job.coinbaseTxPrefix + channel.extranoncePrefix, extranonceSize: channel.extranonceSize,
                    suffix: job.coinbaseTxSuffix, merklePath: job.merklePath))
            }
            let derived = Job(version: job.version, versionRollingAllowed: job.versionRollingAllowed, merkleRoot: merkleRoot)
            actions += accept(derived, jobID: job.jobID, minNtime: job.minNtime, channelID: id, channel: channel)
        }
        return actions
    }

    /// A job for one channel: kept until its SetNewPrevHash when it is a future job, mined at once otherwise.
    private mutating func accept(_ job: Job, jobID: UInt32, minNtime: UInt32?, channelID: UInt32, channel: Channel) -> [Action] {
        guard let minNtime else {
            var channel = channel
            if channel.futureJobs.updateValue(job, forKey: jobID) == nil { channel.futureOrder.append(jobID) }
            while channel.futureOrder.count > Self.futureJobLimit {
                channel.futureJobs[channel.futureOrder.removeFirst()] = nil
            }
            channels[channelID] = channel
            return []
        }
        guard let prevHash = channel.prevHash else {
            return [.event(.ignored("job \(jobID) on channel \(channelID) has min_ntime but no SetNewPrevHash came before it"))]
        }
        var channel = channel
        let action = issue(job, jobID: jobID, time: minNtime, prevHash: prevHash, channel: &channel)
        channels[channelID] = channel
        return [action]
    }

    private mutating func newPrevHash(_ message: SetNewPrevHash) -> [Action] {
        let ids = addressedChannels(message.channelID)
        guard !ids.isEmpty else { return [.event(.ignored("SetNewPrevHash for unknown channel \(message.channelID)"))] }
        var actions = [Action]()
        if announcedPrevHash != message.prevHash {
            announcedPrevHash = message.prevHash
            actions.append(.event(.newPrevHash(message.prevHash, nbits: message.nbits)))
        }
        for id in ids {
            guard var channel = channels[id] else { continue }
            let job = channel.futureJobs[message.jobID]
            // Only the job named is valid from now on (spec 5.3.17).
            channel.futureJobs.removeAll()
            channel.futureOrder.removeAll()
            channel.issued.removeAll()
            channel.currentWork = nil
            let prevHash = PrevHash(hash: message.prevHash, minNtime: message.minNtime, nbits: message.nbits)
            channel.prevHash = prevHash
            if let job {
                actions.append(issue(job, jobID: message.jobID, time: message.minNtime, prevHash: prevHash, channel: &channel))
                channels[id] = channel
            } else {
                channels[id] = channel
                actions.append(.setWork(lane: channel.lane, nil))
                actions.append(.event(.ignored("SetNewPrevHash names job \(message.jobID), not a future job of channel \(id)")))
            }
        }
        return actions
    }

    private mutating func retarget(_ message: SetTarget) -> [Action] {
        let ids = addressedChannels(message.channelID)
        guard !ids.isEmpty else { return [.event(.ignored("SetTarget for unknown channel \(message.channelID)"))] }
        var actions = [Action]()
        for id in ids {
            guard var channel = channels[id] else { continue }
            channel.target = message.maximumTarget
            actions.append(.event(.targetChanged(channelID: id, target: message.maximumTarget)))
            // Spec 5.3.21: the new target is for jobs to come (and future jobs not yet active); an active job keeps the
            // one it came with. A harder new target is applied to it as well, since pools that apply SetTarget at once
            // would refuse what lies between the two: the active job mines at the harder of the two.
            for (workID, issued) in channel.issued where message.maximumTarget < issued.work.target {
                var work = issued.work
                work.target = message.maximumTarget
                channel.issued[workID] = (issued.jobID, work)
            }
            if var work = channel.currentWork, message.maximumTarget < work.target {
                work.target = message.maximumTarget
                channel.currentWork = work
                if !channel.pause.isPaused { actions.append(.setWork(lane: channel.lane, work)) }
            }
            channels[id] = channel
        }
        return actions
    }

    /// A lane stopped on a block (``BlockPause``) that got no new work resumes its work.
    public mutating func tick(now: Timestamp) -> [Action] {
        if case let .negotiating(success, deadline) = state, now >= deadline {
            return [.event(.extensionsNegotiated(tracksWorkers: false, detail: "no answer to RequestExtensions within \(Self.extensionAnswerTimeout)"))]
                + openChannels(success)
        }
        var actions = [Action]()
        for id in channels.keys.sorted() {
            guard channels[id]?.pause.tick() == true, var channel = channels[id] else { continue }
            if let work = channel.currentWork, let jobID = channel.issued[work.id]?.jobID {
                let resumed = work.resumed(id: nextWorkID)
                nextWorkID += 1
                channel.currentWork = resumed
                channel.issued[resumed.id] = (jobID, resumed)
                actions.append(.setWork(lane: channel.lane, resumed))
            }
            channels[id] = channel
        }
        return actions
    }

    /// Hands `job` to `channel`'s lane as new work on `prevHash`.
    private mutating func issue(_ job: Job, jobID: UInt32, time: UInt32, prevHash: PrevHash, channel: inout Channel) -> Action {
        let work = MiningWork(
            id: nextWorkID, version: job.version,
            versionRollingMask: job.versionRollingAllowed && !fixedVersion ? MiningWork.bip320VersionMask : 0,
            previousBlockHash: prevHash.hash, merkleRoot: job.merkleRoot, time: time, bits: prevHash.nbits,
            target: channel.target)
        nextWorkID += 1
        channel.currentWork = work
        channel.pause.clear()
        channel.issued[work.id] = (jobID, work)
        while channel.issued.count > Self.issuedWorkLimit, let oldest = channel.issued.keys.min() {
            channel.issued[oldest] = nil
        }
        return .setWork(lane: channel.lane, work)
    }

    /// A pool-supplied string for the log: printable ASCII kept, anything else as `?`.
    static func text(_ string: Sv2String) -> String {
        String(decoding: string.bytes.map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
