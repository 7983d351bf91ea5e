import Logging
import NIOConcurrencyHelpers
import NIOCore
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Network

/// The client side of Template Distribution (spec 7) for a pool: connects to a template provider, sets up the
/// connection, states its coinbase needs and passes NewTemplate / SetNewPrevHash on; sends SubmitSolution.
/// When the provider goes away it reconnects with backoff (1 s doubling to 30 s).
public final class TemplateDistributionClient: @unchecked Sendable {
    /// What the provider sent.
    public enum Event: Sendable {
        /// A new template (future or for the current tip).
        case template(NewTemplate)
        /// A new tip, activating a future template.
        case prevHash(TemplateSetNewPrevHash)
    }

    private let host: String
    private let port: Int
    private let authority: XOnlyPublicKey?
    private let coinbaseOutputMaximumSize: UInt32
    private let group: EventLoopGroup
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void
    private let lock = NIOLock()
    private var channel: Channel?
    private var stopped = false
    private var backoff: Int64 = 1

    /// A client of the provider at `host`:`port` whose certificate must be signed by `authority` (nil: not
    /// checked), asking for room for `coinbaseOutputMaximumSize` bytes of coinbase outputs; `onEvent` runs on an
    /// event loop thread.
    public init(
        host: String, port: Int, authority: XOnlyPublicKey?, coinbaseOutputMaximumSize: UInt32, group: EventLoopGroup, logger: Logger,
        onEvent: @escaping @Sendable (Event) -> Void
    ) {
        self.host = host
        self.port = port
        self.authority = authority
        self.coinbaseOutputMaximumSize = coinbaseOutputMaximumSize
        self.group = group
        self.logger = logger
        self.onEvent = onEvent
    }

    /// Connects (and keeps reconnecting until ``stop()``).
    public func start() {
        connect()
    }

    /// Closes the connection for good.
    public func stop() {
        let channel = lock.withLock { () -> Channel? in
            stopped = true
            return self.channel
        }
        try? channel?.close().wait()
    }

    /// Sends a solution; false when not connected (the block is then lost to this provider, and logged).
    @discardableResult
    public func submit(_ solution: SubmitSolution) -> Bool {
        guard let channel = lock.withLock({ self.channel }) else { return false }
        channel.writeAndFlush(Sv2Outbound.message(.submitSolution(solution)), promise: nil)
        return true
    }

    private func connect() {
        let configuration = Sv2TransportConfiguration(security: .initiator(authority: authority))
        Sv2Connections.connect(host: host, port: port, group: group, configuration: configuration) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TemplateClientHandler(client: self))
            }
        }.whenComplete { result in
            switch result {
            case let .success(channel):
                let keep = self.lock.withLock { () -> Bool in
                    guard !self.stopped else { return false }
                    self.channel = channel
                    return true
                }
                if !keep { channel.close(promise: nil) }
                channel.closeFuture.whenComplete { _ in self.disconnected(channel) }
            case let .failure(error):
                self.retry(after: "cannot connect to the template provider at \(self.host):\(self.port): \(error)")
            }
        }
    }

    private func disconnected(_ channel: Channel) {
        let wasCurrent = lock.withLock { () -> Bool in
            guard self.channel === channel else { return false }
            self.channel = nil
            return true
        }
        if wasCurrent { retry(after: "lost the template provider at \(host):\(port)") }
    }

    private func retry(after reason: String) {
        let delay = lock.withLock { () -> Int64? in
            guard !stopped else { return nil }
            let delay = backoff
            backoff = min(backoff * 2, 30)
            return delay
        }
        guard let delay else { return }
        logger.warning("\(reason); retrying in \(delay) s")
        group.next().scheduleTask(in: .seconds(delay)) { self.connect() }
    }

    fileprivate func ready(_ context: ChannelHandlerContext) {
        context.write(NIOAny(Sv2Outbound.message(.setupConnection(SetupConnection(
            protocol: 2, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: Sv2String(host), endpointPort: UInt16(clamping: port),
            vendor: "sv2", hardwareVersion: "", firmware: "sv2 pool", deviceID: "")))), promise: nil)
        context.flush()
    }

    fileprivate func receive(_ message: Sv2Message, context: ChannelHandlerContext) {
        switch message {
        case .setupConnectionSuccess:
            lock.withLock { backoff = 1 }
            logger.info("template provider at \(host):\(port) connected")
            context.writeAndFlush(NIOAny(Sv2Outbound.message(.coinbaseOutputConstraints(CoinbaseOutputConstraints(
                coinbaseOutputMaxAdditionalSize: coinbaseOutputMaximumSize, coinbaseOutputMaxAdditionalSigops: 0)))), promise: nil)
        case let .setupConnectionError(error):
            logger.error("the template provider refused the connection: \(error.errorCode)")
            context.close(promise: nil)
        case let .newTemplate(template):
            onEvent(.template(template))
        case let .templateSetNewPrevHash(prevHash):
            onEvent(.prevHash(prevHash))
        default:
            logger.warning("template provider sent \(message.name): ignored")
        }
    }

    fileprivate func failed(_ error: Error) {
        logger.warning("template provider connection: \(error)")
    }
}

/// Pipeline end of a ``TemplateDistributionClient`` connection.
final class TemplateClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame

    private let client: TemplateDistributionClient

    init(client: TemplateDistributionClient) {
        self.client = client
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Sv2TransportReady { client.ready(context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.receive(unwrapInboundIn(data).message, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        client.failed(error)
        context.close(promise: nil)
    }
}
