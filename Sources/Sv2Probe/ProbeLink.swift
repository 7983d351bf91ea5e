import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Network

/// Events of one connection, queued on the event loop and taken by one waiting task at a time (a second waiter
/// makes the first one time out at once).
final class ProbeInbox: @unchecked Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<ProbeEvent, Never>
        var timer: Task<Void, Never>?
    }

    private let lock = NIOLock()
    private var queue: [ProbeEvent] = []
    private var closedReason: String??
    private var waiter: Waiter?
    private var waiterCount: UInt64 = 0

    /// Queues `event`, or hands it to the waiting task.
    func push(_ event: ProbeEvent) {
        let taken: Waiter? = lock.withLock {
            if case let .closed(reason) = event {
                guard closedReason == nil else { return nil }
                closedReason = .some(reason)
            }
            if let waiter {
                self.waiter = nil
                return waiter
            }
            queue.append(event)
            return nil
        }
        taken?.timer?.cancel()
        taken?.continuation.resume(returning: event)
    }

    /// The next event, or `.timeout` after `seconds`.
    func next(within seconds: Double) async -> ProbeEvent {
        await withCheckedContinuation { continuation in
            let (id, displaced): (UInt64?, Waiter?) = lock.withLock {
                if !queue.isEmpty {
                    continuation.resume(returning: queue.removeFirst())
                    return (nil, nil)
                }
                if let closedReason {
                    continuation.resume(returning: .closed(closedReason))
                    return (nil, nil)
                }
                let displaced = waiter
                waiterCount += 1
                waiter = Waiter(id: waiterCount, continuation: continuation)
                return (waiterCount, displaced)
            }
            displaced?.timer?.cancel()
            displaced?.continuation.resume(returning: .timeout)
            guard let id else { return }
            let nanoseconds = UInt64(min(max(0, seconds), 86_400) * 1e9)
            let timer = Task {
                try? await Task.sleep(nanoseconds: nanoseconds)
                self.expire(id)
            }
            lock.withLock { if waiter?.id == id { waiter?.timer = timer } }
        }
    }

    private func expire(_ id: UInt64) {
        let taken: Waiter? = lock.withLock {
            guard let waiter, waiter.id == id else { return nil }
            self.waiter = nil
            return waiter
        }
        taken?.continuation.resume(returning: .timeout)
    }
}

