import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Network

/// One upstream extended channel of the translator: the Sv2 connection to the first reachable pool of the list, its
/// ``MinerClientSession``, failover with backoff, and the jobs it hands out as ``TranslatorJob``s. All its state
/// lives on one event loop. In aggregated mode one link serves every miner; in per-miner mode each miner has its own.
final class TranslatorUpstream: @unchecked Sendable {
    private let upstreams: [TranslatorService.Upstream]
    private let extranonce1Size: Int
    private let extranonce2Size: Int
    private let initialBackoff: TimeAmount
    private let maximumBackoff: TimeAmount
    private let eventLoop: EventLoop
    private let logger: Logger
    private let deliver: @Sendable (TranslatorJob) -> Void
    private let lock = NIOLock()
    private var pendingShares = [FoundShare]()

    // Only on `eventLoop`.
    private var userIdentity: String?
    private var started = false
    private var index = 0
    private var connection: (id: UInt64, channel: Channel?)?
    private var connectionCount: UInt64 = 0
    private var session: MinerClientSession?
    private var carried = MinerStatistics()
    private var nextWorkID: UInt64 = 1
    private var nextJobNumber: UInt64 = 1
    private var lastWork: MiningWork?
    private var lastJobAt = NIODeadline.now()
    private var backoff: TimeAmount
    private var stopped = false
    private var keepaliveTask: RepeatedTask?

