import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions

/// One upstream connection of the translator as a ``ConnectionSession``: a ``MinerClientSession`` with one extended
/// channel, whose work becomes ``TranslatorJob``s for the Sv1 side. A new target on the same work is no new job; a
/// new prevhash (or the first work of a connection) makes a clean job; when no job came for the keepalive interval
/// the current one is re-issued with a fresh ntime. Job numbers, work ids and share counts continue from the
/// previous connection's session (``Carried``).
public struct TranslatorUpstreamSession: ConnectionSession {
    /// What the translator's glue does: hand a job to the Sv1 miners.
    public enum Effect: Hashable, Sendable {
        /// A job for the miners.
        case job(TranslatorJob)
        /// The upstream channel opened (true) or closed (false): shares can be credited, or cannot.
        case upstream(available: Bool)
        /// The pool acknowledged shares: each one's round trip (SubmitSharesExtended to its SubmitShares.Success).
        case acknowledged(roundTrips: [Duration])
    }

    /// Shares awaiting their answer whose send times are kept for the round trip (past it, the times kept so far are
    /// dropped: those shares go untimed).
    static let timedShareLimit = 4096

    /// The session's actions (messages with their TLV fields: extension 0x0002 tags each share with its miner).
    public typealias Action = SessionAction<Sv2TaggedMessage, Effect>

    /// What continues from one connection's session to the next.
    public struct Carried: Hashable, Sendable {
        /// Upstream share counts.
        public var statistics = MinerStatistics()
        /// The id of the next work.
        public var nextWorkID: UInt64 = 1
        /// The number of the next job (its mining.notify job id, in hex).
        public var nextJobNumber: UInt64 = 1

        /// Nothing carried yet.
        public init() {}
    }

    /// How jobs are laid out for the Sv1 side and kept fresh.
    public struct Layout: Hashable, Sendable {
        /// Bytes of each miner's extranonce1.
        public var extranonce1Size: Int
        /// Bytes of each miner's extranonce2.
        public var extranonce2Size: Int
        /// Re-issue the current job with a fresh ntime after this long without one.
        public var keepalive: Duration

        /// A layout.
        public init(extranonce1Size: Int, extranonce2Size: Int, keepalive: Duration) {
            self.extranonce1Size = extranonce1Size
            self.extranonce2Size = extranonce2Size
            self.keepalive = keepalive
        }
    }

    private var miner: MinerClientSession
    private let layout: Layout
    private var nextJobNumber: UInt64
    private var lastWork: MiningWork?
    private var lastJobAt = Timestamp(nanoseconds: 0)
    /// When each share still unanswered left, by sequence number.
    private var sentAt = [UInt32: Timestamp]()

    /// A session opening one extended channel as `configuration` says, continuing `carried`.
    public init(configuration: MinerSessionConfiguration, layout: Layout, carried: Carried = Carried()) {
        miner = MinerClientSession(configuration: configuration, statistics: carried.statistics, firstWorkID: carried.nextWorkID)
        self.layout = layout
        nextJobNumber = carried.nextJobNumber
    }

    /// What the next connection's session continues.
    public var carried: Carried {
        var carried = Carried()
        carried.statistics = miner.statistics
        carried.nextWorkID = miner.nextWorkID
        carried.nextJobNumber = nextJobNumber
        return carried
    }

    /// True once the pool accepted SetupConnection.
    public var isSetUp: Bool { miner.isSetUp }

    /// SetupConnection for the Mining Protocol.
    public mutating func start(now: Timestamp) -> [Action] {
        translate(miner.start(now: now), now: now)
    }

    /// A message from the pool.
    public mutating func receive(_ message: Sv2TaggedMessage, now: Timestamp) -> [Action] {
        translate(miner.receive(message, now: now), now: now)
    }

    /// The keepalive: the current job again with a fresh ntime when no job came for the interval; before setup, the
    /// extension negotiation's timeout.
    public mutating func tick(now: Timestamp) -> [Action] {
        // Before the channel opens the miner session's own tick matters: a pool that ignores RequestExtensions.
        guard miner.isSetUp else { return translate(miner.tick(now: now), now: now) }
        guard let lastWork, now - lastJobAt >= layout.keepalive else { return [] }
        return [.info("no new job for \(layout.keepalive.secondsText) s: refreshing ntime")]
            + issue(lastWork, clean: false, time: now.unixSeconds, now: now)
    }

    /// A share of the Sv1 miner authorized as `worker` that meets the upstream target: SubmitSharesExtended, with
    /// the worker's user_identity when the pool tracks workers (extension 0x0002).
    public mutating func submit(_ share: FoundShare, worker: String?, now: Timestamp) -> [Action] {
        translate(miner.submit(share, lane: 0, worker: worker), now: now)
    }

