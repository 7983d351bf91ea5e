import Dispatch
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv1
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network

/// `sv2 translate`: Stratum V1 mining devices downstream, one extended Sv2 channel upstream (aggregated mode).
///
/// Every Sv1 connection gets its own extranonce1 (4 bytes, unique among live connections) inside the upstream
/// channel's extranonce, so all miners share one channel and one job stream. Upstream jobs become mining.notify for
/// everyone; a miner's share is checked against its own difficulty and forwarded when it meets the upstream target.
/// When the upstream drops, miners stay connected: the translator moves down its list of pools with backoff and
/// sends fresh clean jobs once a channel is open again; when no job arrives for the keepalive interval it re-issues
/// the current one with a fresh ntime.
public final class TranslatorService: @unchecked Sendable {
    /// An upstream pool.
    public struct Upstream: Sendable, CustomStringConvertible {
        /// Host.
        public var host: String
        /// Port.
        public var port: Int
        /// The pool's authority key (its certificate is checked against it).
        public var authority: XOnlyPublicKey
        /// user_identity of the channel.
        public var userIdentity: String

        /// An upstream.
        public init(host: String, port: Int, authority: XOnlyPublicKey, userIdentity: String) {
            self.host = host
            self.port = port
            self.authority = authority
            self.userIdentity = userIdentity
        }

        /// `host:port`.
        public var description: String { "\(host):\(port)" }
    }

    /// Settings of the service.
    public struct Configuration: Sendable {
        /// Sv1 listen host.
        public var host: String
        /// Sv1 listen port (0 picks one).
        public var port: Int
        /// Pools in order of preference.
        public var upstreams: [Upstream]
        /// The Sv1 side's difficulty, extranonce2 and version-rolling settings.
        public var downstream: Sv1ServerConfiguration
        /// Bytes of each miner's extranonce1.
        public var extranonce1Size: Int
        /// Longest line a miner may send.
        public var maximumLineLength: Int
        /// Most miners connected at once.
        public var maximumClients: Int
        /// Re-issue the current job with a fresh ntime when no job came for this long.
        public var jobKeepalive: TimeAmount
        /// How often vardiff looks at every miner.
        public var vardiffInterval: TimeAmount
        /// Reconnect delays: first, doubling up to the maximum.
        public var initialBackoff: TimeAmount
        /// Longest reconnect delay.
        public var maximumBackoff: TimeAmount

