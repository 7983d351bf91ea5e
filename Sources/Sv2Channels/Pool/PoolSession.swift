import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions

/// The pool side of one mining connection (spec 5) as a ``ConnectionSession``: messages and pool events in,
/// actions out. No I/O and no clock: every event carries `now`. The jobs are the pool's published ``PoolWork``,
/// read by reference; the session keeps only its channels.
///
/// Channels: standard channels (with REQUIRES_STANDARD_JOBS each gets NewMiningJob with its own merkle root;
/// otherwise they form one group channel per connection and get one NewExtendedMiningJob per job), extended
/// channels (NewExtendedMiningJob, per-channel extranonce prefix, the rest of the extranonce rolled by the miner).
/// Jobs are numbered by the pool, so one job has the same id on every channel. Accepted shares are acknowledged
/// in one SubmitShares.Success per channel for everything read in one go (``acknowledgeShares()``); each rejected
/// share gets its SubmitShares.Error at once. With ``PoolSessionConfiguration/recordsShares`` the acknowledgements
/// leave in a ``ShareBatch`` effect with the shares they acknowledge, for the glue to send once the ledger holds them.
public struct PoolSession: ConnectionSession {
    /// What the pool's glue does beyond sending and logging.
    public typealias Action = SessionAction<Sv2Message, PoolEffect>
    /// Messages arrive with their TLV fields (extension 0x0002's user_identity).
    public typealias Inbound = Sv2TaggedMessage
    /// Who a share counts for: its statistics key and its account as the ledger records it.
    private typealias Credit = (key: String, account: (user: String, worker: String))

    /// The extensions the pool supports (RequestExtensions, extension 0x0001): worker-specific hashrate tracking.
    public static let supportedExtensions: [UInt16] = [Sv2TLV.userIdentityType.extensionType]
    /// Workers credited apart per channel: shares naming further workers are credited to the channel's user, so that
    /// a client cannot make the pool keep figures for any number of names.
    public static let maximumWorkersPerChannel = 1024

    /// Custom jobs a connection may hold on one tip.
    public static let maximumCustomJobs = 64
    /// The largest coinbase_tx_outputs a custom job may carry, in bytes.
    public static let maximumCustomOutputsSize = 4096
    /// The deepest merkle path a custom job may carry (2^24 transactions).
    public static let maximumCustomMerkleDepth = 24
    /// Custom job ids have the top bit set, apart from the pool's own jobs; a missing one is a job of an earlier tip.
    static let customJobBit: UInt32 = 0x8000_0000

    /// The version bits miners may roll: BIP323's general purpose bits, as the spec has it (5.3.15, 5.3.16).
    public static let versionRollingMask: UInt32 = MiningWork.bip323VersionMask

    private enum State: Sendable {
        case awaitingSetup
        case ready(flags: MiningSetupFlags)
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
        /// `user` split into account and worker, as the ledger records them.
        let account: (user: String, worker: String)
        let allocation: ExtranonceAllocator.Allocation
        var maximumTarget: U256
        var target: U256
        /// The target before the last SetTarget, still honoured until the next job reaches the channel.
        var previousTarget: U256
        var vardiff: Vardiff
        /// The nominal hash rate the client reported (0 when none or not a usable number).
        var reported: Double = 0
        var seen = Set<U256>()
        var merkleRoots = [UInt32: U256]()
        var unacknowledged = (lastSequence: UInt32(0), count: UInt32(0), sum: UInt64(0))
        /// What monitoring shows of the channel's shares.
        var shares = ShareCounters()
        /// The lowest share hash so far (its best difficulty).
        var bestHash: U256?
        /// The workers its shares were credited to (extension 0x0002), at most ``maximumWorkersPerChannel``.
        var workers = Set<String>()
        /// Custom jobs (SetCustomMiningJob) on the current tip, with the tip each names.
        var customJobs = [UInt32: (job: PoolJob, tip: PoolPrevHash)]()
        /// The custom jobs of earlier tips (shares on them are stale), at most 1,024.
        var staleCustomJobs = Set<UInt32>()

        /// Who a share with extension 0x0002's `worker` is credited to: the channel's account and that worker (a
        /// worker name that already starts with `account.` is taken as it is), as a statistics key and its parts; a
        /// worker beyond the channel's ``maximumWorkersPerChannel`` is credited to the channel's user.
        mutating func attribution(worker: String) -> Credit {
            let prefix = account.user + "."
            let name = worker.hasPrefix(prefix) ? String(worker.dropFirst(prefix.count)) : worker
            guard !name.isEmpty, name != account.user else { return (account.user, (account.user, "")) }
            guard workers.contains(name) || workers.count < PoolSession.maximumWorkersPerChannel else { return (user, self.account) }
            workers.insert(name)
            return (prefix + name, (account.user, name))
        }
    }