/// Feeds a connection's messages and its end into a ``ProbeInbox``, and reports the handshake.
final class ProbeLinkHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame

    private let inbox: ProbeInbox
    private let ready: EventLoopPromise<Sv2TransportReady>
    private var isReady = false
    private var lastError: String?

    init(inbox: ProbeInbox, ready: EventLoopPromise<Sv2TransportReady>) {
        self.inbox = inbox
        self.ready = ready
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? Sv2TransportReady, !isReady {
            isReady = true
            ready.succeed(event)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func failReady(_ error: Error) {
        guard !isReady else { return }
        isReady = true
        ready.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.push(.message(unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        lastError = "\(error)"
        failReady(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failReady(Sv2NetworkError.closedDuringHandshake)
        inbox.push(.closed(lastError))
        context.fireChannelInactive()
    }
}

/// A probe connection over TCP with the Sv2 transport.
final class ProbeLink: ProbePeer {
    private let channel: Channel
    private let inbox: ProbeInbox
    private let sendTimeout: TimeAmount

    init(channel: Channel, inbox: ProbeInbox, sendTimeout: TimeAmount) {
        self.channel = channel
        self.inbox = inbox
        self.sendTimeout = sendTimeout
    }

    func send(_ message: Sv2Message, tlvs: [Sv2TLV]) async throws {
        try await write(.message(message, tlvs: tlvs))
    }

    func send(frame: Sv2Frame) async throws {
        try await write(.frame(frame))
    }

    /// Writes `outbound`; a peer that stops reading gets the connection closed after the send timeout.
    private func write(_ outbound: Sv2Outbound) async throws {
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: sendTimeout) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        try await channel.writeAndFlush(outbound).get()
    }

    func next(within seconds: Double) async -> ProbeEvent {
        await inbox.next(within: seconds)
    }

    func close() async {
        try? await channel.close().get()
    }
}

/// Counts what a raw connection receives and notices its end.
final class ProbeRawHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let ended: EventLoopPromise<Bool>
    private var isEnded = false
    private(set) var received = 0

    init(ended: EventLoopPromise<Bool>) {
        self.ended = ended
    }

    /// Reports whether the peer closed the connection (false: the wait ran out first); only the first call counts.
    func end(closed: Bool) {
        guard !isEnded else { return }
        isEnded = true
        ended.succeed(closed)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(closed: true)
        context.fireChannelInactive()
    }
}

/// Connections to `HOST:PORT` over TCP, with Noise NX (checking the certificate against the URL's authority key
/// when it has one) or in plaintext.
public struct ProbeTCPDialer: ProbeDialer {
    /// The endpoint's host.
    public var host: String
    /// Its port.
    public var port: Int
    /// Noise (with the authority key, if any) or plaintext.
    public var security: Sv2TransportSecurity
    /// The event loops connections run on.
    public var group: EventLoopGroup
    /// Time allowed for the TCP connection and the handshake.
    public var connectTimeout: TimeAmount

    /// A dialer for `host`:`port`.
    public init(host: String, port: Int, security: Sv2TransportSecurity, group: EventLoopGroup, connectTimeout: TimeAmount = .seconds(10)) {
        self.host = host
        self.port = port
        self.security = security
        self.group = group
        self.connectTimeout = connectTimeout
    }

    /// The host and port connections go to (what SetupConnection names).
    public var endpoint: (host: String, port: Int) { (host, port) }

    /// True when connections are plaintext.
    public var isPlaintext: Bool {
        if case .plaintext = security { return true }
        return false
    }

    /// A connection whose handshake completed.
    public func open() async throws -> (peer: any ProbePeer, handshake: ProbeHandshake) {
        let inbox = ProbeInbox()
        let eventLoop = group.next()
        let ready = eventLoop.makePromise(of: Sv2TransportReady.self)
        let configuration = Sv2TransportConfiguration(
            security: security, maximumPayloadLength: Sv2FrameHeader.maximumPayloadLength, handshakeTimeout: connectTimeout)
        let channel: Channel
        do {
            channel = try await Sv2Connections.connect(
                host: host, port: port, group: eventLoop, configuration: configuration, closesOnMalformedMessage: false,
                connectTimeout: connectTimeout
            ) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ProbeLinkHandler(inbox: inbox, ready: ready))
                }
            }.get()
        } catch {
            ready.fail(error)
            throw error
        }
        let event = try await ready.futureResult.get()
        var authorityChecked = false
        if case .initiator(authority: .some) = security { authorityChecked = true }
        let handshake = ProbeHandshake(
            validFrom: event.certificate?.validFrom, notValidAfter: event.certificate?.notValidAfter, authorityChecked: authorityChecked)
        return (ProbeLink(channel: channel, inbox: inbox, sendTimeout: connectTimeout), handshake)
    }

    /// Writes `bytes` on a bare TCP connection and waits up to `seconds` for the peer to close it.
    public func sendRaw(_ bytes: [UInt8], closedWithin seconds: Double) async throws -> (closed: Bool, received: Int) {
        let eventLoop = group.next()
        let ended = eventLoop.makePromise(of: Bool.self)
        let handler = ProbeRawHandler(ended: ended)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(connectTimeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .connect(host: host, port: port).get()
        } catch {
            ended.fail(error)
            throw error
        }
        try? await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
        let deadline = eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { handler.end(closed: false) }
        let didClose = try await ended.futureResult.get()
        deadline.cancel()
        let received = try await eventLoop.submit { handler.received }.get()
        try? await channel.close().get()
        return (didClose, received)
    }
}
