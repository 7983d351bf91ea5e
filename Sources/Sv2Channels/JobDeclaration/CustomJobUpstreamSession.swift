import Sv2Binary
import Sv2Messages
import Sv2Sessions

/// The job declarator client's Mining Protocol connection to its pool (spec 5.3.18) as a ``ConnectionSession``:
/// SetupConnection with REQUIRES_WORK_SELECTION, one extended channel for every device behind the client, custom
/// jobs set on it (SetCustomMiningJob) and shares submitted for them. The pool's own jobs are not mined.
public struct CustomJobUpstreamSession: ConnectionSession {
    /// The pool's extended channel, as OpenExtendedMiningChannel.Success gave it.
    public struct Channel: Sendable, Hashable {
        /// Its id.
        public var id: UInt32
        /// Its target (SetTarget changes it).
        public var target: U256
        /// The pool's part of the extranonce.
        public var extranoncePrefix: [UInt8]
        /// The bytes after it the client fills.
        public var extranonceSize: Int
    }

    /// What the pool said, for the job declarator client.
    public enum Effect: Sendable, Hashable {
        /// The channel is open (or its target or extranonce prefix changed): custom jobs may be set.
        case channel(Channel)
        /// SetCustomMiningJob.Success: the pool's id of the job set with `requestID`.
        case jobSet(requestID: UInt32, jobID: UInt32)
        /// SetCustomMiningJob.Error for `requestID`.
        case jobRefused(requestID: UInt32, code: String)
        /// The pool asks the client to move (Reconnect; an empty host means the same one).
        case reconnect(host: String, port: Int)
    }

    /// The session's actions.
    public typealias Action = SessionAction<Sv2Message, Effect>

    private enum State: Sendable {
        case awaitingSetup
        case awaitingChannel
        case open(Channel)
        case closed
    }

    private let setup: SetupConnection
    private let user: Sv2String
    private let nominalHashRate: Float
    private let extranonceSize: Int
    private var state = State.awaitingSetup
    private var sequence: UInt32 = 0
    /// Shares the pool acknowledged.
    public private(set) var accepted: UInt64 = 0
    /// Shares the pool refused.
    public private(set) var rejected: UInt64 = 0

    /// A session that sets up with `setup` (REQUIRES_WORK_SELECTION is added) and opens a channel for `user`
    /// announcing `nominalHashRate`, with at least `extranonceSize` bytes for the client.
    public init(setup: SetupConnection, user: String, nominalHashRate: Float, extranonceSize: Int) {
        var setup = setup
        setup.flags |= MiningSetupFlags.requiresWorkSelection.rawValue
        self.setup = setup
        self.user = Sv2String(user)
        self.nominalHashRate = nominalHashRate
        self.extranonceSize = extranonceSize
    }

    /// True once the channel is open.
    public var isSetUp: Bool { channel != nil }

    /// The open channel.
    public var channel: Channel? {
        if case let .open(channel) = state { return channel }
        return nil
    }

    /// SetupConnection.
    public mutating func start(now: Timestamp) -> [Action] {
        [.send(.setupConnection(setup))]
    }

    /// SetCustomMiningJob on the channel (its channel_id filled in); nothing before the channel is open.
    public mutating func setCustomJob(_ job: SetCustomMiningJob) -> [Action] {
        guard let channel else { return [] }
        var job = job
        job.channelID = channel.id
        return [.send(.setCustomMiningJob(job))]
    }

    /// SubmitSharesExtended for the pool's job `jobID`; `extranonce` is the client's part.
    public mutating func submit(jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32, extranonce: [UInt8]) -> [Action] {
        guard let channel else { return [] }
        sequence &+= 1
        return [.send(.submitSharesExtended(SubmitSharesExtended(
            channelID: channel.id, sequenceNumber: sequence, jobID: jobID, nonce: nonce, ntime: ntime, version: version, extranonce: extranonce)))]
    }

    /// A message from the pool.
    public mutating func receive(_ message: Sv2Message, now: Timestamp) -> [Action] {
        if case let .reconnect(reconnect) = message {
            let host = reconnect.newHost.bytes.isEmpty ? setup.endpointHost.description : reconnect.newHost.description
            return [.effect(.reconnect(host: host, port: Int(reconnect.newPort)))]
        }
        switch (state, message) {
        case (.closed, _):
            return []
        case (.awaitingSetup, .setupConnectionSuccess):
            state = .awaitingChannel
            return [.send(.openExtendedMiningChannel(OpenExtendedMiningChannel(
                requestID: 1, userIdentity: user, nominalHashRate: nominalHashRate, maxTarget: .max, minExtranonceSize: UInt16(clamping: extranonceSize))))]
        case let (.awaitingSetup, .setupConnectionError(error)):
            state = .closed
            return [.close("the pool refused SetupConnection: \(error.errorCode) (it must take REQUIRES_WORK_SELECTION)")]
        case let (.awaitingChannel, .openExtendedMiningChannelSuccess(success)):
            guard Int(success.extranonceSize) >= extranonceSize, success.extranoncePrefix.count + Int(success.extranonceSize) <= 32 else {
                state = .closed
                return [.close("the pool's channel leaves \(success.extranonceSize) extranonce bytes after a \(success.extranoncePrefix.count)-byte prefix; the devices need \(extranonceSize), and the whole is at most 32")]
            }
            let channel = Channel(
                id: success.channelID, target: success.target, extranoncePrefix: success.extranoncePrefix, extranonceSize: Int(success.extranonceSize))
            state = .open(channel)
            return [.info("channel \(channel.id) open on the pool for custom jobs"), .effect(.channel(channel))]
        case let (.awaitingChannel, .openMiningChannelError(error)):
            state = .closed
            return [.close("the pool refused the channel: \(error.errorCode)")]
        case (.open(var channel), let .setTarget(target)) where target.channelID == channel.id:
            channel.target = target.maximumTarget
            state = .open(channel)
            return [.effect(.channel(channel))]
        case (.open(var channel), let .setExtranoncePrefix(prefix)) where prefix.channelID == channel.id:
            // The full extranonce keeps its size; the client's part is what the new prefix leaves.
            let size = channel.extranoncePrefix.count + channel.extranonceSize - prefix.extranoncePrefix.count
            guard size >= extranonceSize else {
                state = .closed
                return [.close("SetExtranoncePrefix leaves \(size) extranonce bytes; the devices need \(extranonceSize)")]
            }
            channel.extranoncePrefix = prefix.extranoncePrefix
            channel.extranonceSize = size
            state = .open(channel)
            return [.effect(.channel(channel))]
        case let (.open, .setCustomMiningJobSuccess(success)):
            return [.effect(.jobSet(requestID: success.requestID, jobID: success.jobID))]
        case let (.open, .setCustomMiningJobError(error)):
            return [.effect(.jobRefused(requestID: error.requestID, code: error.errorCode.description))]
        case let (.open, .submitSharesSuccess(success)):
            accepted &+= UInt64(success.newSubmitsAcceptedCount)
            return []
        case let (.open, .submitSharesError(error)):
            rejected &+= 1
            return [.warning("the pool refused a share: \(error.errorCode)", ["sequence": "\(error.sequenceNumber)"])]
        case (.open, .newExtendedMiningJob), (.open, .newMiningJob), (.open, .setNewPrevHash):
            return []  // the pool's own work: the client mines its own templates
        default:
            return [.debug("\(message.name) from the pool: ignored")]
        }
    }
}