    private let configuration: PoolSessionConfiguration
    private var state = State.awaitingSetup
    /// Whether the client negotiated extension 0x0002: its SubmitSharesExtended carry the worker's user_identity.
    private var tracksWorkers = false
    /// Whether RequestExtensions may still come: only once, before the first channel opens (spec 0x0001: right after
    /// SetupConnection.Success).
    private var negotiable = true
    /// The client's SetupConnection (vendor, hardware version, firmware), once set up.
    private var device: (vendor: String, hardwareVersion: String, firmware: String)?
    private var allocator: ExtranonceAllocator
    private var channels = [UInt32: Channel]()
    private var groupID: UInt32?
    private var nextChannelID: UInt32 = 1
    private var nextCustomJobID: UInt32 = 1
    /// Custom jobs held now (all channels; emptied by a new tip).
    private var customJobCount = 0
    /// The nonces of the mining job tokens used on this connection (a token is good for one job).
    private var usedTokens = UsedMiningJobTokens()
    private var work: PoolWork
    private var tallies = [String: ShareTally]()
    /// Shares accepted and refused since the last read ended, when the configuration records shares.
    private var records = ShareBatch()
    /// False once the pool is shutting down: shares are then left unanswered (the miner never sees them accepted).
    private var takingShares = true
    private var scratch = [UInt8]()
    private var observer: (any PoolSessionObserver)?

    /// A session on the pool's current `work` whose channels get extranonce prefixes starting with
    /// `connectionPrefix` (unique to this connection among the pool's live connections).
    public init(
        configuration: PoolSessionConfiguration, connectionPrefix: [UInt8], work: PoolWork = .empty
    ) throws(ExtranonceAllocator.LayoutError) {
        // The session keeps its own copy of the observer; the configuration's is dropped so the two never share storage.
        var configuration = configuration
        observer = configuration.observer
        configuration.observer = nil
        self.configuration = configuration
        self.work = work
        allocator = try ExtranonceAllocator(
            upstreamPrefix: connectionPrefix, totalLength: configuration.extranonceLength,
            maximumChannels: configuration.maximumChannels)
    }

    /// Number of open channels (not counting the group channel).
    public var channelCount: Int { channels.count }

    /// True once SetupConnection succeeded.
    public var isSetUp: Bool {
        if case .ready = state { return true }
        return false
    }

    private var flags: MiningSetupFlags {
        if case let .ready(flags) = state { return flags }
        return []
    }

    private var requiresStandardJobs: Bool { flags.contains(.requiresStandardJobs) }

    // MARK: - Client messages

