import Bitcoin
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Network

/// The mining server of `sv2 pool`: accepts miners over Noise, turns the template provider's templates into jobs,
/// runs one ``PoolSession`` per connection on that connection's event loop, and sends found blocks back to the
/// template provider. Per-user accepted shares and work are kept for the life of the process and logged.
public final class PoolService: @unchecked Sendable {
    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Address to listen on.
        public var host: String
        /// Port to listen on (0 picks a free one).
        public var port: Int
        /// Noise responder identity, or plaintext.
        public var transport: Sv2TransportConfiguration
        /// Channel, share and vardiff settings.
        public var session: PoolSessionConfiguration
        /// Where the block reward goes.
        public var rewardScript: [UInt8]
        /// The pool's tag in the coinbase (`Sv2/<pool_signature>//`).
        public var poolSignature: String
        /// How often vardiff looks at every channel.
        public var vardiffInterval: TimeAmount
        /// How often per-user statistics are logged.
        public var statisticsInterval: TimeAmount
        /// Where miners are sent (Reconnect, spec 3.9) when the pool shuts down; nil just closes their connections.
        public var shutdownReconnect: (host: String, port: Int)?

        /// Settings; vardiff every 5 s, statistics every 60 s.
        public init(
            host: String, port: Int, transport: Sv2TransportConfiguration, session: PoolSessionConfiguration, rewardScript: [UInt8],
            poolSignature: String, vardiffInterval: TimeAmount = .seconds(5), statisticsInterval: TimeAmount = .seconds(60),
            shutdownReconnect: (host: String, port: Int)? = nil
        ) {
            self.host = host
            self.port = port
            self.transport = transport
            self.session = session
            self.rewardScript = rewardScript
            self.poolSignature = poolSignature
            self.vardiffInterval = vardiffInterval
            self.statisticsInterval = statisticsInterval
            self.shutdownReconnect = shutdownReconnect
        }
    }

    /// What every session hears about: a job or a new tip.
    enum Event: Sendable {
        case job(PoolJob)
        case prevHash(PoolPrevHash)
    }

    private let configuration: Configuration
    private let group: EventLoopGroup
    let logger: Logger
    private let lock = NIOLock()
    private var connections = [ObjectIdentifier: PoolConnectionHandler]()
    private var nextConnection: UInt32 = 0
    private var jobsByTemplate = [UInt64: PoolJob]()
    private var nextJobID: UInt32 = 1
    private var tip: (prevHash: PoolPrevHash, job: PoolJob)?
    private var latestJob: PoolJob?
    private var statistics = [String: ShareTally]()
    private var server: Channel?
    private var statisticsTask: RepeatedTask?
    private var submitter: (@Sendable (SubmitSolution) -> Bool)?

    /// A service; nothing runs until ``start(submitter:)``.
    public init(configuration: Configuration, group: EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    /// Binds the listening socket; found blocks go to `submitter` (false: the provider is unreachable). Returns the
    /// bound address.
    public func start(submitter: @escaping @Sendable (SubmitSolution) -> Bool) throws -> SocketAddress? {
        lock.withLock { self.submitter = submitter }
        let channel = try Sv2Connections.listen(
            host: configuration.host, port: configuration.port, group: group, configuration: configuration.transport
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(PoolConnectionHandler(service: self))
            }
        }.wait()
        let interval = configuration.statisticsInterval
        lock.withLock {
            server = channel
            statisticsTask = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
                self?.logStatistics(final: false)
            }
        }
        return channel.localAddress
    }

    /// Closes every connection (after a Reconnect to ``Configuration/shutdownReconnect`` when set) and logs the
    /// final statistics.
    public func stop() {
        let (server, handlers) = lock.withLock { () -> (Channel?, [PoolConnectionHandler]) in
            statisticsTask?.cancel()
            return (self.server, Array(connections.values))
        }
        try? server?.close().wait()
        if let target = configuration.shutdownReconnect, !handlers.isEmpty {
            logger.info("sending \(handlers.count) connection(s) to \(target.host):\(target.port)")
        }
        let closed = handlers.map { $0.close(reconnectingTo: configuration.shutdownReconnect) }
        for future in closed { try? future?.wait() }
        logStatistics(final: true)
    }

    /// Number of connected miners (connections).
    public var connectionCount: Int { lock.withLock { connections.count } }

    /// Accepted/rejected shares, work and blocks per user since start.
    public var userStatistics: [String: ShareTally] { lock.withLock { statistics } }

    // MARK: - Templates

    /// Turns a template provider event into jobs for every connection.
    public func handle(_ event: TemplateDistributionClient.Event) {
        let outgoing: Event?
        switch event {
        case let .template(template):
            outgoing = lock.withLock { () -> Event? in
                let job: PoolJob
                do {
                    job = try PoolJob(
                        id: nextJobID, template: template, rewardScript: configuration.rewardScript,
                        poolTag: configuration.poolSignature, extranonceLength: configuration.session.extranonceLength)
                } catch {
                    logger.error("template \(template.templateID) cannot be mined: \(error)")
                    return nil
                }
                nextJobID = nextJobID == UInt32.max ? 1 : nextJobID + 1
                jobsByTemplate[template.templateID] = job
                if jobsByTemplate.count > 256, let oldest = jobsByTemplate.keys.min() { jobsByTemplate[oldest] = nil }
                if !job.isFuture {
                    guard tip != nil else { return nil }
                    latestJob = job
                }
                return .job(job)
            }
        case let .prevHash(message):
            outgoing = lock.withLock { () -> Event? in
                guard let job = jobsByTemplate[message.templateID] else {
                    logger.warning("SetNewPrevHash for unknown template \(message.templateID): ignored")
                    return nil
                }
                let prevHash = PoolPrevHash(
                    jobID: job.id, prevHash: message.prevHash, minNtime: message.headerTimestamp, nBits: message.nBits,
                    networkTarget: message.target)
                tip = (prevHash, job)
                latestJob = job
                jobsByTemplate = jobsByTemplate.filter { $0.value.isFuture && $0.value.id != job.id }
                return .prevHash(prevHash)
            }
            logger.info("new tip \(message.prevHash.displayHex), mining template \(message.templateID)")
        }
        guard let outgoing else { return }
        for handler in lock.withLock({ Array(connections.values) }) { handler.deliver([outgoing]) }
    }

    // MARK: - Connections

    /// A new connection: its extranonce prefix (unique among live connections) and the events that bring its
    /// session up to date.
    func register(_ handler: PoolConnectionHandler) -> (prefix: [UInt8], events: [Event]) {
        lock.withLock {
            connections[ObjectIdentifier(handler)] = handler
            let index = nextConnection
            nextConnection &+= 1
            var events = [Event]()
            if let tip {
                events = [.job(tip.job), .prevHash(tip.prevHash)]
                if let latestJob, latestJob.id != tip.job.id { events.append(.job(latestJob)) }
            }
            return ([UInt8(index >> 24), UInt8(truncatingIfNeeded: index >> 16), UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)], events)
        }
    }

    func unregister(_ handler: PoolConnectionHandler) {
        lock.withLock { connections[ObjectIdentifier(handler)] = nil }
    }

    var sessionConfiguration: PoolSessionConfiguration { configuration.session }
    var vardiffInterval: TimeAmount { configuration.vardiffInterval }

    /// A share that is a block: logged and submitted to the template provider.
    func submit(_ block: FoundBlock) {
        let submitter = lock.withLock { self.submitter }
        let sent = submitter?(block.solution) ?? false
        if sent {
            logger.info("block found by \"\(block.user)\": \(block.hash.displayHex) (template \(block.templateID)), submitted")
        } else {
            logger.error("block found by \"\(block.user)\": \(block.hash.displayHex) but the template provider is not connected")
        }
    }

    /// Adds a session's tallies to the per-user statistics.
    func record(_ tallies: [String: ShareTally]) {
        guard !tallies.isEmpty else { return }
        lock.withLock {
            for (user, tally) in tallies { statistics[user, default: ShareTally()].add(tally) }
        }
    }

    private func logStatistics(final: Bool) {
        let statistics = lock.withLock { self.statistics }
        for (user, tally) in statistics.sorted(by: { $0.key < $1.key }) {
            logger.info("\(final ? "final: " : "")user \"\(user)\": \(tally.accepted) accepted, \(tally.rejected) rejected, \(tally.blocks) blocks, work \(String(format: "%.3g", tally.work)) hashes")
        }
    }
}