        /// Settings with the defaults of the issue (16 KiB lines, 60 s keepalive); reconnecting waits 1 s, doubling to
        /// 5 s, so miners get work again within seconds of the pool's return.
        public init(
            host: String, port: Int, upstreams: [Upstream], downstream: Sv1ServerConfiguration, extranonce1Size: Int = 4,
            maximumLineLength: Int = 16_384, maximumClients: Int = 100_000, jobKeepalive: TimeAmount = .seconds(60),
            vardiffInterval: TimeAmount = .seconds(5), initialBackoff: TimeAmount = .seconds(1), maximumBackoff: TimeAmount = .seconds(5)
        ) {
            self.host = host
            self.port = port
            self.upstreams = upstreams
            self.downstream = downstream
            self.extranonce1Size = extranonce1Size
            self.maximumLineLength = maximumLineLength
            self.maximumClients = maximumClients
            self.jobKeepalive = jobKeepalive
            self.vardiffInterval = vardiffInterval
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    private let configuration: Configuration
    private let group: EventLoopGroup
    private let upstreamLoop: EventLoop
    private let log: Sv2Log
    private let lock = NIOLock()
    private var clients = 0
    private var nextExtranonce1: UInt32 = 0
    private var currentJob: TranslatorJob?
    private var server: Channel?
    private var vardiffTasks = [RepeatedTask]()
    private var pendingShares = [FoundShare]()
    /// The miners of each event loop, each set only touched on its loop: a job is one task per loop and vardiff one
    /// timer per loop, not one per connection (a repeated task per connection costs about 0.8 KiB).
    private let loops: [ObjectIdentifier: (loop: EventLoop, miners: LoopMiners)]

    // Only on `upstreamLoop`.
    private var upstreamIndex = 0
    private var connection: (id: UInt64, channel: Channel?)?
    private var connectionCount: UInt64 = 0
    private var session: MinerClientSession?
    private var statistics = MinerStatistics()
    private var nextWorkID: UInt64 = 1
    private var nextJobNumber: UInt64 = 1
    private var lastWork: MiningWork?
    private var lastJobAt = NIODeadline.now()
    private var backoff: TimeAmount
    private var stopped = false
    private var keepaliveTask: RepeatedTask?

    /// A service; nothing runs until ``start()``.
    public init(configuration: Configuration, group: EventLoopGroup, log: Sv2Log) {
        self.configuration = configuration
        self.group = group
        self.upstreamLoop = group.next()
        self.log = log
        self.backoff = configuration.initialBackoff
        var loops = [ObjectIdentifier: (loop: EventLoop, miners: LoopMiners)]()
        for loop in group.makeIterator() { loops[ObjectIdentifier(loop)] = (loop, LoopMiners()) }
        self.loops = loops
    }

    /// Binds the Sv1 listener and starts connecting upstream; returns the bound address.
    public func start() throws -> SocketAddress? {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Sv1ConnectionHandler(service: self))
                }
            }
            .bind(host: configuration.host, port: configuration.port).wait()
        let interval = configuration.vardiffInterval
        let tasks = loops.values.map { loop, miners in
            loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                for miner in miners.handlers.values { miner.tick() }
            }
        }
        lock.withLock {
            server = channel
            vardiffTasks = tasks
        }
        let keepalive = configuration.jobKeepalive
        upstreamLoop.execute { [self] in
            keepaliveTask = upstreamLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
                self?.keepJobsFresh(after: keepalive)
            }
            connect()
        }
        return channel.localAddress
    }

    /// Stops: closes the upstream channel and every miner connection.
    public func stop() {
        let closed = upstreamLoop.submit { [self] () -> EventLoopFuture<Void>? in
            stopped = true
            keepaliveTask?.cancel()
            guard let channel = connection?.channel else { return nil }
            if let actions = session?.close() { perform(actions, on: channel) }
            return channel.close()
        }
        if let future = try? closed.wait() { try? future.wait() }
        let (server, tasks) = lock.withLock { (self.server, vardiffTasks) }
        try? server?.close().wait()
        for task in tasks { task.cancel() }
        for (loop, miners) in loops.values {
            try? loop.submit { for handler in miners.handlers.values { handler.close(reason: nil) } }.wait()
        }
        log(.info, "stopped: upstream accepted \(statistics.accepted), rejected \(statistics.rejected), blocks \(statistics.blocks)")
    }

    /// Miners connected now.
    public var clientCount: Int { lock.withLock { clients } }

    // MARK: - Miners

    var downstreamConfiguration: Sv1ServerConfiguration { configuration.downstream }
    var maximumLineLength: Int { configuration.maximumLineLength }
    var logger: Sv2Log { log }

    /// A new miner connection on `loop` (called there): its extranonce1 and the current job; nil when the
    /// connection limit is reached.
    func register(_ handler: Sv1ConnectionHandler, on loop: EventLoop) -> (extranonce1: [UInt8], job: TranslatorJob?)? {
        guard let miners = loops[ObjectIdentifier(loop)]?.miners else { return nil }
        let registered = lock.withLock { () -> (extranonce1: [UInt8], job: TranslatorJob?)? in
            guard clients < configuration.maximumClients else { return nil }
            clients += 1
            let index = nextExtranonce1
            nextExtranonce1 &+= 1
            let bytes = (0..<configuration.extranonce1Size).reversed().map { UInt8(truncatingIfNeeded: $0 < 4 ? index >> (8 * UInt32($0)) : 0) }
            return (bytes, currentJob)
        }
        if registered != nil { miners.handlers[ObjectIdentifier(handler)] = handler }
        return registered
    }

    /// A miner connection on `loop` has closed (called there).
    func unregister(_ handler: Sv1ConnectionHandler, on loop: EventLoop) {
        guard loops[ObjectIdentifier(loop)]?.miners.handlers.removeValue(forKey: ObjectIdentifier(handler)) != nil else { return }
        lock.withLock { clients -= 1 }
    }

    /// A share a miner found that meets the upstream target. Shares wait in a queue that the upstream loop empties
    /// in one task, with one flush: one thread hop and one write per batch rather than per share.
    func submit(_ share: FoundShare) {
        let first = lock.withLock { () -> Bool in
            pendingShares.append(share)
            return pendingShares.count == 1
        }
        guard first else { return }
        upstreamLoop.execute { [self] in
            let shares = lock.withLock { () -> [FoundShare] in
                let taken = pendingShares
                pendingShares = []
                return taken
            }
            guard let channel = connection?.channel, session != nil else {
                log(.warning, "\(shares.count) share(s) could not be forwarded: no upstream channel")
                return
            }
            for share in shares {
                if let actions = session?.submit(share, lane: 0) { perform(actions, on: channel, flush: false) }
            }
            channel.flush()
        }
    }

    /// Sends `job` to every miner, one task per event loop; the connections of a loop all write one buffer of its
    /// line (a buffer per loop, so that two threads do not count references on the same one).
    private func broadcast(_ job: TranslatorJob) {
        lock.withLock { currentJob = job }
        for (loop, miners) in loops.values {
            loop.execute {
                let line = ByteBuffer(bytes: job.notifyLine)
                for handler in miners.handlers.values { handler.deliver(job, line: line) }
            }
        }
    }

    // MARK: - Upstream (on upstreamLoop)

    private func connect() {
        guard !stopped, !configuration.upstreams.isEmpty else { return }
        connectionCount += 1
        let id = connectionCount
        connection = (id, nil)
        let upstream = configuration.upstreams[upstreamIndex % configuration.upstreams.count]
        log(.info, "connecting to upstream \(upstream)")
        Sv2Connections.connect(
            host: upstream.host, port: upstream.port, group: upstreamLoop,
            configuration: Sv2TransportConfiguration(security: .initiator(authority: upstream.authority))
        ) { [self] channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TranslatorUpstreamHandler(service: self, connectionID: id))
            }
        }.whenFailure { [self] error in
            upstreamEnded(id, reason: "cannot connect: \(error)")
        }
    }

    func upstreamReady(_ id: UInt64, channel: Channel) {
        guard connection?.id == id, !stopped else {
            channel.close(promise: nil)
            return
        }
        connection = (id, channel)
        let upstream = configuration.upstreams[upstreamIndex % configuration.upstreams.count]
        let sessionConfiguration = MinerSessionConfiguration(
            userIdentity: upstream.userIdentity, channelKind: .extended, channelCount: 1, requiresStandardJobs: false,
            nominalHashRate: 0, minimumExtranonceSize: UInt16(configuration.extranonce1Size + configuration.downstream.extranonce2Size),
            endpointHost: upstream.host, endpointPort: UInt16(clamping: upstream.port), vendor: "sv2", hardwareVersion: "",
            firmware: "sv2 translate", deviceID: "")
        var session = MinerClientSession(configuration: sessionConfiguration, statistics: statistics, firstWorkID: nextWorkID)
        let actions = session.start()
        self.session = session
        perform(actions, on: channel)
    }

    func upstreamReceived(_ message: Sv2Message, on id: UInt64) {
        guard connection?.id == id, let channel = connection?.channel, let actions = session?.receive(message) else { return }
        perform(actions, on: channel)
    }

    func upstreamEnded(_ id: UInt64, reason: String) {
        guard connection?.id == id else { return }
        connection = nil
        if let session {
            statistics = session.statistics
            nextWorkID = session.nextWorkID
        }
        session = nil
        lastWork = nil
        guard !stopped else { return }
        let failed = configuration.upstreams[upstreamIndex % configuration.upstreams.count]
        upstreamIndex += 1
        let delay = backoff
        backoff = min(backoff * 2, configuration.maximumBackoff)
        let next = configuration.upstreams[upstreamIndex % configuration.upstreams.count]
        log(.warning, "upstream \(failed): \(reason); trying \(next) in \(Double(delay.nanoseconds) / 1e9) s (miners stay connected)")
        upstreamLoop.scheduleTask(in: delay) { [weak self] in self?.connect() }
    }

    /// Carries out the upstream session's `actions`; with `flush` false the caller flushes what was written.
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
                log(.warning, "closing the upstream connection: \(reason)")
                channel.close(promise: nil)
            case let .reconnect(host, port):
                log(.info, "the pool asks to reconnect to \(host):\(port); going down the upstream list instead")
                channel.close(promise: nil)
            case let .fail(reason):
                log(.error, "upstream refused the channel: \(reason)")
                channel.close(promise: nil)
            }
        }
    }

    private func newWork(_ work: MiningWork) {
        if let lastWork, work.hasSameSearchSpace(as: lastWork) {
            self.lastWork = work
            return
        }
        let clean = lastWork?.previousBlockHash != work.previousBlockHash || lastWork == nil
        lastWork = work
        issue(work, clean: clean, time: nil)
    }

    private func issue(_ work: MiningWork, clean: Bool, time: UInt32?) {
        let number = nextJobNumber
        nextJobNumber += 1
        guard let job = TranslatorJob(
            work: work, jobID: String(number, radix: 16), cleanJobs: clean, extranonce1Size: configuration.extranonce1Size,
            extranonce2Size: configuration.downstream.extranonce2Size, time: time)
        else {
            log(.error, "the upstream channel leaves too few extranonce bytes for \(configuration.extranonce1Size) + \(configuration.downstream.extranonce2Size)")
            return
        }
        lastJobAt = .now()
        broadcast(job)
    }

    private func keepJobsFresh(after interval: TimeAmount) {
        guard let lastWork, NIODeadline.now() - lastJobAt >= interval else { return }
        log(.info, "no new job for \(interval.nanoseconds / 1_000_000_000) s: refreshing ntime")
        issue(lastWork, clean: false, time: UInt32(clamping: Int(Date().timeIntervalSince1970)))
    }

    private func record(_ event: MinerSessionEvent) {
        switch event {
        case let .setUp(flags):
            backoff = configuration.initialBackoff
            log(.info, "upstream set up (flags 0x\(String(flags, radix: 16)))")
        case let .channelOpened(_, channelID, _, _, prefix, size, _):
            log(.info, "upstream channel \(channelID) open: extranonce prefix \(Hex.encode(prefix)), \(size) bytes to share among miners")
        case let .channelRefused(_, reason):
            log(.warning, "upstream channel refused: \(reason)")
        case let .channelClosed(_, channelID, reason):
            log(.warning, "upstream closed channel \(channelID): \(reason)")
        case .targetChanged, .sharesAccepted:
            break
        case let .newPrevHash(hash, _):
            log(.info, "new prevhash \(hash.displayHex)")
        case let .blockFound(_, hash):
            log(.info, "block found: \(hash.displayHex)")
        case let .shareRejected(channelID, sequenceNumber, errorCode):
            log(.warning, "upstream channel \(channelID): share \(sequenceNumber) rejected: \(errorCode)")
        case let .ignored(reason):
            log(.warning, "upstream: ignored \(reason)")
        }
    }
}