    /// Handles one message from the client without TLV fields.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        receive(Sv2TaggedMessage(message), now: now)
    }

    /// Handles one message from the client; its TLV fields count only for a negotiated extension (spec 3.4.3).
    public mutating func receive(_ tagged: Sv2TaggedMessage, now: Timestamp) -> [Action] {
        guard observer != nil else { return handle(tagged, now: now) }
        observer?.received(tagged)
        return observed(handle(tagged, now: now))
    }

    /// Tells the observer, when there is one, what the session did.
    private mutating func observed(_ actions: [Action]) -> [Action] {
        observer?.acted(actions)
        return actions
    }

    /// The watcher of this connection's traffic (``PoolSessionConfiguration/observer``), told when it ends.
    public var connectionObserver: (any PoolSessionObserver)? { observer }

    /// A message that did not decode closes the connection (the observer sees why).
    public mutating func malformed(_ problem: String, now: Timestamp) -> [Action] {
        let actions: [Action] = [.close("malformed message: \(problem)")]
        return observer == nil ? actions : observed(actions)
    }

    /// The pool is stopping: the observer learns that the coming close is not the client's doing.
    public mutating func stopping() {
        observer?.stopping()
    }

    private mutating func handle(_ tagged: Sv2TaggedMessage, now: Timestamp) -> [Action] {
        let message = tagged.message
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
        case .submitSharesStandard where !takingShares, .submitSharesExtended where !takingShares:
            return []
        case let .submitSharesStandard(share):
            return submit(
                channelID: share.channelID, sequence: share.sequenceNumber, jobID: share.jobID, nonce: share.nonce,
                ntime: share.ntime, version: share.version, extranonce: nil, worker: nil, now: now)
        case let .submitSharesExtended(share):
            return submit(
                channelID: share.channelID, sequence: share.sequenceNumber, jobID: share.jobID, nonce: share.nonce,
                ntime: share.ntime, version: share.version, extranonce: share.extranonce, worker: tracksWorkers ? tagged.userIdentity : nil, now: now)
        case let .requestExtensions(request):
            return negotiate(request)
        case let .updateChannel(update):
            return updateChannel(update, now: now)
        case let .closeChannel(close):
            return closeChannel(close.channelID, reason: close.reasonCode.description)
        case let .setCustomMiningJob(job):
            return setCustomJob(job, now: now)
        case .setupConnection:
            return [.warning("a second SetupConnection: ignored")]
        default:
            return [.warning("\(message.name) is not a mining client message: ignored")]
        }
    }

    private mutating func setUp(_ message: Sv2Message) -> [Action] {
        var supported: MiningSetupFlags = [.requiresStandardJobs]
        if configuration.versionRolling { supported.insert(.requiresVersionRolling) }
        if configuration.jobTokenKey != nil { supported.insert(.requiresWorkSelection) }
        let successFlags: MiningSetupSuccessFlags = configuration.versionRolling ? [] : .requiresFixedVersion
        let (accepted, actions): (_, [Action]) = SetupNegotiation.serve(
            firstMessage: message, protocol: .mining, supported: supported.rawValue, successFlags: successFlags.rawValue)
        guard let (flags, setup) = accepted else {
            state = .closed
            return actions
        }
        state = .ready(flags: MiningSetupFlags(rawValue: flags))
        device = (setup.vendor.description, setup.hardwareVersion.description, setup.firmware.description)
        return actions + [.info("mining connection set up (vendor \(setup.vendor), device \(setup.deviceID), flags 0x\(String(flags, radix: 16)))")]
    }

    /// RequestExtensions (extension 0x0001): Success with the requested extensions the pool supports, or Error
    /// when it supports none of them.
    private mutating func negotiate(_ request: RequestExtensions) -> [Action] {
        guard negotiable else { return [.warning("RequestExtensions after the negotiation or after a channel opened: ignored")] }
        negotiable = false
        let supported = Self.supportedExtensions.filter(request.requestedExtensions.contains)
        guard !supported.isEmpty else {
            return [.send(.requestExtensionsError(RequestExtensionsError(
                requestID: request.requestID, unsupportedExtensions: request.requestedExtensions, requiredExtensions: [])))]
        }
        if supported.contains(Sv2TLV.userIdentityType.extensionType) { tracksWorkers = true }
        return [
            .send(.requestExtensionsSuccess(RequestExtensionsSuccess(requestID: request.requestID, supportedExtensions: supported))),
            .info("extensions negotiated: \(supported.map { "0x" + String($0, radix: 16) }.joined(separator: ", "))"),
        ]
    }

    // MARK: - Channels

    private mutating func newChannelID() -> UInt32 {
        negotiable = false
        let id = nextChannelID
        nextChannelID &+= 1
        return id
    }

    private func initialTarget(nominalHashRate: Float, maximumTarget: U256) -> (hashrate: Double, target: U256) {
        let reported = Double(nominalHashRate)
        let hashrate = reported.isFinite && reported > 0 ? reported : configuration.defaultHashrate
        return (hashrate, channelTarget(MiningTarget.target(hashrate: hashrate, sharesPerMinute: configuration.sharesPerMinute), maximum: maximumTarget))
    }

    /// The target a channel gets for a `proposed` one: never harder than the network target (a hash that solves a
    /// block is always a share; on regtest that keeps blocks coming), and never easier than the channel's maximum.
    private func channelTarget(_ proposed: U256, maximum: U256) -> U256 {
        min(max(proposed, networkTarget), maximum)
    }

    /// The target of the tip's nBits (zero before the first tip).
    private var networkTarget: U256 {
        work.tip.flatMap { try? CompactTarget(bits: $0.nBits).target() } ?? .zero
    }

    /// Moves `channel` to `target` with a SetTarget (the old one honoured until the next job), if it changes.
    private static func retarget(_ channel: inout Channel, to target: U256) -> Action? {
        guard target != channel.target else { return nil }
        channel.previousTarget = channel.target
        channel.target = target
        return .send(.setTarget(SetTarget(channelID: channel.id, maximumTarget: target)))
    }

    private func refusal(maximumTarget: U256) -> Sv2String? {
        if maximumTarget == .zero { return PoolErrorCode.maxTargetOutOfRange }
        if channels.count >= Int(configuration.maximumChannels) { return PoolErrorCode.tooManyChannels }
        return nil
    }

    private mutating func openStandard(_ request: OpenStandardMiningChannel, now: Timestamp) -> [Action] {
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
            id: id, kind: .standard, user: user, account: AcceptedShare.account(user), allocation: allocation, maximumTarget: request.maxTarget, target: target,
            previousTarget: target, vardiff: Vardiff(configuration: configuration.vardiff, initialHashrate: hashrate, now: now.seconds))
        var actions: [Action] = [
            .send(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                requestID: request.requestID, channelID: id, target: target, extranoncePrefix: allocation.prefix,
                groupChannelID: groupID ?? 0))),
            .info(
                "standard channel \(id) for \"\(user)\" at \(Self.rate(hashrate))" + (groupID.map { " in group \($0)" } ?? ""),
                ["channel": "\(id)", "user": user]),
        ]
        if let job = work.latest, let tip = work.tip {
            actions.append(.send(.newMiningJob(standardJob(job, channelID: id, minNtime: nil))))
            actions.append(.send(.setNewPrevHash(mining(tip, activating: job, channelID: id))))
        }
        actions += report(request.nominalHashRate, channelID: id)
        return actions
    }

    private mutating func openExtended(_ request: OpenExtendedMiningChannel, now: Timestamp) -> [Action] {
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
            id: id, kind: .extended(rollable: rollable), user: user, account: AcceptedShare.account(user), allocation: allocation, maximumTarget: request.maxTarget,
            target: target, previousTarget: target,
            vardiff: Vardiff(configuration: configuration.vardiff, initialHashrate: hashrate, now: now.seconds))
        var actions: [Action] = [
            .send(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                requestID: request.requestID, channelID: id, target: target, extranonceSize: UInt16(rollable),
                extranoncePrefix: allocation.prefix, groupChannelID: 0))),
            .info(
                "extended channel \(id) for \"\(user)\" at \(Self.rate(hashrate)), \(rollable) extranonce bytes to roll",
                ["channel": "\(id)", "user": user]),
        ]
        if let job = work.latest, let tip = work.tip {
            actions.append(.send(.newExtendedMiningJob(job.extendedJob(
                channelID: id, minNtime: nil, versionRollingAllowed: configuration.versionRolling))))
            actions.append(.send(.setNewPrevHash(mining(tip, activating: job, channelID: id))))
        }
        actions += report(request.nominalHashRate, channelID: id)
        return actions
    }

    private mutating func updateChannel(_ update: UpdateChannel, now: Timestamp) -> [Action] {
        guard var channel = channels[update.channelID] else {
            return [.send(.updateChannelError(UpdateChannelError(channelID: update.channelID, errorCode: PoolErrorCode.invalidChannelID)))]
        }
        guard update.maximumTarget != .zero else {
            return [.send(.updateChannelError(UpdateChannelError(channelID: update.channelID, errorCode: PoolErrorCode.maxTargetOutOfRange)))]
        }
        channel.maximumTarget = update.maximumTarget
        let reported = Double(update.nominalHashRate)
        if reported.isFinite, reported > 0 {
            channel.vardiff = Vardiff(configuration: configuration.vardiff, initialHashrate: reported, now: now.seconds)
        }
        var actions = [Action]()
        if let setTarget = Self.retarget(&channel, to: channelTarget(channel.vardiff.target, maximum: channel.maximumTarget)) {
            actions.append(setTarget)
        }
        channels[update.channelID] = channel
        return actions + report(update.nominalHashRate, channelID: update.channelID)
    }

    private mutating func closeChannel(_ id: UInt32, reason: String) -> [Action] {
        let closing: [UInt32]
        if id == groupID {
            closing = channels.values.filter { if case .standard = $0.kind { return true } else { return false } }.map(\.id)
        } else if channels[id] != nil {
            closing = [id]
        } else {
            return [.warning("CloseChannel for an unknown channel: ignored", ["channel": "\(id)"])]
        }
        var reported = 0.0
        for channelID in closing {
            guard let channel = channels.removeValue(forKey: channelID) else { continue }
            allocator.release(channel.allocation.index)
            reported += channel.reported
        }
        let ids = closing.sorted().map(String.init).joined(separator: ", ")
        var actions: [Action] = [.info("channel(s) \(ids) closed by the client (\(reason))", ["channel": ids])]
        if reported > 0 { actions.append(.effect(.reportedHashRate(change: -reported))) }
        return actions
    }

    /// Records `nominalHashRate` as what channel `channelID` reports; the change of the connection's total as an
    /// effect (a proxy sums its devices' rates for its upstream channel).
    private mutating func report(_ nominalHashRate: Float, channelID: UInt32) -> [Action] {
        let rate = Double(nominalHashRate)
        let usable = rate.isFinite && rate > 0 ? min(rate, 1e30) : 0
        guard let old = channels[channelID]?.reported, old != usable else { return [] }
        channels[channelID]?.reported = usable
        return [.effect(.reportedHashRate(change: usable - old))]
    }

    /// The nominal hash rates the connection's channels reported, summed.
    public var reportedHashRate: Double { channels.values.reduce(0) { $0 + $1.reported } }

    // MARK: - Monitoring

    /// The client's kind by its SetupConnection (``Sv2ClientKind/unknown`` before setup).
    public var clientKind: Sv2ClientKind {
        device.map { Sv2Client.kind(vendor: $0.vendor, hardwareVersion: $0.hardwareVersion, firmware: $0.firmware) } ?? .unknown
    }

    /// Every open channel as monitoring shows it: the hash rate is the one vardiff works with (the client's
    /// nominal_hash_rate until shares tell better).
    public var monitoredChannels: [ChannelSnapshot] {
        channels.values.map { channel in
            var shares = channel.shares
            shares.bestDifficulty = channel.bestHash.map { MiningTarget.difficulty(target: $0) } ?? 0
            let kind: ChannelKind, rollable: Int
            switch channel.kind {
            case .standard: (kind, rollable) = (.standard, 0)
            case let .extended(length): (kind, rollable) = (.extended, length)
            }
            return ChannelSnapshot(
                channelID: channel.id, kind: kind,
                userIdentity: channel.user, nominalHashrate: Float(channel.vardiff.targetHashrate), stableHashrate: channel.vardiff.isSettled,
                target: channel.target, requestedMaximumTarget: channel.maximumTarget, extranoncePrefix: channel.allocation.prefix,
                fullExtranonceSize: channel.allocation.prefix.count + rollable, rollableExtranonceSize: UInt16(rollable),
                versionRolling: configuration.versionRolling, expectedSharesPerMinute: Float(configuration.sharesPerMinute), shares: shares)
        }
    }

    // MARK: - Custom jobs

    /// SetCustomMiningJob (spec 5.3.18, 6.4.3): on a connection that set REQUIRES_WORK_SELECTION, on an extended
    /// channel, with a mining job token of the job declarator used once (an allocation token made for the channel's
    /// user, in coinbase-only mode, or a declared-job token committing to this tip, merkle path and outputs), on the
    /// pool's tip with its nBits, the version of the pool's job outside the rollable bits, and a coinbase that parses
    /// and pays the pool's payout script at least 99% of what the pool's own template would. The job gets an id of
    /// its own for the channel's shares.
    private mutating func setCustomJob(_ request: SetCustomMiningJob, now: Timestamp) -> [Action] {
        guard let key = configuration.jobTokenKey, !configuration.payoutScript.isEmpty else {
            return [.send(.setCustomMiningJobError(request.unsupported))]
        }
        func refuse(_ code: Sv2String, _ why: String) -> [Action] {
            [.send(.setCustomMiningJobError(SetCustomMiningJobError(channelID: request.channelID, requestID: request.requestID, errorCode: code))),
             .warning("SetCustomMiningJob \(request.requestID) refused: \(why)", ["channel": "\(request.channelID)"])]
        }
        guard flags.contains(.requiresWorkSelection) else {
            return refuse(PoolErrorCode.workSelectionNotNegotiated, "the connection did not set REQUIRES_WORK_SELECTION (5.3.18)")
        }
        guard var channel = channels[request.channelID], case .extended = channel.kind else {
            return refuse(PoolErrorCode.invalidChannelID, "no extended channel \(request.channelID)")
        }
        guard request.coinbasePrefix.count <= 8, request.coinbaseTxOutputs.count <= Self.maximumCustomOutputsSize,
              request.merklePath.count <= Self.maximumCustomMerkleDepth
        else {
            return refuse(PoolErrorCode.invalidJobParameters, "coinbase_prefix over 8 bytes, outputs over \(Self.maximumCustomOutputsSize) bytes or a merkle path over \(Self.maximumCustomMerkleDepth) steps")
        }
        let token = MiningJobToken.decode(request.miningJobToken, key: key, now: UInt32(clamping: now.unixSeconds)).flatMap { token -> Result<MiningJobToken, MiningJobToken.Refusal> in
            let expected = token.kind == .allocation
                ? MiningJobToken.userCommitment(Sv2String(channel.user))
                : MiningJobToken.declaredJobCommitment(previousBlockHash: request.prevHash, merklePath: request.merklePath, outputs: request.coinbaseTxOutputs)
            guard token.commitment == expected else { return .failure(.mismatch) }
            return usedTokens.contains(token) ? .failure(.reused) : .success(token)
        }
        let accepted: MiningJobToken
        switch token {
        case let .failure(refusal): return refuse(refusal.code, refusal.description)
        case let .success(valid): accepted = valid
        }
        guard let tip = work.tip, tip.prevHash == request.prevHash, let poolJob = work.jobs[tip.jobID] else {
            return refuse(PoolErrorCode.invalidPrevHash, "prev_hash \(request.prevHash.displayHex) is not the pool's tip")
        }
        guard request.nbits == tip.nBits, request.minNtime >= tip.minNtime, (request.version ^ poolJob.version) & ~Self.versionRollingMask == 0 else {
            return refuse(PoolErrorCode.invalidJobParameters, "nbits 0x\(String(request.nbits, radix: 16)), min_ntime \(request.minNtime) or version 0x\(String(request.version, radix: 16)) not the tip's")
        }
        guard let coinbase = customCoinbase(request, reward: poolJob.reward) else {
            return refuse(PoolErrorCode.invalidCoinbase, "the coinbase does not parse or does not pay the pool's payout script what its template would")
        }
        guard customJobCount < Self.maximumCustomJobs else {
            return refuse(PoolErrorCode.tooManyChannels, "\(Self.maximumCustomJobs) custom jobs on this tip already")
        }
        usedTokens.insert(accepted, now: now.unixSeconds)
        let id = Self.customJobBit | nextCustomJobID
        nextCustomJobID = nextCustomJobID % (Self.customJobBit - 1) + 1
        customJobCount += 1
        channel.customJobs[id] = (
            PoolJob(id: id, version: request.version, coinbase: coinbase, isFuture: false, versionRollingAllowed: true),
            PoolPrevHash(jobID: id, prevHash: request.prevHash, minNtime: request.minNtime, nBits: request.nbits, networkTarget: tip.networkTarget))
        channels[request.channelID] = channel
        return [.send(.setCustomMiningJobSuccess(SetCustomMiningJobSuccess(channelID: request.channelID, requestID: request.requestID, jobID: id)))]
    }

    /// The custom job's coinbase around the channel's full extranonce, when it parses as a coinbase transaction with
    /// outputs paying the pool's payout script at least 99% of `reward` (what the pool's own template leaves); nil
    /// otherwise.
    private func customCoinbase(_ request: SetCustomMiningJob, reward: UInt64) -> CoinbaseTemplate? {
        let extranonce = configuration.extranonceLength
        let scriptLength = request.coinbasePrefix.count + extranonce
        guard (2...100).contains(scriptLength) else { return nil }
        var prefix = withUnsafeBytes(of: request.coinbaseTxVersion.littleEndian, Array.init) + [1] + [UInt8](repeating: 0, count: 32) + [0xff, 0xff, 0xff, 0xff]
        CompactSize.append(UInt64(scriptLength), to: &prefix)
        prefix += request.coinbasePrefix
        let suffix = withUnsafeBytes(of: request.coinbaseTxInputNSequence.littleEndian, Array.init) + request.coinbaseTxOutputs
            + withUnsafeBytes(of: request.coinbaseTxLocktime.littleEndian, Array.init)
        guard let transaction = try? Transaction(bytes: prefix + [UInt8](repeating: 0, count: extranonce) + suffix), transaction.inputs.count == 1 else {
            return nil
        }
        let paid = transaction.outputs.filter { $0.scriptPubKey == configuration.payoutScript }.reduce(UInt64(0)) { $0 &+ $1.value }
        guard paid > 0, paid >= reward - reward / 100 else { return nil }
        return CoinbaseTemplate(prefix: prefix, extranonceSize: extranonce, suffix: suffix, merklePath: request.merklePath)
    }

    // MARK: - Shares

    private mutating func submit(
        channelID: UInt32, sequence: UInt32, jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32,
        extranonce: [UInt8]?, worker: String?, now: Timestamp
    ) -> [Action] {
        // Taken out of the dictionary while it changes, so its seen-share set is not copied on write.
        guard var channel = channels.removeValue(forKey: channelID) else {
            return [reject(channelID: channelID, sequence: sequence, PoolErrorCode.invalidChannelID, credit: nil, now: now)]
        }
        defer { channels[channelID] = channel }
        let credit: Credit = worker.map { channel.attribution(worker: $0) } ?? (channel.user, channel.account)
        let code = check(&channel, jobID: jobID, nonce: nonce, ntime: ntime, version: version, extranonce: extranonce, now: now)
        var actions = [Action]()
        switch code {
        case let .rejected(error):
            channel.shares.rejectedByReason[error.description, default: 0] &+= 1
            channel.shares.lastSequenceNumber = sequence
            return [reject(channelID: channelID, sequence: sequence, error, credit: credit, now: now)]
        case let .accepted(hash, block):
            channel.unacknowledged.lastSequence = sequence
            channel.unacknowledged.count &+= 1
            let weight = Self.shareWeight(target: channel.target)
            channel.unacknowledged.sum &+= weight
            channel.shares.accepted &+= 1
            channel.shares.acknowledgedWorkSum &+= weight
            channel.shares.workSum += MiningTarget.difficulty(target: channel.target)
            channel.shares.lastSequenceNumber = sequence
            if block != nil { channel.shares.blocksFound &+= 1 }
            if channel.bestHash.map({ hash < $0 }) ?? true { channel.bestHash = hash }
            channel.vardiff.recordShare(now: now.seconds)
            let expected = MiningTarget.expectedHashes(target: channel.target)
            let (key, account) = credit
            tallies[key, default: ShareTally()].recordAccepted(work: expected, block: block != nil)
            if configuration.recordsShares {
                records.accepted.append(AcceptedShare(
                    time: now, user: account.user, worker: account.worker, channelID: channelID, sequenceNumber: sequence,
                    jobID: jobID, difficulty: MiningTarget.difficulty(target: channel.target), work: expected, hash: hash, isBlock: block != nil))
            }
            if let block { actions.append(.effect(.submitBlock(block))) }
            if let upstreamTarget = work.upstreamTarget, hash <= upstreamTarget {
                actions.append(.effect(.forward(ForwardedShare(
                    jobID: jobID, nonce: nonce, ntime: ntime, version: version, extranonce: channel.allocation.prefix + (extranonce ?? []),
                    user: credit.key))))
            }
        }
        return actions
    }

    /// The outcome of one share's checks.
    private enum Verdict {
        /// Valid, with its hash; with the block when the hash meets the network target.
        case accepted(U256, FoundBlock?)
        /// Refused with this error code.
        case rejected(Sv2String)
    }

    /// Validates one share with the ``ShareValidator``; on success returns the block when the hash meets the
    /// network target.
    private mutating func check(
        _ channel: inout Channel, jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32, extranonce: [UInt8]?, now: Timestamp
    ) -> Verdict {
        let tip: PoolPrevHash, job: PoolJob
        let isCustom = jobID & Self.customJobBit != 0
        if isCustom, let custom = channel.customJobs[jobID] {
            (job, tip) = custom
        } else if !isCustom, let current = work.tip, let pooled = work.jobs[jobID] {
            (job, tip) = (pooled, current)
        } else {
            let stale = isCustom ? channel.staleCustomJobs.contains(jobID) : work.staleJobIDs.contains(jobID)
            return .rejected(stale ? PoolErrorCode.staleShare : PoolErrorCode.invalidJobID)
        }
        let root: U256
        switch (channel.kind, extranonce) {
        case (.standard, nil):
            if let cached = channel.merkleRoots[jobID] {
                root = cached
            } else {
                root = job.coinbase.merkleRoot(extranonce: channel.allocation.prefix, scratch: &scratch)
                channel.merkleRoots[jobID] = root
            }
        case let (.extended(rollable), .some(extranonce)):
            guard extranonce.count == rollable else { return .rejected(PoolErrorCode.badExtranonceSize) }
            root = job.coinbase.merkleRoot(extranoncePrefix: channel.allocation.prefix, extranonce: extranonce, scratch: &scratch)
        default:
            return .rejected(PoolErrorCode.invalidChannelID)
        }
        let rules = ShareValidator.Rules(
            version: job.version, versionRollingMask: configuration.versionRolling && job.versionRollingAllowed ? Self.versionRollingMask : 0,
            previousBlockHash: tip.prevHash, bits: tip.nBits, networkTarget: tip.networkTarget, earliestTime: tip.minNtime,
            latestTime: UInt32(clamping: UInt64(now.unixSeconds) + UInt64(configuration.maximumFutureTime)))
        let target = max(channel.target, channel.previousTarget)
        let assessment: ShareAssessment
        switch ShareValidator.validate(rules, merkleRoot: root, version: version, time: ntime, nonce: nonce, target: target) {
        case .failure(.versionBits): return .rejected(PoolErrorCode.versionRollingNotAllowed)
        case .failure(.timeTooEarly), .failure(.timeTooLate): return .rejected(PoolErrorCode.invalidTimestamp)
        case let .success(valid): assessment = valid
        }
        guard channel.seen.insert(assessment.hash).inserted else { return .rejected(PoolErrorCode.duplicateShare) }
        // A block on a custom job is the miner's to propagate (its template provider and job declarator have the
        // transactions); here it counts as a share, even below the channel's target (regtest's network target is
        // easier than most channels').
        if assessment.isBlock, isCustom { return .accepted(assessment.hash, nil) }
        if assessment.isBlock {
            let full = channel.allocation.prefix + (extranonce ?? [])
            return .accepted(assessment.hash, FoundBlock(
                templateID: job.templateID, version: version, ntime: ntime, nonce: nonce,
                coinbase: job.blockCoinbase(extranonce: full), hash: assessment.hash, user: channel.user,
                previousBlockHash: tip.prevHash))
        }
        guard assessment.meetsTarget else { return .rejected(PoolErrorCode.difficultyTooLow) }
        return .accepted(assessment.hash, nil)
    }

    /// SubmitShares.Error with `code`, counted against `credit` (the statistics key and account of the share's
    /// channel or worker; nil when no channel has that id).
    private mutating func reject(
        channelID: UInt32, sequence: UInt32, _ code: Sv2String, credit: Credit?, now: Timestamp
    ) -> Action {
        if let credit { tallies[credit.key, default: ShareTally()].rejected += 1 }
        if configuration.recordsShares {
            records.rejected.append(RejectedShare(
                time: now, user: credit?.account.user ?? "", worker: credit?.account.worker ?? "", errorCode: code.description))
        }
        return .send(.submitSharesError(SubmitSharesError(channelID: channelID, sequenceNumber: sequence, errorCode: code)))
    }

    /// The pool is shutting down: shares that arrive from now on are left unanswered (neither recorded nor
    /// acknowledged), so that the ledger's last commit holds every share a miner is told was accepted.
    public mutating func stopTakingShares() -> [Action] {
        takingShares = false
        return []
    }

    /// Everything one read delivered is handled: one SubmitShares.Success per channel for the shares accepted
    /// meanwhile (sent now, or with ``PoolSessionConfiguration/recordsShares`` handed to the ledger in a
    /// ``ShareBatch`` with the shares), and the per-user tallies for the pool's statistics.
    public mutating func readComplete(now: Timestamp) -> [Action] {
        var actions: [Action]
        if configuration.recordsShares {
            var batch = records
            records = ShareBatch()
            batch.acknowledgements = pendingAcknowledgements()
            actions = batch.isEmpty ? [] : [.effect(.record(batch))]
        } else {
            actions = acknowledgeShares()
        }
        if !tallies.isEmpty { actions.append(.effect(.tallies(collectTallies()))) }
        return observer == nil ? actions : observed(actions)
    }

    /// One SubmitShares.Success per channel with shares accepted since the last call.
    public mutating func acknowledgeShares() -> [Action] {
        pendingAcknowledgements().map { .send(.submitSharesSuccess($0)) }
    }

    /// The SubmitShares.Success of every channel with shares accepted since the last call; they count as sent.
    private mutating func pendingAcknowledgements() -> [SubmitSharesSuccess] {
        var acknowledgements = [SubmitSharesSuccess]()
        forEachChannel { channel in
            guard channel.unacknowledged.count > 0 else { return }
            acknowledgements.append(SubmitSharesSuccess(
                channelID: channel.id, lastSequenceNumber: channel.unacknowledged.lastSequence,
                newSubmitsAcceptedCount: channel.unacknowledged.count, newSharesSum: channel.unacknowledged.sum))
            channel.shares.lastBatchAccepted = channel.unacknowledged.count
            channel.shares.lastBatchWorkSum = channel.unacknowledged.sum
            channel.unacknowledged = (0, 0, 0)
        }
        return acknowledgements
    }

    /// The per-user tallies since the last call, emptied.
    public mutating func collectTallies() -> [String: ShareTally] {
        defer { tallies = [:] }
        return tallies
    }

    // MARK: - Pool events

    /// The pool published new `work`; `change` says what is new: a job for the channels (future ones wait for their
    /// prevhash), or a new tip, after which only its job is valid and shares for earlier jobs are stale.
    /// A snapshot older than the session's own (a broadcast queued before the session started from a newer one) is
    /// ignored.
    public mutating func update(to work: PoolWork, change: PoolWorkChange) -> [Action] {
        observer == nil ? updated(to: work, change: change) : observed(updated(to: work, change: change))
    }

    private mutating func updated(to work: PoolWork, change: PoolWorkChange) -> [Action] {
        guard work.generation >= self.work.generation else { return [] }
        self.work = work
        restoreTargets()
        switch change {
        case let .job(job):
            guard job.isFuture || work.tip != nil else { return [] }
            return broadcast(job, minNtime: job.isFuture ? nil : work.tip?.minNtime)
        case let .tip(tip):
            guard let job = work.jobs[tip.jobID] else { return [.warning("SetNewPrevHash for an unknown job: ignored", ["job": "\(tip.jobID)"])] }
            forEachChannel { channel in
                channel.seen.removeAll()
                channel.merkleRoots.removeAll()
                if channel.staleCustomJobs.count > 1024 { channel.staleCustomJobs.removeAll() }
                channel.staleCustomJobs.formUnion(channel.customJobs.keys)
                channel.customJobs.removeAll()
            }
            customJobCount = 0
            var actions = [Action]()
            if let groupID { actions.append(.send(.setNewPrevHash(mining(tip, activating: job, channelID: groupID)))) }
            for channel in channels.values.sorted(by: { $0.id < $1.id }) {
                if case .standard = channel.kind, !requiresStandardJobs { continue }
                actions.append(.send(.setNewPrevHash(mining(tip, activating: job, channelID: channel.id))))
            }
            // Channels opened before the first tip, or a network target that got easier: not harder than it.
            let networkTarget = self.networkTarget
            for id in channels.keys.sorted() where channels[id].map({ $0.target < networkTarget }) == true {
                guard var channel = channels[id],
                      let setTarget = Self.retarget(&channel, to: channelTarget(channel.target, maximum: channel.maximumTarget))
                else { continue }
                channels[id] = channel
                actions.append(setTarget)
            }
            return actions
        case .upstreamTarget:
            return []
        }
    }

    /// Vardiff: a SetTarget for every channel whose share rate has moved its target.
    public mutating func tick(now: Timestamp) -> [Action] {
        var actions = [Action]()
        for id in channels.keys.sorted() {
            guard var channel = channels[id], let proposed = channel.vardiff.update(now: now.seconds),
                  let setTarget = Self.retarget(&channel, to: channelTarget(proposed, maximum: channel.maximumTarget))
            else { continue }
            channels[id] = channel
            actions.append(setTarget)
            actions.append(.info("channel \(id): vardiff estimates \(Self.rate(channel.vardiff.hashrate)), new target", ["channel": "\(id)"]))
        }
        if observer != nil { actions += observer?.tick() ?? [] }
        return observer == nil ? actions : observed(actions)
    }

    /// A connection the pool is shutting down or moving: Reconnect (spec 3.6.5) to `host`:`port` (empty host and port
    /// 0 mean the same server).
    public mutating func reconnect(host: String, port: UInt16) -> [Action] {
        observed([.send(.reconnect(Reconnect(newHost: Sv2String(host), newPort: port)))])
    }

    private mutating func restoreTargets() {
        forEachChannel { $0.previousTarget = $0.target }
    }

    /// Runs `body` on each channel in place (no copy of the dictionary, as mutating it while iterating would make).
    private mutating func forEachChannel(_ body: (inout Channel) -> Void) {
        var index = channels.values.startIndex
        while index != channels.values.endIndex {
            body(&channels.values[index])
            channels.values.formIndex(after: &index)
        }
    }

    private func broadcast(_ job: PoolJob, minNtime: UInt32?) -> [Action] {
        var actions = [Action]()
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
            channelID: channelID, jobID: job.id, minNtime: minNtime, version: job.version, merkleRoot: job.coinbase.merkleRoot(extranonce: prefix))
    }

    /// SetNewPrevHash for `channelID` making `job` (sent to it as a future job) the active one on `tip`.
    private func mining(_ tip: PoolPrevHash, activating job: PoolJob, channelID: UInt32) -> SetNewPrevHash {
        SetNewPrevHash(channelID: channelID, jobID: job.id, prevHash: tip.prevHash, minNtime: tip.minNtime, nbits: tip.nBits)
    }

    /// A share's weight in SubmitShares.Success's new_shares_sum: its difficulty, at least 1 (saturating: a target
    /// the peer set far below any real share's makes no trap).
    static func shareWeight(target: U256) -> UInt64 {
        let difficulty = MiningTarget.difficulty(target: target).rounded()
        return difficulty < 0x1p64 ? UInt64(max(1, difficulty)) : .max
    }

    /// `27.1 MH/s` style (any value: a peer's nominal_hash_rate may be absurd).
    static func rate(_ hashrate: Double) -> String {
        let units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"]
        var value = hashrate
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        guard value.isFinite, value < 1e15 else { return "\(value) \(units[unit])" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