    /// The miners behind the channel now hash at `hashRate`: UpdateChannel on the open channel (spec 5.3.9 MUST),
    /// nothing while none is open (the next OpenExtendedMiningChannel carries the rate).
    public func announce(hashRate: Float) -> [Action] {
        guard let channelID = miner.openChannels.values.first else { return [] }
        return [.send(.updateChannel(UpdateChannel(channelID: channelID, nominalHashRate: hashRate, maximumTarget: .max)))]
    }

    /// The open channel as monitoring shows it, declaring `nominalHashRate`.
    public func monitoredChannels(nominalHashRate: Float) -> [ChannelSnapshot] {
        miner.monitoredChannels(nominalHashRate: nominalHashRate)
    }

    /// The translator stops: CloseChannel.
    public mutating func close(now: Timestamp) -> [Action] {
        translate(miner.close(), now: now)
    }

    private mutating func translate(_ actions: [MinerClientSession.Action], now: Timestamp) -> [Action] {
        var result = [Action]()
        for action in actions {
            switch action {
            case let .send(message):
                if case let .submitSharesExtended(share) = message.message {
                    // A pool that leaves shares unanswered must not stop the timing: past the limit it starts over.
                    if sentAt.count >= Self.timedShareLimit { sentAt.removeAll(keepingCapacity: true) }
                    sentAt[share.sequenceNumber] = now
                }
                result.append(.send(message))
            case let .close(reason): result.append(.close(reason))
            case let .log(line): result.append(.log(line))
            case let .effect(.setWork(_, work)): if let work { result += newWork(work, now: now) }
            case let .effect(.event(event)):
                if let line = event.upstreamLog { result.append(.log(line)) }
                switch event {
                case .channelOpened: result.append(.effect(.upstream(available: true)))
                case .channelClosed: result.append(.effect(.upstream(available: false)))
                case let .sharesAccepted(_, _, shares):
                    let trips = shares.compactMap { sentAt.removeValue(forKey: $0.sequenceNumber).map { now - $0 } }
                    if !trips.isEmpty { result.append(.effect(.acknowledged(roundTrips: trips))) }
                case let .shareRejected(_, sequenceNumber, _): sentAt[sequenceNumber] = nil
                default: break
                }
            case let .effect(.reconnect(host, port)):
                result.append(.close("the pool asks to reconnect to \(host):\(port); going down the upstream list instead"))
            case let .effect(.fail(reason)): result.append(.close("upstream refused the channel: \(reason)"))
            }
        }
        return result
    }

    private mutating func newWork(_ work: MiningWork, now: Timestamp) -> [Action] {
        if let lastWork, work.hasSameSearchSpace(as: lastWork) {
            self.lastWork = work
            return []
        }
        let clean = lastWork == nil || lastWork?.previousBlockHash != work.previousBlockHash
        lastWork = work
        return issue(work, clean: clean, time: nil, now: now)
    }

    private mutating func issue(_ work: MiningWork, clean: Bool, time: UInt32?, now: Timestamp) -> [Action] {
        let number = nextJobNumber
        nextJobNumber += 1
        guard let job = TranslatorJob(
            work: work, jobID: String(number, radix: 16), cleanJobs: clean, extranonce1Size: layout.extranonce1Size,
            extranonce2Size: layout.extranonce2Size, time: time)
        else {
            return [.log(SessionLog(
                .error, "the upstream channel leaves too few extranonce bytes for \(layout.extranonce1Size) + \(layout.extranonce2Size)"))]
        }
        lastJobAt = now
        return [.effect(.job(job))]
    }
}

extension MinerSessionEvent {
    /// The line a proxy or translator logs for its upstream channel's event (nil: not worth a line).
    public var upstreamLog: SessionLog? {
        switch self {
        case let .setUp(flags):
            return SessionLog(.info, "upstream set up (flags 0x\(String(flags, radix: 16)))")
        case let .channelOpened(_, channelID, _, _, prefix, size, _):
            return SessionLog(.info, "upstream channel \(channelID) open: extranonce prefix \(Hex.encode(prefix)), \(size) bytes to share among miners")
        case let .channelRefused(_, reason):
            return SessionLog(.warning, "upstream channel refused: \(reason)")
        case let .channelClosed(_, channelID, reason):
            return SessionLog(.warning, "upstream closed channel \(channelID): \(reason)")
        case let .extensionsNegotiated(tracksWorkers, detail):
            return SessionLog(.info, "upstream \(tracksWorkers ? "tracks each miner's shares (extension 0x0002)" : "does not track workers") (\(detail))")
        case .targetChanged, .sharesAccepted:
            return nil
        case let .newPrevHash(hash, _):
            return SessionLog(.info, "new prevhash \(hash.displayHex)")
        case let .blockFound(_, hash):
            return SessionLog(.info, "block found: \(hash.displayHex)")
        case let .shareRejected(channelID, sequenceNumber, errorCode):
            return SessionLog(.warning, "upstream share rejected: \(errorCode)", ["channel": "\(channelID)", "sequence": "\(sequenceNumber)"])
        case let .ignored(reason):
            return SessionLog(.warning, "upstream: ignored \(reason)")
        }
    }
}
