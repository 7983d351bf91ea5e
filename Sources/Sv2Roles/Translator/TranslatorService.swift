import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv1
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network

/// `sv2 translate`: Stratum V1 mining devices downstream, extended Sv2 channels upstream: one for all miners
/// (aggregated mode) or one per miner, each a ``TranslatorUpstream``.
///
/// In aggregated mode every Sv1 connection gets its own extranonce1 (4 bytes, unique among live connections) inside
/// the upstream channel's extranonce, so all miners share one channel and one job stream. Upstream jobs become mining.notify for
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
        /// One upstream channel for all miners (true) or one per miner, each on its own connection (false).
        public var aggregate: Bool
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
            host: String, port: Int, upstreams: [Upstream], aggregate: Bool = true, downstream: Sv1ServerConfiguration, extranonce1Size: Int = 4,
            maximumLineLength: Int = 16_384, maximumClients: Int = 100_000, jobKeepalive: TimeAmount = .seconds(60),
            vardiffInterval: TimeAmount = .seconds(5), initialBackoff: TimeAmount = .seconds(1), maximumBackoff: TimeAmount = .seconds(5)
        ) {
            self.host = host
            self.port = port
            self.upstreams = upstreams
            self.aggregate = aggregate
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
    let logger: Logger
    private let lock = NIOLock()
    private var clients = 0
    private var nextExtranonce1: UInt32 = 0
    private var currentJob: TranslatorJob?
    private var server: Channel?
    private var vardiffTasks = [RepeatedTask]()
    /// The one upstream channel of aggregated mode (nil in per-miner mode, where every miner has its own).
    private var aggregated: TranslatorUpstream?
    /// The miners of each event loop, each set only touched on its loop: a job is one task per loop and vardiff one
    /// timer per loop, not one per connection (a repeated task per connection costs about 0.8 KiB).
    private let loops: [ObjectIdentifier: (loop: EventLoop, miners: LoopMiners)]

    /// A service; nothing runs until ``start()``.
    public init(configuration: Configuration, group: EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        var loops = [ObjectIdentifier: (loop: EventLoop, miners: LoopMiners)]()
        for loop in group.makeIterator() { loops[ObjectIdentifier(loop)] = (loop, LoopMiners()) }
        self.loops = loops
        if configuration.aggregate {
            aggregated = TranslatorUpstream(configuration: configuration, eventLoop: group.next(), logger: logger) { [weak self] job in
                self?.broadcast(job)
            }
        }
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
        aggregated?.start()
        return channel.localAddress
    }

    /// Stops: closes the upstream channel and every miner connection.
    public func stop() {
        try? aggregated?.stop().wait()
        let (server, tasks) = lock.withLock { (self.server, vardiffTasks) }
        try? server?.close().wait()
        for task in tasks { task.cancel() }
        for (loop, miners) in loops.values {
            try? loop.submit { for handler in miners.handlers.values { handler.close(reason: nil) } }.wait()
        }
        if let statistics = aggregated?.statistics {
            logger.info("stopped: upstream accepted \(statistics.accepted), rejected \(statistics.rejected), blocks \(statistics.blocks)")
        } else {
            logger.info("stopped")
        }
    }

    /// Miners connected now.
    public var clientCount: Int { lock.withLock { clients } }

    // MARK: - Miners

    var downstreamConfiguration: Sv1ServerConfiguration { configuration.downstream }
    /// True when all miners share one upstream channel.
    var isAggregated: Bool { aggregated != nil }
    var maximumLineLength: Int { configuration.maximumLineLength }

    /// A new miner connection on `loop` (called there): its extranonce1, the current job and the upstream channel
    /// its shares go to (the shared one, or in per-miner mode its own, which the connection starts once the miner
    /// has authorized, so that the channel carries its user name); nil when the connection limit is reached.
    func register(_ handler: Sv1ConnectionHandler, on loop: EventLoop) -> (extranonce1: [UInt8], job: TranslatorJob?, upstream: TranslatorUpstream)? {
        guard let miners = loops[ObjectIdentifier(loop)]?.miners else { return nil }
        let registered = lock.withLock { () -> (extranonce1: [UInt8], job: TranslatorJob?)? in
            guard clients < configuration.maximumClients else { return nil }
            clients += 1
            let index = nextExtranonce1
            nextExtranonce1 &+= 1
            let bytes = (0..<configuration.extranonce1Size).reversed().map { UInt8(truncatingIfNeeded: $0 < 4 ? index >> (8 * UInt32($0)) : 0) }
            return (bytes, currentJob)
        }
        guard let registered else { return nil }
        miners.handlers[ObjectIdentifier(handler)] = handler
        if let aggregated { return (registered.extranonce1, registered.job, aggregated) }
        // Per-miner mode: a channel of its own on the miner's event loop; its jobs go to this miner alone.
        let own = TranslatorUpstream(configuration: configuration, eventLoop: loop, logger: logger) { [weak handler] job in
            handler?.deliver(job, line: ByteBuffer(bytes: job.notifyLine))
        }
        return (registered.extranonce1, nil, own)
    }

    /// A miner connection on `loop` has closed (called there).
    func unregister(_ handler: Sv1ConnectionHandler, on loop: EventLoop) {
        guard loops[ObjectIdentifier(loop)]?.miners.handlers.removeValue(forKey: ObjectIdentifier(handler)) != nil else { return }
        lock.withLock { clients -= 1 }
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
}

/// The miners of one event loop; only touched on that loop.
final class LoopMiners: @unchecked Sendable {
    /// The loop's miner connections.
    var handlers = [ObjectIdentifier: Sv1ConnectionHandler]()
}

/// One Sv1 miner connection: newline framing, the JSON-RPC codec and its ``Sv1ServerSession``.
final class Sv1ConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let service: TranslatorService
    private var framer: Sv1LineFramer
    private var session: Sv1ServerSession?
    private var context: ChannelHandlerContext?
    private var upstream: TranslatorUpstream?
    private var ownUpstreamStarted = false

    init(service: TranslatorService) {
        self.service = service
        self.framer = Sv1LineFramer(maximumLineLength: service.maximumLineLength)
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let (extranonce1, job, upstream) = service.register(self, on: context.eventLoop) else {
            service.logger.warning("\(context.channel.peerDescription): refused: the translator has its maximum of clients")
            context.close(promise: nil)
            return
        }
        var session = Sv1ServerSession(configuration: service.downstreamConfiguration, extranonce1: extranonce1, now: Self.now())
        if let job { _ = session.newJob(job) }
        self.session = session
        self.upstream = upstream
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.unregister(self, on: context.eventLoop)
        if let upstream, !service.isAggregated { _ = upstream.stop() }
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
        if !ownUpstreamStarted, !service.isAggregated, let user = session?.userName, session?.isMining == true {
            ownUpstreamStarted = true
            upstream?.start(userIdentity: user)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger.warning("\(context.channel.peerDescription): \(error)")
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
            if let reason { self.service.logger.warning("\(context.channel.peerDescription): disconnected: \(reason)") }
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
                upstream?.submit(share)
            case let .log(line):
                service.logger.debug("\(context.channel.peerDescription): \(line)")
            }
        }
        if wrote { context.flush() }
    }
}