/// The miners of one event loop; only touched on that loop.
final class LoopMiners: @unchecked Sendable {
    /// The loop's miner connections.
    var handlers = [ObjectIdentifier: Sv1ConnectionHandler]()
}

/// The upstream connection's end of the pipeline.
final class TranslatorUpstreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame

    private let service: TranslatorService
    private let connectionID: UInt64

    init(service: TranslatorService, connectionID: UInt64) {
        self.service = service
        self.connectionID = connectionID
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Sv2TransportReady { service.upstreamReady(connectionID, channel: context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        service.upstreamReceived(unwrapInboundIn(data).message, on: connectionID)
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.upstreamEnded(connectionID, reason: "connection closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger(.warning, "upstream: \(error)")
        context.close(promise: nil)
    }
}

/// One Sv1 miner connection: newline framing, the JSON-RPC codec and its ``Sv1ServerSession``.
final class Sv1ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let service: TranslatorService
    private var framer: Sv1LineFramer
    private var session: Sv1ServerSession?
    private var context: ChannelHandlerContext?

    init(service: TranslatorService) {
        self.service = service
        self.framer = Sv1LineFramer(maximumLineLength: service.maximumLineLength)
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let (extranonce1, job) = service.register(self, on: context.eventLoop) else {
            service.logger(.warning, "\(context.channel.peerDescription): refused: the translator has its maximum of clients")
            context.close(promise: nil)
            return
        }
        var session = Sv1ServerSession(configuration: service.downstreamConfiguration, extranonce1: extranonce1, now: Self.now())
        if let job { _ = session.newJob(job) }
        self.session = session
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.unregister(self, on: context.eventLoop)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data).readableBytesView)
        while true {
            let line: [UInt8]
            do {
                guard let next = try framer.nextLine() else { break }
                line = next
            } catch {
                close(reason: "\(error)")
                return
            }
            guard session != nil else { return }
            let actions: [Sv1ServerSession.Action]
            do {
                let message = try Sv1Codec.decode(line)
                actions = session?.receive(message, now: Self.now()) ?? []
            } catch {
                actions = [.send(.response(id: .null, result: .null, error: .array([.number("20"), .string("\(error)"), .null])))]
            }
            perform(actions)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger(.warning, "\(context.channel.peerDescription): \(error)")
        context.close(promise: nil)
    }

    /// A new job, on this connection's event loop; `line` holds its ``TranslatorJob/notifyLine``.
    func deliver(_ job: TranslatorJob, line: ByteBuffer) {
        guard let actions = session?.newJob(job) else { return }
        perform(actions, encoded: (job, line))
    }

    /// Vardiff, on this connection's event loop.
    func tick() {
        guard let actions = session?.tick(now: Self.now()) else { return }
        perform(actions)
    }

    /// Closes the connection, logging `reason` when given.
    func close(reason: String?) {
        guard let loop = context?.eventLoop else { return }
        loop.execute {
            guard let context = self.context else { return }
            if let reason { self.service.logger(.warning, "\(context.channel.peerDescription): disconnected: \(reason)") }
            context.close(promise: nil)
        }
    }

    /// Carries out `actions`; `encoded` is a job whose notify line is already in a buffer (shared, not copied).
    private func perform(_ actions: [Sv1ServerSession.Action], encoded: (job: TranslatorJob, line: ByteBuffer)? = nil) {
        guard let context else { return }
        var wrote = false
        for action in actions {
            switch action {
            case let .send(message):
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: Sv1Codec.encode(message))), promise: nil)
                wrote = true
            case let .notify(job):
                let line = encoded.flatMap { $0.job.notifyLine == job.notifyLine ? $0.line : nil }
                context.write(wrapOutboundOut(line ?? context.channel.allocator.buffer(bytes: job.notifyLine)), promise: nil)
                wrote = true
            case let .submit(share):
                service.submit(share)
            case let .log(line):
                service.logger(.debug, "\(context.channel.peerDescription): \(line)")
            }
        }
        if wrote { context.flush() }
    }
}