/// One miner connection: its ``PoolSession`` and the glue that carries out the session's actions.
final class PoolConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    private let service: PoolService
    private var session: PoolSession?
    private var context: ChannelHandlerContext?
    private var vardiffTask: RepeatedTask?

    init(service: PoolService) {
        self.service = service
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        let (prefix, events) = service.register(self)
        do {
            var session = try PoolSession(configuration: service.sessionConfiguration, connectionPrefix: prefix)
            apply(events, to: &session)
            self.session = session
        } catch {
            service.logger.error("\(context.channel.peerDescription): \(error)")
            context.close(promise: nil)
        }
        let interval = service.vardiffInterval
        vardiffTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            guard let self, var session = self.session else { return }
            self.session = nil
            let actions = session.tick(now: Self.now())
            self.session = session
            self.perform(actions)
            self.context?.flush()
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        vardiffTask?.cancel()
        if var session { service.record(session.collectTallies()) }
        service.unregister(self)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var session else { return }
        self.session = nil
        let actions = session.receive(unwrapInboundIn(data).message, now: Self.now())
        self.session = session
        perform(actions)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if var session {
            self.session = nil
            let actions = session.acknowledgeShares()
            let tallies = session.collectTallies()
            self.session = session
            perform(actions)
            service.record(tallies)
        }
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger.warning("\(context.channel.peerDescription): \(error)")
        context.close(promise: nil)
    }

    /// Applies pool events on this connection's event loop.
    func deliver(_ events: [PoolService.Event]) {
        guard let loop = context?.eventLoop else { return }
        loop.execute {
            guard var session = self.session else { return }
            self.session = nil
            let actions = self.apply(events, to: &session)
            self.session = session
            self.perform(actions)
            self.context?.flush()
        }
    }

    /// Closes the connection (pool shutdown), first sending Reconnect to `target` when given; completes when closed.
    func close(reconnectingTo target: (host: String, port: Int)?) -> EventLoopFuture<Void>? {
        guard let loop = context?.eventLoop else { return nil }
        return loop.submit {
            guard let context = self.context else { return }
            if let target, var session = self.session {
                self.session = nil
                let actions = session.reconnect(host: target.host, port: UInt16(clamping: target.port))
                self.session = session
                self.perform(actions)
            }
            context.flush()
            context.close(promise: nil)
        }
    }

    @discardableResult
    private func apply(_ events: [PoolService.Event], to session: inout PoolSession) -> [PoolAction] {
        var actions = [PoolAction]()
        for event in events {
            switch event {
            case let .job(job): actions += session.newJob(job)
            case let .prevHash(prevHash): actions += session.newPrevHash(prevHash)
            }
        }
        return actions
    }

    private func perform(_ actions: [PoolAction]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case let .send(message):
                context.write(wrapOutboundOut(.message(message)), promise: nil)
            case let .submitBlock(block):
                service.submit(block)
            case let .log(line):
                service.logger.info("\(context.channel.peerDescription): \(line)")
            case let .warn(line):
                service.logger.warning("\(context.channel.peerDescription): \(line)")
            case let .close(reason):
                service.logger.warning("\(context.channel.peerDescription): closing: \(reason)")
                context.flush()
                context.close(promise: nil)
            }
        }
    }
}