    /// A link to `upstreams` (in order of preference) whose jobs go to `deliver` (called on `eventLoop`).
    init(configuration: TranslatorService.Configuration, eventLoop: EventLoop, logger: Logger, deliver: @escaping @Sendable (TranslatorJob) -> Void) {
        upstreams = configuration.upstreams
        extranonce1Size = configuration.extranonce1Size
        extranonce2Size = configuration.downstream.extranonce2Size
        initialBackoff = configuration.initialBackoff
        maximumBackoff = configuration.maximumBackoff
        self.eventLoop = eventLoop
        self.logger = logger
        self.deliver = deliver
        backoff = configuration.initialBackoff
        let keepalive = configuration.jobKeepalive
        eventLoop.execute { [self] in
            keepaliveTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
                self?.keepJobsFresh(after: keepalive)
            }
        }
    }

    /// Connects to the first pool (once), opening the channel as `userIdentity` when given, else as the pool's
    /// configured user_identity.
    func start(userIdentity: String? = nil) {
        eventLoop.execute { [self] in
            guard !started else { return }
            started = true
            self.userIdentity = userIdentity
            connect()
        }
    }

    /// Closes the channel and the connection for good; completes when closed.
    func stop() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [self] in
            stopped = true
            keepaliveTask?.cancel()
            guard let channel = connection?.channel else { return eventLoop.makeSucceededVoidFuture() }
            if let actions = session?.close() { perform(actions, on: channel) }
            return channel.close()
        }
    }

    /// Upstream share counts so far.
    var statistics: MinerStatistics {
        (try? eventLoop.submit { [self] in session?.statistics ?? carried }.wait()) ?? carried
    }

    /// Submits a miner's share (it meets the upstream target). Shares wait in a queue that the upstream loop empties
    /// in one task, with one flush: one thread hop and one write per batch rather than per share.
    func submit(_ share: FoundShare) {
        let first = lock.withLock { () -> Bool in
            pendingShares.append(share)
            return pendingShares.count == 1
        }
        guard first else { return }
        eventLoop.execute { [self] in
            let shares = lock.withLock { () -> [FoundShare] in
                defer { pendingShares = [] }
                return pendingShares
            }
            guard let channel = connection?.channel, session != nil else {
                logger.warning("\(shares.count) share(s) could not be forwarded: no upstream channel")
                return
            }
            for share in shares {
                if let actions = session?.submit(share, lane: 0) { perform(actions, on: channel, flush: false) }
            }
            channel.flush()
        }
    }

    // MARK: - Connection (on eventLoop)

    private var current: TranslatorService.Upstream { upstreams[index % upstreams.count] }

    private func connect() {
        guard !stopped, !upstreams.isEmpty else { return }
        connectionCount += 1
        let id = connectionCount
        connection = (id, nil)
        let upstream = current
        logger.info("connecting to upstream \(upstream)")
        Sv2Connections.connect(
            host: upstream.host, port: upstream.port, group: eventLoop,
            configuration: Sv2TransportConfiguration(security: .initiator(authority: upstream.authority))
        ) { [self] channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TranslatorUpstreamHandler(upstream: self, connectionID: id))
            }
        }.whenFailure { [self] error in
            ended(id, reason: "cannot connect: \(error)")
        }
    }

    func ready(_ id: UInt64, channel: Channel) {
        guard connection?.id == id, !stopped else {
            channel.close(promise: nil)
            return
        }
        connection = (id, channel)
        let upstream = current
        let configuration = MinerSessionConfiguration(
            userIdentity: userIdentity ?? upstream.userIdentity, channelKind: .extended, channelCount: 1, requiresStandardJobs: false,
            nominalHashRate: 0, minimumExtranonceSize: UInt16(extranonce1Size + extranonce2Size), endpointHost: upstream.host,
            endpointPort: UInt16(clamping: upstream.port), vendor: "sv2", hardwareVersion: "", firmware: "sv2 translate", deviceID: "")
        var session = MinerClientSession(configuration: configuration, statistics: carried, firstWorkID: nextWorkID)
        let actions = session.start()
        self.session = session
        perform(actions, on: channel)
    }

    func received(_ message: Sv2Message, on id: UInt64) {
        guard connection?.id == id, let channel = connection?.channel, let actions = session?.receive(message) else { return }
        perform(actions, on: channel)
    }

    func ended(_ id: UInt64, reason: String) {
        guard connection?.id == id else { return }
        connection = nil
        if let session {
            carried = session.statistics
            nextWorkID = session.nextWorkID
        }
        session = nil
        lastWork = nil
        guard !stopped else { return }
        let failed = current
        index += 1
        let delay = backoff
        backoff = min(backoff * 2, maximumBackoff)
        logger.warning("upstream \(failed): \(reason); trying \(current) in \(Double(delay.nanoseconds) / 1e9) s (miners stay connected)")
        eventLoop.scheduleTask(in: delay) { [weak self] in self?.connect() }
    }

    func failed(_ error: Error) {
        logger.warning("upstream: \(error)")
    }

    /// Carries out the session's `actions`; with `flush` false the caller flushes what was written.
    private func perform(_ actions: [MinerClientSession.Action], on channel: Channel, flush: Bool = true) {
        for action in actions {
            switch action {
            case let .send(message):
                if flush {
                    channel.writeAndFlush(Sv2Outbound.message(message), promise: nil)
                } else {
                    channel.write(Sv2Outbound.message(message), promise: nil)
                }
            case let .setWork(_, work):
                if let work { newWork(work) }
            case let .event(event):
                record(event)
            case let .close(reason):
                logger.warning("closing the upstream connection: \(reason)")
                channel.close(promise: nil)
            case let .reconnect(host, port):
                logger.info("the pool asks to reconnect to \(host):\(port); going down the upstream list instead")
                channel.close(promise: nil)
            case let .fail(reason):
                logger.error("upstream refused the channel: \(reason)")
                channel.close(promise: nil)
            }
        }
    }

    // MARK: - Jobs (on eventLoop)

    private func newWork(_ work: MiningWork) {
        if let lastWork, work.hasSameSearchSpace(as: lastWork) {
            self.lastWork = work
            return
        }
        let clean = lastWork == nil || lastWork?.previousBlockHash != work.previousBlockHash
        lastWork = work
        issue(work, clean: clean, time: nil)
    }

    private func issue(_ work: MiningWork, clean: Bool, time: UInt32?) {
        let number = nextJobNumber
        nextJobNumber += 1
        guard let job = TranslatorJob(
            work: work, jobID: String(number, radix: 16), cleanJobs: clean, extranonce1Size: extranonce1Size,
            extranonce2Size: extranonce2Size, time: time)
        else {
            logger.error("the upstream channel leaves too few extranonce bytes for \(extranonce1Size) + \(extranonce2Size)")
            return
        }
        lastJobAt = .now()
        deliver(job)
    }

    private func keepJobsFresh(after interval: TimeAmount) {
        guard let lastWork, NIODeadline.now() - lastJobAt >= interval else { return }
        logger.info("no new job for \(interval.nanoseconds / 1_000_000_000) s: refreshing ntime")
        issue(lastWork, clean: false, time: UInt32(clamping: Int(Date().timeIntervalSince1970)))
    }

    private func record(_ event: MinerSessionEvent) {
        switch event {
        case let .setUp(flags):
            backoff = initialBackoff
            logger.info("upstream set up (flags 0x\(String(flags, radix: 16)))")
        case let .channelOpened(_, channelID, _, _, prefix, size, _):
            logger.info("upstream channel \(channelID) open: extranonce prefix \(Hex.encode(prefix)), \(size) bytes to share among miners")
        case let .channelRefused(_, reason):
            logger.warning("upstream channel refused: \(reason)")
        case let .channelClosed(_, channelID, reason):
            logger.warning("upstream closed channel \(channelID): \(reason)")
        case .targetChanged, .sharesAccepted:
            break
        case let .newPrevHash(hash, _):
            logger.info("new prevhash \(hash.displayHex)")
        case let .blockFound(_, hash):
            logger.info("block found: \(hash.displayHex)")
        case let .shareRejected(channelID, sequenceNumber, errorCode):
            logger.warning("upstream channel \(channelID): share \(sequenceNumber) rejected: \(errorCode)")
        case let .ignored(reason):
            logger.warning("upstream: ignored \(reason)")
        }
    }
}

/// The upstream connection's end of the pipeline.
final class TranslatorUpstreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame

    private let upstream: TranslatorUpstream
    private let connectionID: UInt64

    init(upstream: TranslatorUpstream, connectionID: UInt64) {
        self.upstream = upstream
        self.connectionID = connectionID
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Sv2TransportReady { upstream.ready(connectionID, channel: context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        upstream.received(unwrapInboundIn(data).message, on: connectionID)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstream.ended(connectionID, reason: "connection closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        upstream.failed(error)
        context.close(promise: nil)
    }
}
